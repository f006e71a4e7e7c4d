#pragma once
// The Guest interface over a launched Session, with the guest's filesystems mounted.
#include "guest/guest.h"
#include "guest/session.h"

namespace vmfix::guest {

class LibguestfsGuest : public Guest {
 public:
  explicit LibguestfsGuest(Session& session) : g_(session.handle()) {}

  std::optional<FileInfo> stat(const std::string& path) override;
  std::optional<FileInfo> stat_target(const std::string& path) override;
  std::string read(const std::string& path) override;
  std::string read_prefix(const std::string& path, size_t length) override;
  void write(const std::string& path, std::string_view content) override;
  std::vector<std::string> ls(const std::string& directory) override;
  void mkdir_p(const std::string& path) override;
  void rm(const std::string& path) override;
  void rm_rf(const std::string& path) override;
  void chmod(uint32_t mode, const std::string& path) override;
  void symlink(const std::string& target, const std::string& path) override;
  void download(const std::string& guest_path, const std::string& host_path) override;
  void upload(const std::string& host_path, const std::string& guest_path) override;
  std::string run(const std::vector<std::string>& argv) override;
  std::vector<Mountpoint> mountpoints() override;
  std::string read_device(const std::string& device, uint64_t offset, size_t length) override;
  void write_device(const std::string& device, uint64_t offset, std::string_view bytes) override;
  uint8_t mbr_partition_type(const std::string& device, int number) override;
  std::string resolve_case(const std::string& path) override;
  std::optional<std::string> xattr(const std::string& path, const std::string& name) override;
  void set_xattr(const std::string& path, const std::string& name, std::string_view value) override;

 private:
  std::string pread_whole(const std::string& path, uint64_t size, uint64_t limit);
  guestfs_h* g_;
};

}  // namespace vmfix::guest

#pragma once
// An in-memory guest filesystem for unit tests: no appliance, microseconds per call.
#include <functional>
#include <map>

#include "guest/guest.h"

namespace vmfix::guest {

class FakeGuest : public Guest {
 public:
  using CommandHandler = std::function<std::string(const std::vector<std::string>& argv)>;

  FakeGuest();

  // Test set-up: creates parent directories as needed.
  FakeGuest& add_file(const std::string& path, std::string_view content, uint32_t mode = 0644);
  FakeGuest& add_symlink(const std::string& path, const std::string& target);
  // A fifo, device node or socket: stat shows Kind::other, reading it is refused.
  FakeGuest& add_special(const std::string& path);
  FakeGuest& add_mountpoint(const std::string& path, const std::string& device);
  // A whole-disk device with these bytes; device() shows them after the code under test ran.
  FakeGuest& add_device(const std::string& device, std::string bytes);
  const std::string& device(const std::string& device) const;
  // Guest commands are answered by `handler`; without one, run() throws.
  void on_run(CommandHandler handler) { command_handler_ = std::move(handler); }
  const std::vector<std::vector<std::string>>& commands_run() const { return commands_run_; }

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
  void symlink(const std::string& target, const std::string& path) override { add_symlink(path, target); }
  void download(const std::string& guest_path, const std::string& host_path) override;
  void upload(const std::string& host_path, const std::string& guest_path) override;
  std::string run(const std::vector<std::string>& argv) override;
  std::vector<Mountpoint> mountpoints() override { return mountpoints_; }
  std::string read_device(const std::string& device, uint64_t offset, size_t length) override;
  void write_device(const std::string& device, uint64_t offset, std::string_view bytes) override;
  uint8_t mbr_partition_type(const std::string& device, int number) override;
  std::string resolve_case(const std::string& path) override;
  std::optional<std::string> xattr(const std::string& path, const std::string& name) override;
  void set_xattr(const std::string& path, const std::string& name, std::string_view value) override;

 private:
  struct Node {
    FileInfo::Kind kind;
    std::string content;  // file data, or symlink target
    uint32_t mode;
    int64_t mtime = 0;  // the write that made it, counted
    std::map<std::string, std::string> xattrs = {};
  };
  static std::string normalize(const std::string& path);
  static std::string parent_of(const std::string& path);
  const Node& node_or_throw(const std::string& path, const char* operation);
  // The node `path` leads to, symbolic links followed in every component as Linux does (at most
  // 40 of them); "" when nothing is there.
  std::string follow(const std::string& path);

  std::map<std::string, Node> nodes_;
  std::vector<Mountpoint> mountpoints_;
  std::map<std::string, std::string> devices_;
  int64_t writes_ = 0;
  CommandHandler command_handler_;
  std::vector<std::vector<std::string>> commands_run_;
};

}  // namespace vmfix::guest

#pragma once
// Files a session reads, downloads and uploads (registry hives, grub.cfg, fstab, the package
// database) kept on the host: each crosses the appliance once, however many inspectors, rules and
// fixers read it. Under software emulation a file costs about 0.3 s to fetch, and inspection,
// the rules and the re-check read the same dozen files several times over.
// Uploads wait in the cache until flush(); reads of a waiting file see the new content.
// Remembered contents and lookups (stat, case resolution) are dropped whenever the guest changes
// (a write, rm, symlink, device write, command, or the uploads of a flush): a file may be
// reachable under two names (/etc/grub2.cfg and /boot/grub2/grub.cfg), so a change under one name
// cannot tell which other copies went stale. Only what was just written or uploaded is kept.
#include <filesystem>
#include <functional>
#include <map>

#include "guest/guest.h"
#include "support/files.h"

namespace vmfix::guest {

class CachedGuest : public Guest {
 public:
  explicit CachedGuest(Guest& inner) : inner_(inner) {}

  // Uploads every file changed since the last flush. Unflushed changes are dropped on destruction.
  void flush();

  void download(const std::string& guest_path, const std::string& host_path) override;
  void upload(const std::string& host_path, const std::string& guest_path) override;
  std::optional<FileInfo> stat(const std::string& path) override;
  std::optional<FileInfo> stat_target(const std::string& path) override;
  std::string read(const std::string& path) override;
  std::string read_prefix(const std::string& path, size_t length) override;
  void write(const std::string& path, std::string_view content) override;
  void rm(const std::string& path) override;
  void rm_rf(const std::string& path) override;

  std::vector<std::string> ls(const std::string& directory) override { return inner_.ls(directory); }
  void mkdir_p(const std::string& path) override { forget_lookups(), inner_.mkdir_p(path); }
  void chmod(uint32_t mode, const std::string& path) override { forget_lookups(), inner_.chmod(mode, path); }
  void symlink(const std::string& target, const std::string& path) override {
    forget(path), inner_.symlink(target, path);
  }
  // A guest command sees every edit made so far (flush first) and may change any file: the cache
  // is emptied after it.
  std::string run(const std::vector<std::string>& argv) override;
  std::vector<Mountpoint> mountpoints() override { return inner_.mountpoints(); }
  std::string read_device(const std::string& device, uint64_t offset, size_t length) override {
    return inner_.read_device(device, offset, length);
  }
  void write_device(const std::string& device, uint64_t offset, std::string_view bytes) override {
    forget({});
    inner_.write_device(device, offset, bytes);
  }
  uint8_t mbr_partition_type(const std::string& device, int number) override {
    return inner_.mbr_partition_type(device, number);
  }
  std::string resolve_case(const std::string& path) override;
  std::optional<std::string> xattr(const std::string& path, const std::string& name) override {
    return inner_.xattr(path, name);
  }
  void set_xattr(const std::string& path, const std::string& name, std::string_view value) override {
    inner_.set_xattr(path, name, value);
  }

 private:
  struct Entry {
    std::filesystem::path file;
    bool dirty = false;
  };
  Entry& cached(const std::string& guest_path);  // downloads it the first time
  const Entry* waiting(const std::string& guest_path) const;
  const Entry* held(const std::string& guest_path) const;  // waiting or remembered
  // Drops the waiting uploads at or under `path_or_directory` (none for ""), every remembered
  // content and every lookup.
  void forget(const std::string& path_or_directory);
  // What `known` remembers for `path`, asked of `lookup` the first time; a file waiting for its
  // upload shows its new size.
  using Lookup = std::function<std::optional<FileInfo>(const std::string&)>;
  std::optional<FileInfo> looked_up(std::map<std::string, std::optional<FileInfo>>& known, const std::string& path,
                                    const Lookup& lookup);
  void forget_lookups() { stats_.clear(), targets_.clear(), resolved_.clear(); }
  Entry new_entry();  // a host file name never used before, even after a forget
  // Erases the entries `doomed` names, with their host copies.
  void drop_if(const std::function<bool(const std::string&, const Entry&)>& doomed);

  Guest& inner_;
  TempDir scratch_{"vmfix-guest-cache"};
  std::map<std::string, Entry> files_;
  size_t next_name_ = 0;  // host file names are never reused, even after forget()
  std::map<std::string, std::optional<FileInfo>> stats_;
  std::map<std::string, std::optional<FileInfo>> targets_;  // what stat_target found
  std::map<std::string, std::string> resolved_;
};

}  // namespace vmfix::guest

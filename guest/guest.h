#pragma once
// The Guest interface: every fixer and every config probe reads and edits the guest through it.
// Two implementations: LibguestfsGuest (the real appliance) and FakeGuest (in memory, for tests).
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "support/error.h"

namespace vmfix::guest {

// A failure reported by the guest side (libguestfs's own message, or the fake's).
class GuestError : public Error {
 public:
  explicit GuestError(const std::string& what) : Error(what, kExitInternal) {}
};

// A guest file vmfix will not read: what its path leads to is no regular file (a fifo, a device,
// a socket, a loop of symbolic links), or is larger than such a file can sensibly be. A crafted
// guest must not hang vmfix or fill the host's memory or disk; the message names the file.
class GuestFileRefused : public BadInput {
 public:
  explicit GuestFileRefused(const std::string& what) : BadInput(what) {}
};

// The most vmfix reads of a file whole into memory (configuration files, boot menus, the package
// database; the largest real ones are a few MiB), and the most it downloads to the host (registry
// hives, initramfs images).
inline constexpr uint64_t kMaxReadSize = uint64_t{64} << 20;
inline constexpr uint64_t kMaxDownloadSize = uint64_t{4} << 30;

struct FileInfo {
  enum class Kind { file, directory, symlink, other };
  Kind kind = Kind::file;
  uint64_t size = 0;
  uint32_t mode = 0;     // permission bits only
  int64_t mtime_ns = 0;  // modification time; FakeGuest counts writes instead
};

struct Mountpoint {
  std::string path;    // "/", "/boot"
  std::string device;  // "/dev/sda1"
};

class Guest {
 public:
  virtual ~Guest() = default;

  // lstat: nullopt when nothing is at `path`.
  virtual std::optional<FileInfo> stat(const std::string& path) = 0;
  // stat of what `path` leads to, symbolic links followed inside the guest: nullopt when nothing
  // is there (a dangling link); throws GuestFileRefused on a loop of links.
  virtual std::optional<FileInfo> stat_target(const std::string& path) = 0;
  // read, read_prefix and download refuse (GuestFileRefused) a path that leads to no regular
  // file; read refuses more than kMaxReadSize bytes and download more than kMaxDownloadSize.
  virtual std::string read(const std::string& path) = 0;
  // At most `length` bytes from the start of a file (a hibernation file's signature, a header).
  virtual std::string read_prefix(const std::string& path, size_t length) = 0;
  // Creates or replaces a regular file; the parent directory must exist.
  virtual void write(const std::string& path, std::string_view content) = 0;
  // Entry names in `directory`, sorted, without "." and "..".
  virtual std::vector<std::string> ls(const std::string& directory) = 0;
  virtual void mkdir_p(const std::string& path) = 0;
  virtual void rm(const std::string& path) = 0;     // a file or symlink
  virtual void rm_rf(const std::string& path) = 0;  // anything, recursively; no error if absent
  virtual void chmod(uint32_t mode, const std::string& path) = 0;
  // Creates or replaces a symbolic link at `path` pointing to `target`.
  virtual void symlink(const std::string& target, const std::string& path) = 0;
  virtual void download(const std::string& guest_path, const std::string& host_path) = 0;
  virtual void upload(const std::string& host_path, const std::string& guest_path) = 0;
  // Runs argv inside the guest's root (chrooted); returns stdout; throws on non-zero exit.
  virtual std::string run(const std::vector<std::string>& argv) = 0;
  virtual std::vector<Mountpoint> mountpoints() = 0;
  // Raw bytes of a whole-disk device ("/dev/sda"), where partition tables and boot code live.
  // Reads stop at the end of the device.
  virtual std::string read_device(const std::string& device, uint64_t offset, size_t length) = 0;
  // Returns once the bytes are on the device, where any reader finds them.
  virtual void write_device(const std::string& device, uint64_t offset, std::string_view bytes) = 0;
  // The type byte of primary partition `number` (1-4) in the MBR of `device`, as the system the
  // guest's tools run on reads it, once the events of earlier writes are handled (in the
  // appliance, udev has settled).
  virtual uint8_t mbr_partition_type(const std::string& device, int number) = 0;
  // The real path of a case-insensitive (Windows) path; the path itself when nothing matches.
  virtual std::string resolve_case(const std::string& path) = 0;
  // An extended attribute of `path` itself (a symlink's own): nullopt when it has none by `name`.
  virtual std::optional<std::string> xattr(const std::string& path, const std::string& name) = 0;
  virtual void set_xattr(const std::string& path, const std::string& name, std::string_view value) = 0;

  // Conveniences built on the primitives above.
  bool exists(const std::string& path) { return stat(path).has_value(); }
  bool is_file(const std::string& path);
  bool is_dir(const std::string& path);
  // Symbolic links followed inside the guest; nullopt when the path leads to nothing or to a
  // directory.
  std::optional<std::string> read_if_exists(const std::string& path);
  // Throws unless `path` leads to a regular file of at most `limit` bytes: GuestError when
  // nothing is there, GuestFileRefused for anything else. Returns what the path leads to.
  FileInfo require_regular_file(const std::string& path, uint64_t limit);
  // Writes a new content over an existing file and keeps its permission bits (NetworkManager, for
  // one, ignores keyfiles that are not 0600).
  void replace_file(const std::string& path, std::string_view content);
  // Regular files in `directory` whose name ends with `suffix`, as full paths; none if absent.
  std::vector<std::string> files_in(const std::string& directory, std::string_view suffix = "");
  // The first of `names` found in /usr/sbin, /sbin, /usr/bin or /bin, as a full path; "" if none.
  std::string find_program(std::initializer_list<std::string_view> names);
};

std::string join_path(std::string_view directory, std::string_view name);

// Disk names. libguestfs names the drives /dev/sda, ..., /dev/sdz, /dev/sdaa, ... in the order
// they were added (guestfs(3), "BLOCK DEVICE NAMING"), and translates those names in the calls
// that take a device. The appliance's kernel does not keep that order: it probes the disks in
// parallel and names them as the probes finish, so under load its /dev/sda may be the guest's
// second disk or the appliance's own. A guest program run in the appliance (grub-install, a
// device map) must therefore not be given the libguestfs name. Each drive is added with a label,
// and udev in the appliance links /dev/disk/guestfs/LABEL (and LABEL1, LABEL2 for partitions) to
// the disk, whatever the kernel named it.

// libguestfs's name for the disk added `index`-th (0: /dev/sda, 26: /dev/sdaa).
std::string appliance_disk_name(size_t index);
// The label that disk is added with: "vmfixa", "vmfixaa" (libguestfs allows 20 letters).
std::string appliance_disk_label(size_t index);
// The path a guest program is given for the libguestfs device `device`: "/dev/sdb2" ->
// "/dev/disk/guestfs/vmfixb2". Names that are not of a whole disk or its partitions
// (/dev/VG/LV, /dev/md0, /dev/mapper/...) are stable in the appliance and come back unchanged.
std::string program_device(std::string_view device);

}  // namespace vmfix::guest

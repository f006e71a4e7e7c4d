#include "guest/libguestfs_guest.h"

#include <fmt/core.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include "support/files.h"

namespace vmfix::guest {

namespace {

FileInfo info_of(const struct guestfs_statns& st) {
  FileInfo info;
  auto mode = static_cast<mode_t>(st.st_mode);
  info.kind = S_ISREG(mode)   ? FileInfo::Kind::file
              : S_ISDIR(mode) ? FileInfo::Kind::directory
              : S_ISLNK(mode) ? FileInfo::Kind::symlink
                              : FileInfo::Kind::other;
  info.size = static_cast<uint64_t>(st.st_size);
  info.mode = static_cast<uint32_t>(mode & 07777);
  info.mtime_ns = st.st_mtime_sec * 1000000000 + st.st_mtime_nsec;
  return info;
}

}  // namespace

// One call whether or not the path exists: a missing one is the daemon's ENOENT, not an error.
// lstatns does not follow links, so a dangling link still is something.
std::optional<FileInfo> LibguestfsGuest::stat(const std::string& path) {
  std::unique_ptr<struct guestfs_statns, decltype(&guestfs_free_statns)> st(guestfs_lstatns(g_, path.c_str()),
                                                                            guestfs_free_statns);
  if (!st) {
    const int error = guestfs_last_errno(g_);
    if (error == ENOENT || error == ENOTDIR) return std::nullopt;
    throw_last_error(g_, fmt::format("stat {}", path));
  }
  return info_of(*st);
}

std::optional<FileInfo> LibguestfsGuest::stat_target(const std::string& path) {
  // statns follows links inside the guest's root (the daemon chroots), never to the appliance's.
  std::unique_ptr<struct guestfs_statns, decltype(&guestfs_free_statns)> st(guestfs_statns(g_, path.c_str()),
                                                                            guestfs_free_statns);
  if (!st) {
    const int error = guestfs_last_errno(g_);
    if (error == ENOENT || error == ENOTDIR) return std::nullopt;
    if (error == ELOOP) throw GuestFileRefused(fmt::format("guest file {} is a loop of symbolic links", path));
    throw_last_error(g_, fmt::format("stat {}", path));
  }
  return info_of(*st);
}

std::string LibguestfsGuest::read_prefix(const std::string& path, size_t length) {
  require_regular_file(path, UINT64_MAX);  // opening a fifo would wait for a writer forever
  size_t size = 0;
  char* data = guestfs_pread(g_, path.c_str(), static_cast<int>(length), 0, &size);
  if (data == nullptr) throw_last_error(g_, fmt::format("pread {}", path));
  std::string bytes(data, size);
  std::free(data);
  return bytes;
}

// Small files cross the appliance as pread replies: a download or read_file streams the file in
// chunks with a handshake that costs about 0.1 s under software emulation, whatever its size.
std::string LibguestfsGuest::pread_whole(const std::string& path, uint64_t size, uint64_t limit) {
  constexpr size_t kChunk = 2 << 20;  // half the protocol's largest message
  std::string content;
  content.reserve(size);
  for (;;) {
    size_t got = 0;
    char* data = guestfs_pread(g_, path.c_str(), static_cast<int>(kChunk), static_cast<int64_t>(content.size()), &got);
    if (data == nullptr) throw_last_error(g_, fmt::format("read {}", path));
    content.append(data, got);
    std::free(data);
    if (got == 0) return content;  // the end of the file, as it is now
    if (content.size() > limit)
      throw GuestFileRefused(
          fmt::format("guest file {} grew past the {} MiB vmfix reads of such a file", path, limit >> 20));
  }
}

std::string LibguestfsGuest::read(const std::string& path) {
  const FileInfo target = require_regular_file(path, kMaxReadSize);
  return pread_whole(path, target.size, kMaxReadSize);
}

void LibguestfsGuest::write(const std::string& path, std::string_view content) {
  check(g_, guestfs_write(g_, path.c_str(), content.data(), content.size()), fmt::format("write {}", path));
}

std::vector<std::string> LibguestfsGuest::ls(const std::string& directory) {
  auto names = take_strings(g_, guestfs_ls(g_, directory.c_str()), fmt::format("ls {}", directory));
  std::sort(names.begin(), names.end());
  return names;
}

void LibguestfsGuest::mkdir_p(const std::string& path) {
  check(g_, guestfs_mkdir_p(g_, path.c_str()), fmt::format("mkdir_p {}", path));
}

void LibguestfsGuest::rm(const std::string& path) {
  check(g_, guestfs_rm(g_, path.c_str()), fmt::format("rm {}", path));
}

void LibguestfsGuest::rm_rf(const std::string& path) {
  check(g_, guestfs_rm_rf(g_, path.c_str()), fmt::format("rm_rf {}", path));
}

void LibguestfsGuest::chmod(uint32_t mode, const std::string& path) {
  check(g_, guestfs_chmod(g_, static_cast<int>(mode), path.c_str()), fmt::format("chmod {}", path));
}

void LibguestfsGuest::symlink(const std::string& target, const std::string& path) {
  check(g_, guestfs_ln_sf(g_, target.c_str(), path.c_str()), fmt::format("ln -sf {} {}", target, path));
}

void LibguestfsGuest::download(const std::string& guest_path, const std::string& host_path) {
  constexpr uint64_t kStreamed = 16 << 20;  // larger files stream: one handshake, then the wire's speed
  const FileInfo target = require_regular_file(guest_path, kMaxDownloadSize);
  if (target.size <= kStreamed) {
    const std::string content = pread_whole(guest_path, target.size, kMaxDownloadSize);
    std::filesystem::remove(host_path);  // download() replaces what is there
    NewFile file(host_path);
    file.write(content);
    file.close(false);
    return;
  }
  check(g_, guestfs_download(g_, guest_path.c_str(), host_path.c_str()), fmt::format("download {}", guest_path));
}

void LibguestfsGuest::upload(const std::string& host_path, const std::string& guest_path) {
  check(g_, guestfs_upload(g_, host_path.c_str(), guest_path.c_str()), fmt::format("upload {}", guest_path));
}

std::string LibguestfsGuest::run(const std::vector<std::string>& argv) {
  std::vector<const char*> args;
  for (const std::string& arg : argv) args.push_back(arg.c_str());
  args.push_back(nullptr);
  // The file data the appliance has cached so far goes back to its free lists (and to qemu, by the
  // balloon of Session::launch), so the program's memory reuses pages qemu has rather than adding
  // to them. Dentries and inodes stay: dropping them too (3) cost dpkg about a second of lookups
  // under emulation and saved no memory (Debian 12, --all: 749-752 MiB either way).
  check(g_, guestfs_drop_caches(g_, 1), "drop_caches");
  return take_string(g_, guestfs_command(g_, const_cast<char**>(args.data())),
                     fmt::format("command {}", argv.empty() ? "" : argv.front()));
}

std::vector<Mountpoint> LibguestfsGuest::mountpoints() {
  auto flat = take_strings(g_, guestfs_mountpoints(g_), "mountpoints");  // device, path, device, path...
  std::vector<Mountpoint> result;
  for (size_t i = 0; i + 1 < flat.size(); i += 2) result.push_back({flat[i + 1], flat[i]});
  std::sort(result.begin(), result.end(), [](auto& a, auto& b) { return a.path < b.path; });
  return result;
}

// The protocol carries at most a few MiB per message: large ranges go in pieces.
constexpr size_t kDeviceChunk = 1 << 20;

std::string LibguestfsGuest::read_device(const std::string& device, uint64_t offset, size_t length) {
  std::string bytes;
  while (bytes.size() < length) {
    size_t want = std::min(kDeviceChunk, length - bytes.size());
    size_t got = 0;
    char* data = guestfs_pread_device(g_, device.c_str(), static_cast<int>(want),
                                      static_cast<int64_t>(offset + bytes.size()), &got);
    if (data == nullptr) throw_last_error(g_, fmt::format("pread_device {}", device));
    bytes.append(data, got);
    std::free(data);
    if (got < want) break;  // the end of the device
  }
  return bytes;
}

void LibguestfsGuest::write_device(const std::string& device, uint64_t offset, std::string_view bytes) {
  for (size_t done = 0; done < bytes.size();) {
    size_t piece = std::min(kDeviceChunk, bytes.size() - done);
    int wrote =
        guestfs_pwrite_device(g_, device.c_str(), bytes.data() + done, piece, static_cast<int64_t>(offset + done));
    if (wrote <= 0) throw_last_error(g_, fmt::format("pwrite_device {}", device));
    done += static_cast<size_t>(wrote);
  }
  // pwrite_device leaves the bytes in the appliance's page cache; a tool that reads the device
  // another way (O_DIRECT) must find them on it.
  check(g_, guestfs_blockdev_flushbufs(g_, device.c_str()), fmt::format("blockdev_flushbufs {}", device));
}

// The appliance's sfdisk reads the table, between two waits for udev to settle (libguestfs's
// part_get_mbr_id): after a conversion, what the disk says before grub-install runs. (The
// "embedding is not possible" refusals once blamed on udev's timing were grub-install given
// another disk: see program_device in guest.h.)
uint8_t LibguestfsGuest::mbr_partition_type(const std::string& device, int number) {
  const int type = guestfs_part_get_mbr_id(g_, device.c_str(), number);
  if (type < 0) throw_last_error(g_, fmt::format("part_get_mbr_id {} {}", device, number));
  return static_cast<uint8_t>(type);
}

std::string LibguestfsGuest::resolve_case(const std::string& path) {
  char* resolved = guestfs_case_sensitive_path(g_, path.c_str());
  if (resolved == nullptr) return path;
  std::string result(resolved);
  std::free(resolved);
  return result;
}

std::optional<std::string> LibguestfsGuest::xattr(const std::string& path, const std::string& name) {
  std::unique_ptr<struct guestfs_xattr_list, decltype(&guestfs_free_xattr_list)> list(
      guestfs_lgetxattrs(g_, path.c_str()), guestfs_free_xattr_list);
  if (!list) throw_last_error(g_, fmt::format("lgetxattrs {}", path));
  for (uint32_t i = 0; i < list->len; ++i)
    if (name == list->val[i].attrname) return std::string(list->val[i].attrval, list->val[i].attrval_len);
  return std::nullopt;
}

void LibguestfsGuest::set_xattr(const std::string& path, const std::string& name, std::string_view value) {
  check(g_, guestfs_lsetxattr(g_, name.c_str(), value.data(), static_cast<int>(value.size()), path.c_str()),
        fmt::format("lsetxattr {} {}", name, path));
}

}  // namespace vmfix::guest

#pragma once
// Host file helpers: whole-file reads, atomic writes, and RAII temporary files and directories.
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace vmfix {

namespace interrupt {
class RemoveOnInterrupt;
}

// The content of a regular file or a pipe (a fifo, `<(command)`), whole, and no more than
// `max_bytes`; anything else (a device such as /dev/zero, a directory) is refused unopened. Throws
// Error. A fifo nobody writes to reads as empty rather than waiting.
inline constexpr uint64_t kNoLimit = UINT64_MAX;
std::string read_host_file(const std::filesystem::path& path, uint64_t max_bytes = kNoLimit);

// Reads up to `length` bytes at `offset`; fewer when the file is shorter.
std::string read_host_bytes(const std::filesystem::path& path, uint64_t offset, size_t length);

// Writes to a temporary name in the same directory, fsyncs, then renames over `path`, so a
// reader sees either the old file or the complete new one, with `mode` from the start.
void write_host_file_atomic(const std::filesystem::path& path, std::string_view content, mode_t mode = 0644);

// `directory` and its missing parents, for output the user asked for: a UsageError naming it and
// why when that cannot be done (a read-only mount, a file in the way, no permission).
void make_output_directory(const std::filesystem::path& directory);

// A file that must not exist yet (O_EXCL: nobody's file or link is written through), written front
// to back. close() says what the kernel could not write; the destructor only closes.
class NewFile {
 public:
  explicit NewFile(std::filesystem::path path);
  ~NewFile();
  NewFile(const NewFile&) = delete;
  NewFile& operator=(const NewFile&) = delete;
  // All of `bytes`, or an Error.
  void write(std::string_view bytes);
  // fsync first when `sync`.
  void close(bool sync);
  int fd() const { return fd_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
};

// A directory under $TMPDIR (or /var/tmp), removed with its contents on destruction, or when
// vmfix is interrupted.
class TempDir {
 public:
  explicit TempDir(std::string_view prefix = "vmfix");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  // Leaves the directory behind (it holds something the user must still have).
  void keep();

 private:
  std::filesystem::path path_;
  bool keep_ = false;
  std::unique_ptr<interrupt::RemoveOnInterrupt> on_interrupt_;
};

// Where vmfix keeps per-user state (the acceleration decision, the fixture cache).
// $VMFIX_CACHE_DIR, else /var/tmp/.vmfix-UID (machine-wide, like libguestfs's own cache).
std::filesystem::path user_cache_dir();

}  // namespace vmfix

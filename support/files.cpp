#include "support/files.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <system_error>
#include <utility>

#include "support/error.h"
#include "support/interrupt.h"
#include "support/unique_fd.h"

namespace vmfix {
namespace fs = std::filesystem;

namespace {

[[noreturn]] void throw_too_large(const fs::path& path, uint64_t max_bytes) {
  const std::string limit = max_bytes >= (1 << 20) ? fmt::format("{} MiB", max_bytes >> 20)
                                                   : fmt::format("{} KiB", std::max<uint64_t>(max_bytes >> 10, 1));
  throw Error(fmt::format("{}: larger than {}, more than such a file can be", path.string(), limit));
}

}  // namespace

std::string read_host_file(const fs::path& path, uint64_t max_bytes) {
  // Opening a device runs its driver: its type is known first, and the file opened is that one.
  struct stat named {};
  if (::stat(path.c_str(), &named) != 0) throw_errno(path.string());
  if (!S_ISREG(named.st_mode) && !S_ISFIFO(named.st_mode))
    throw Error(fmt::format("{}: not a regular file or a pipe", path.string()));
  // Not waiting in open() for a fifo's writer; reads block again once it is open.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (fd.get() < 0) throw_errno(path.string());
  struct stat opened {};
  if (::fstat(fd.get(), &opened) != 0) throw_errno(path.string());
  if (opened.st_dev != named.st_dev || opened.st_ino != named.st_ino)
    throw Error(fmt::format("{}: replaced while being opened", path.string()));
  const int flags = ::fcntl(fd.get(), F_GETFL);
  if (flags < 0 || ::fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK) != 0) throw_errno(path.string());
  if (S_ISREG(opened.st_mode) && static_cast<uint64_t>(opened.st_size) > max_bytes) throw_too_large(path, max_bytes);
  std::string content;
  char buffer[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno(path.string());
    }
    if (n == 0) break;
    if (content.size() + static_cast<size_t>(n) > max_bytes) throw_too_large(path, max_bytes);
    content.append(buffer, static_cast<size_t>(n));
  }
  return content;
}

std::string read_host_bytes(const fs::path& path, uint64_t offset, size_t length) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) throw_errno(path.string());
  std::string content(length, '\0');
  size_t done = 0;
  while (done < length) {
    ssize_t n = ::pread(fd.get(), content.data() + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno(path.string());
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  content.resize(done);
  return content;
}

void make_output_directory(const fs::path& directory) {
  std::error_code error;
  fs::create_directories(directory, error);
  if (error) throw UsageError(fmt::format("{}: cannot make this directory: {}", directory.string(), error.message()));
}

void write_host_file_atomic(const fs::path& path, std::string_view content, mode_t mode) {
  fs::path directory = path.has_parent_path() ? path.parent_path() : fs::path(".");
  std::string temp = (directory / fmt::format(".{}.tmp-XXXXXX", path.filename().string())).string();
  UniqueFd fd(::mkstemp(temp.data()));
  if (fd.get() < 0) throw_errno(fmt::format("cannot create a temporary file in {}", directory.string()));
  auto fail = [&](const std::string& what) {
    ::unlink(temp.c_str());
    throw_errno(what);
  };
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd.get(), content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(temp);
    }
    done += static_cast<size_t>(n);
  }
  if (::fchmod(fd.get(), mode) != 0 || ::fsync(fd.get()) != 0) fail(temp);
  if (::close(fd.release()) != 0) fail(temp);
  if (::rename(temp.c_str(), path.c_str()) != 0) fail(fmt::format("rename to {}", path.string()));
}

NewFile::NewFile(std::filesystem::path path) : path_(std::move(path)) {
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd_ < 0) throw_errno(fmt::format("cannot create {}", path_.string()));
}

NewFile::~NewFile() {
  if (fd_ >= 0) ::close(fd_);
}

void NewFile::write(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd_, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw_errno(fmt::format("cannot write {}", path_.string()));
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

void NewFile::close(bool sync) {
  const bool sync_failed = sync && ::fsync(fd_) != 0;
  const bool close_failed = ::close(fd_) != 0;  // closed whether or not the sync failed
  fd_ = -1;
  if (sync_failed || close_failed) throw_errno(fmt::format("cannot write {}", path_.string()));
}

TempDir::TempDir(std::string_view prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = fmt::format("{}/{}-XXXXXX", base && *base ? base : "/var/tmp", prefix);
  if (::mkdtemp(pattern.data()) == nullptr) throw_errno("cannot create a temporary directory");
  path_ = pattern;
  on_interrupt_ = std::make_unique<interrupt::RemoveOnInterrupt>(path_);
}

TempDir::~TempDir() {
  std::error_code ignored;
  if (!keep_) fs::remove_all(path_, ignored);
  on_interrupt_.reset();
}

void TempDir::keep() {
  keep_ = true;
  on_interrupt_.reset();
}

fs::path user_cache_dir() {
  if (const char* dir = std::getenv("VMFIX_CACHE_DIR"); dir && *dir) return dir;
  return fs::path("/var/tmp") / fmt::format(".vmfix-{}", ::getuid());
}

}  // namespace vmfix

#include "image/disk_reader.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <libnbd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "support/error.h"
#include "support/unique_fd.h"

namespace vmfix::image {
namespace fs = std::filesystem;

namespace {

class RawDisk : public DiskReader {
 public:
  explicit RawDisk(const fs::path& raw) : path_(raw), file_(::open(raw.c_str(), O_RDONLY | O_CLOEXEC)) {
    if (!file_.valid()) throw_errno(fmt::format("cannot open {}", raw.string()));
    const off_t end = ::lseek(file_.get(), 0, SEEK_END);
    if (end < 0) throw_errno(fmt::format("cannot size {}", raw.string()));
    size_ = static_cast<uint64_t>(end);
  }

  uint64_t size() const override { return size_; }

  void read(uint64_t offset, char* into, uint64_t length) override {
    std::memset(into, 0, length);
    const uint64_t end = offset + length;
    for (uint64_t at = offset; at < end;) {
      off_t data = ::lseek(file_.get(), static_cast<off_t>(at), SEEK_DATA);
      if (data < 0 && errno == ENXIO) return;       // nothing but a hole to the end of the file
      if (data < 0) data = static_cast<off_t>(at);  // no SEEK_DATA here: read everything
      if (static_cast<uint64_t>(data) >= end) return;
      const off_t hole = ::lseek(file_.get(), data, SEEK_HOLE);
      const uint64_t stop = hole < 0 ? end : std::min<uint64_t>(static_cast<uint64_t>(hole), end);
      read_exactly(static_cast<uint64_t>(data), into + (data - offset), stop - static_cast<uint64_t>(data));
      at = stop;
    }
  }

 private:
  void read_exactly(uint64_t from, char* into, uint64_t length) {
    while (length > 0) {
      const ssize_t n = ::pread(file_.get(), into, length, static_cast<off_t>(from));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw_errno(fmt::format("read {}", path_.string()));
      if (n == 0) throw Error(fmt::format("{}: shorter than it was a moment ago", path_.string()));
      from += static_cast<uint64_t>(n);
      into += n;
      length -= static_cast<uint64_t>(n);
    }
  }

  fs::path path_;
  UniqueFd file_;
  uint64_t size_ = 0;
};

// One extent of the allocation map: its length and whether it reads as zeros.
struct Extent {
  uint64_t length;
  bool zero;
};

// Closes the connection and waits for qemu-nbd, which exits with it.
struct NbdClose {
  void operator()(nbd_handle* nbd) const {
    nbd_shutdown(nbd, 0);  // best effort: the server only read
    nbd_close(nbd);
  }
};

class QemuDisk : public DiskReader {
 public:
  QemuDisk(const fs::path& image, std::string_view format) : path_(image), handle_(nbd_create()), nbd_(handle_.get()) {
    if (nbd_ == nullptr) fail("cannot create an NBD handle");
    if (nbd_add_meta_context(nbd_, LIBNBD_CONTEXT_BASE_ALLOCATION) == -1) fail("add_meta_context");
    std::string format_option = fmt::format("--format={}", format);
    std::string path = image.string();
    std::vector<char*> argv{const_cast<char*>("qemu-nbd"), const_cast<char*>("--read-only"), format_option.data(),
                            path.data(), nullptr};
    if (nbd_connect_systemd_socket_activation(nbd_, argv.data()) == -1) fail("cannot serve it with qemu-nbd");
    const int64_t size = nbd_get_size(nbd_);
    if (size < 0) fail("cannot size it");
    size_ = static_cast<uint64_t>(size);
    mapped_ = nbd_can_meta_context(nbd_, LIBNBD_CONTEXT_BASE_ALLOCATION) == 1;
  }
  uint64_t size() const override { return size_; }

  void read(uint64_t offset, char* into, uint64_t length) override {
    const std::vector<Extent> extents = mapped_ ? map(offset, length) : std::vector<Extent>{{length, false}};
    uint64_t at = offset;
    for (const Extent& extent : extents) {
      if (extent.zero)
        std::memset(into + (at - offset), 0, extent.length);
      else
        read_data(at, into + (at - offset), extent.length);
      at += extent.length;
    }
  }

 private:
  [[noreturn]] void fail(std::string_view what) const {
    const char* message = nbd_get_error();
    throw Error(fmt::format("{}: {}: {}", path_.string(), what, message ? message : "unknown NBD error"));
  }

  // The allocation map of [offset, offset + length), in as many requests as the server needs.
  std::vector<Extent> map(uint64_t offset, uint64_t length) {
    std::vector<Extent> extents;
    for (uint64_t at = offset, end = offset + length; at < end;) {
      uint64_t covered = 0;
      auto collect = [&](const char* context, uint32_t* entries, size_t count) {
        if (std::strcmp(context, LIBNBD_CONTEXT_BASE_ALLOCATION) != 0) return;
        for (size_t i = 0; i + 1 < count && at + covered < end; i += 2) {
          const uint64_t part = std::min<uint64_t>(entries[i], end - at - covered);
          extents.push_back({part, (entries[i + 1] & LIBNBD_STATE_ZERO) != 0});
          covered += part;
        }
      };
      using Collect = decltype(collect);
      nbd_extent_callback callback{
          [](void* user, const char* context, uint64_t, uint32_t* entries, size_t count, int*) {
            (*static_cast<Collect*>(user))(context, entries, count);
            return 0;
          },
          &collect, nullptr};
      if (nbd_block_status(nbd_, end - at, at, callback, 0) == -1) fail("block status");
      if (covered == 0) throw Error(fmt::format("{}: qemu-nbd mapped nothing at byte {}", path_.string(), at));
      at += covered;
    }
    return extents;
  }

  void read_data(uint64_t offset, char* into, uint64_t length) {
    constexpr uint64_t kRequest = 4 << 20;  // well under any NBD server's largest request
    for (uint64_t done = 0; done < length; done += kRequest) {
      const uint64_t part = std::min(kRequest, length - done);
      if (nbd_pread(nbd_, into + done, part, offset + done, 0) == -1) fail("read");
    }
  }

  fs::path path_;
  std::unique_ptr<nbd_handle, NbdClose> handle_;
  nbd_handle* nbd_;
  uint64_t size_ = 0;
  bool mapped_ = false;
};

}  // namespace

std::unique_ptr<DiskReader> open_raw_disk(const fs::path& raw) { return std::make_unique<RawDisk>(raw); }

std::unique_ptr<DiskReader> open_qemu_disk(const fs::path& image, std::string_view format) {
  return std::make_unique<QemuDisk>(image, format);
}

}  // namespace vmfix::image

#pragma once
// A disk image's guest-visible bytes, read on the host, with what the image knows of its zeros.
// The VMDK writer reads the appliance's qcow2 overlay through this, so no raw copy of the disk is
// written first.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string_view>

namespace vmfix::image {

class DiskReader {
 public:
  virtual ~DiskReader() = default;
  virtual uint64_t size() const = 0;
  // Fills `into` with the `length` bytes at `offset`; ranges the image marks as zeros (holes,
  // unallocated clusters) are zeroed, not read.
  virtual void read(uint64_t offset, char* into, uint64_t length) = 0;
};

// A raw image; its holes are found with SEEK_DATA and SEEK_HOLE.
std::unique_ptr<DiskReader> open_raw_disk(const std::filesystem::path& raw);

// Any image qemu reads, with its backing chain (a qcow2 overlay over a VMDK, say): qemu-nbd,
// started by libnbd on a socket the two alone share, serves it read-only, and its allocation map
// (base:allocation) says which ranges read as zeros. qemu-nbd exits when the socket closes, also
// when vmfix is killed.
std::unique_ptr<DiskReader> open_qemu_disk(const std::filesystem::path& image, std::string_view format);

}  // namespace vmfix::image

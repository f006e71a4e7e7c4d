#pragma once
// A run of bytes in a host file: a whole disk image, or a disk stored inside an OVA (tar).
#include <cstdint>
#include <filesystem>
#include <string>

namespace vmfix::image {

struct ByteSource {
  std::filesystem::path file;
  uint64_t offset = 0;  // where the bytes start in `file`
  uint64_t size = 0;
  std::string name;  // for messages: "disk.vmdk", or "vm.ova:disk1.vmdk"

  // Up to `length` bytes at `at` (relative to `offset`); shorter at the end, never past `size`.
  std::string read(uint64_t at, size_t length) const;
};

}  // namespace vmfix::image

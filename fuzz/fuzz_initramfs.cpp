// Initramfs images as a guest's /boot holds them: early uncompressed cpio archives (microcode)
// then a main archive compressed with gzip, xz, lzma, zstd or lz4, as the kernel unpacks them.
// Decompression is bounded (8 MiB here), so a bomb is refused, not unpacked.
#include <string_view>

#include "bootloader/initramfs.h"
#include "fuzz/properties.h"
#include "support/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vmfix;
  const std::string_view image(reinterpret_cast<const char*>(data), size);
  try {
    const bootloader::InitramfsListing listing = bootloader::list_initramfs(image, size_t{8} << 20);
    for (const std::string& file : listing.files) bootloader::module_name_of(file);
    fuzz::require(!listing.compressions.empty() || listing.files.empty(), "files listed from no archive");
  } catch (const Error&) {
  }
  return 0;
}

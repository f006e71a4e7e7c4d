// The host kernel the appliance boots uncompressed: a bzImage's setup header, its compressed
// payload and size trailer, and the ELF notes of what it decompresses to. Decompression is
// bounded (8 MiB here); whatever is accepted must carry the PVH entry note.
#include <string_view>

#include "fuzz/properties.h"
#include "guest/appliance_kernel.h"
#include "support/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vmfix;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  guest::has_pvh_entry(bytes);
  try {
    const std::string elf = guest::uncompressed_kernel(bytes, size_t{8} << 20);
    fuzz::require(guest::has_pvh_entry(elf), "a kernel without a PVH entry note was accepted");
  } catch (const Error&) {
  }
  return 0;
}

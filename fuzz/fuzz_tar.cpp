// OVA archives: tar headers (ustar, GNU long names, pax records, base-256 sizes), member names.
#include "fuzz/fuzz_input.h"
#include "image/ova.h"
#include "support/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vmfix::image;
  vmfix::fuzz::InputFile input(data, size);
  looks_like_tar(std::string_view(reinterpret_cast<const char*>(data), size));
  try {
    for (const TarMember& member : read_tar_members(input.path()))
      if (member.offset + member.size > size) __builtin_trap();  // a member past the archive's end
  } catch (const vmfix::Error&) {
  }
  return 0;
}

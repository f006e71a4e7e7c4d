// Disk images by content: VMDK sparse headers and grain tables, VHD footers and headers, VHDX,
// qcow2 headers, raw partition tables; both as a whole file and as a descriptor-allowed input.
#include "fuzz/fuzz_input.h"
#include "image/detect.h"
#include "support/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vmfix::image;
  vmfix::fuzz::InputFile input(data, size);
  for (bool allow_descriptor : {false, true}) {
    try {
      detect_image(ByteSource{input.path(), 0, size, "fuzz.img"}, allow_descriptor);
    } catch (const vmfix::Error&) {
    }
  }
  return 0;
}

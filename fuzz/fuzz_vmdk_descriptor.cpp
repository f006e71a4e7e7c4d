// VMDK text descriptors: parsed, and checked as a descriptor file whose extents must sit beside it
// (the fuzzer's extents name whatever they like; none may be read outside the directory).
#include <string_view>

#include "fuzz/fuzz_input.h"
#include "image/vmdk.h"
#include "support/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vmfix::image;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    parse_vmdk_descriptor(text);
    check_vmdk_descriptor("/nonexistent-vmfix-fuzz/disk.vmdk", text);
  } catch (const vmfix::Error&) {
  }
  return 0;
}

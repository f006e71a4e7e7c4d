// OVF manifests (.mf): "SHA256(name)= hex" lines.
#include <string_view>

#include "image/manifest.h"
#include "support/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    vmfix::image::parse_manifest(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.mf");
  } catch (const vmfix::Error&) {
  }
  return 0;
}

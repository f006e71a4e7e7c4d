// Batch manifests (text, JSON or CSV lists of images): the images, or one line naming the
// manifest (a BadInput). Properties: keys and output names are unique (two images never share their outputs),
// a name is one file name, and every path is absolute and free of control characters.
#include <algorithm>
#include <set>
#include <string_view>

#include "batch/library.h"
#include "fuzz/properties.h"
#include "support/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vmfix;
  try {
    const std::vector<batch::LibraryImage> images =
        batch::parse_manifest(std::string_view(reinterpret_cast<const char*>(data), size), "/library/list");
    std::set<std::string> keys, names;
    for (const batch::LibraryImage& image : images) {
      fuzz::require(keys.insert(image.key).second, "manifest: a key twice", image.key);
      fuzz::require(names.insert(image.name).second, "manifest: two images with one name", image.name);
      fuzz::require(!image.name.empty() && image.name.find('/') == std::string::npos,
                    "manifest: a name that is not one file name", image.name);
      const std::string path = image.path.string();
      fuzz::require(image.path.is_absolute(), "manifest: a relative path", path);
      fuzz::require(std::none_of(path.begin(), path.end(),
                                 [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }),
                    "manifest: a path with a control character", path);
    }
  } catch (const BadInput& e) {  // nothing else: any other exception is a finding
    const std::string_view message = e.what();
    fuzz::require(message.starts_with("/library/list"), "manifest: an error not naming the file", message);
    fuzz::require(message.find_first_of("\r\n") == std::string_view::npos, "manifest: an error of two lines", message);
  }
  return 0;
}

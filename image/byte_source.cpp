#include "image/byte_source.h"

#include <algorithm>

#include "support/files.h"

namespace vmfix::image {

std::string ByteSource::read(uint64_t at, size_t length) const {
  if (at >= size) return "";
  length = static_cast<size_t>(std::min<uint64_t>(length, size - at));
  return read_host_bytes(file, offset + at, length);
}

}  // namespace vmfix::image

#pragma once
// OVF manifests (.mf): "SHA256(disk1.vmdk)= <hex>" lines, checked before a disk is used.
#include <string>
#include <string_view>
#include <vector>

#include "image/byte_source.h"

namespace vmfix::image {

struct ManifestEntry {
  std::string algorithm;  // "SHA1", "SHA256", "SHA512"
  std::string file;
  std::string digest;  // lower-case hex
};

std::vector<ManifestEntry> parse_manifest(std::string_view text, const std::string& where);

// Lower-case hex digest of the bytes; `algorithm` as in the manifest.
std::string digest_of(const ByteSource& bytes, const std::string& algorithm);
std::string digest_of(std::string_view bytes, const std::string& algorithm);

}  // namespace vmfix::image

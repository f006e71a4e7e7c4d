#pragma once
// Opening an input image: the container is recognised by content, never by extension, and
// validated before anything hands it to qemu. Problems are BadInput with a one-line message.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "image/byte_source.h"

namespace vmfix::image {

enum class Format { raw, qcow2, vmdk, vhd, vhdx };

struct SourceImage {
  ByteSource bytes;  // where the image is: a file, or a member of an OVA
  Format format = Format::raw;
  std::string variant;                              // "monolithicSparse", "dynamic", ... (empty for raw)
  uint64_t virtual_size = 0;                        // bytes the guest sees
  std::vector<std::filesystem::path> extent_files;  // other host files it reads (VMDK descriptors)
};

// The name qemu and libguestfs use for the format ("vpc" for VHD).
std::string_view qemu_format(Format format);
std::string_view to_string(Format format);

// A disk image file on the host: checks that it exists and can be read, then detect_image.
SourceImage open_image(const std::filesystem::path& path);

// Recognises and validates the image in `bytes` by content. A VMDK descriptor (whose extents are
// other files beside it) is accepted only when `allow_descriptor`.
SourceImage detect_image(const ByteSource& bytes, bool allow_descriptor);

}  // namespace vmfix::image

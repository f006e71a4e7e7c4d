#pragma once
// Opening an input image: the container is recognised by content, never by extension, and
// validated before anything hands it to qemu. Problems are BadInput with a one-line message.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace vmfix::image {

enum class Format { raw, qcow2, vmdk, vhd, vhdx };

struct SourceImage {
  std::filesystem::path path;
  Format format = Format::raw;
  std::string variant;        // "monolithicSparse", "dynamic", ... (empty for raw)
  uint64_t virtual_size = 0;  // bytes the guest sees
};

// The name qemu and libguestfs use for the format ("vpc" for VHD).
std::string_view qemu_format(Format format);
std::string_view to_string(Format format);

SourceImage open_image(const std::filesystem::path& path);

}  // namespace vmfix::image

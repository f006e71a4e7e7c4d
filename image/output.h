#pragma once
// Writing the result: converted from the overlays to a format AWS accepts, under a temporary
// name in the destination directory, fsynced, verified, then renamed. Nothing partial is ever
// left under the output's name.
#include <filesystem>
#include <optional>
#include <string>

#include "image/vm_source.h"

namespace vmfix::image {

struct OutputSpec {
  std::filesystem::path path;
  std::string format;  // "raw", "vhd", "vhd-fixed", "vhdx", "vmdk" (always streamOptimized)
};

// -o and --output-format, else beside the input in its format when AWS accepts it, else VMDK.
OutputSpec choose_output(const VmSource& vm, const std::optional<std::string>& output,
                         const std::optional<std::string>& format);

void write_output(const std::filesystem::path& overlay, const OutputSpec& output);

// Checks a written image: VMDK header (KDMV, version 3, compressed grains), VHD footer, qemu-img check.
void verify_output(const std::filesystem::path& path, const std::string& format);

}  // namespace vmfix::image

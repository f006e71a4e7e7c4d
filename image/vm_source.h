#pragma once
// What the user handed over: one disk image, an OVA (tar: OVF + disks), or an OVF file with its
// disks beside it. All disks of the VM come back together, for one appliance launch.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "image/detect.h"
#include "image/ovf.h"

namespace vmfix::image {

struct VmSource {
  std::string kind;  // "disk", "ova" or "ovf"
  std::filesystem::path path;
  std::vector<SourceImage> disks;  // boot disk first
  std::optional<Ovf> ovf;
  std::string ovf_text;            // the descriptor as it came, for the OVA vmfix writes
  std::string manifest;            // "verified", "absent" (OVA/OVF only)
  std::vector<std::string> notes;  // what the descriptor holds that is not in the image
};

VmSource open_vm(const std::filesystem::path& path);

// A qcow2 overlay in `directory` over `image`, for qemu to read (and, later, for edits to land in
// instead of the source). Disks inside an OVA are reached by their byte range, unpacked never.
std::filesystem::path create_overlay(const SourceImage& image, const std::filesystem::path& directory, int index);

}  // namespace vmfix::image

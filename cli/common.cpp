#include "cli/common.h"

#include <fmt/core.h>

namespace vmfix::cli {

nlohmann::ordered_json image_json(const image::VmSource& vm) {
  nlohmann::ordered_json image{{"path", vm.path.string()}, {"kind", vm.kind}, {"disks", nlohmann::ordered_json::array()}};
  for (const image::SourceImage& disk : vm.disks)
    image["disks"].push_back({{"source", disk.bytes.name},
                              {"format", image::to_string(disk.format)},
                              {"variant", disk.variant},
                              {"virtual_size", disk.virtual_size}});
  if (vm.ovf) {
    image["ovf"] = {{"name", vm.ovf->name},     {"os_type", vm.ovf->os_type}, {"firmware", vm.ovf->firmware},
                    {"nics", vm.ovf->nics},     {"cdroms", vm.ovf->cdroms},   {"floppies", vm.ovf->floppies},
                    {"manifest", vm.manifest}};
  }
  image["notes"] = vm.notes;
  return image;
}

guest::SessionOptions session_options(const Options& options) {
  guest::SessionOptions session_options;
  session_options.accel = options.accel;
  session_options.verbose = options.verbosity >= 2;
  const int verbosity = options.verbosity;
  session_options.on_note = [verbosity](std::string_view message) {
    if (verbosity >= 1) fmt::print(stderr, "vmfix: {}\n", message);
  };
  return session_options;
}

Drives prepare_drives(const image::VmSource& vm, bool writable, TempDir& work) {
  Drives drives;
  for (size_t i = 0; i < vm.disks.size(); ++i) {
    const image::SourceImage& disk = vm.disks[i];
    drives.sources.push_back(disk.bytes.name);
    if (writable || vm.kind == "ova") {
      auto overlay = image::create_overlay(disk, work.path(), static_cast<int>(i));
      drives.drives.push_back({overlay.string(), "qcow2", !writable});
      if (writable) drives.overlays.push_back(overlay);
    } else {
      drives.drives.push_back({disk.bytes.file.string(), std::string(image::qemu_format(disk.format)), true});
    }
  }
  return drives;
}

}  // namespace vmfix::cli

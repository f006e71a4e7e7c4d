#include "remediate/drives.h"

#include "image/detect.h"

namespace vmfix::remediate {

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

}  // namespace vmfix::remediate

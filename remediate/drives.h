#pragma once
// The VM's disks as appliance drives. Read-only: files as they are (OVA members through a
// read-only overlay); writable: a qcow2 overlay per disk in `work`, the source untouched.
#include <filesystem>
#include <string>
#include <vector>

#include "guest/session.h"
#include "image/vm_source.h"
#include "support/files.h"

namespace vmfix::remediate {

struct Drives {
  std::vector<guest::Drive> drives;
  std::vector<std::string> sources;             // names for reports, disk i
  std::vector<std::filesystem::path> overlays;  // writable overlays, disk i
};
Drives prepare_drives(const image::VmSource& vm, bool writable, TempDir& work);

}  // namespace vmfix::remediate

#pragma once
// What the CLI commands share: the image section of a report, session options, and drives.
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/options.h"
#include "guest/session.h"
#include "image/vm_source.h"
#include "support/files.h"

namespace vmfix::cli {

nlohmann::ordered_json image_json(const image::VmSource& vm);
guest::SessionOptions session_options(const Options& options);

// The VM's disks as appliance drives. Read-only: files as they are (OVA members through a
// read-only overlay); writable: a qcow2 overlay per disk in `work`, the source untouched.
struct Drives {
  std::vector<guest::Drive> drives;
  std::vector<std::string> sources;               // names for reports, disk i
  std::vector<std::filesystem::path> overlays;    // writable overlays, disk i
};
Drives prepare_drives(const image::VmSource& vm, bool writable, TempDir& work);

}  // namespace vmfix::cli

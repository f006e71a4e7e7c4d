#pragma once
// vmfix --inspect as a job: one read-only appliance launch, the guest's facts, and their report.
#include <filesystem>
#include <nlohmann/json.hpp>

#include "guest/session.h"
#include "image/vm_source.h"
#include "inspect/facts.h"

namespace vmfix::remediate {

struct Inspection {
  image::VmSource vm;
  inspect::Facts facts;
};

// Plain image files go to qemu as they are (read-only); disks inside an OVA through overlays.
Inspection inspect_image(const std::filesystem::path& image, const guest::SessionOptions& options);

// The "vmfix.inspect/2" report.
nlohmann::ordered_json to_json(const Inspection& inspection);

}  // namespace vmfix::remediate

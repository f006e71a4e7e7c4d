#include "remediate/inspection.h"

#include "inspect/inspect.h"
#include "inspect/report.h"
#include "remediate/drives.h"
#include "remediate/report.h"
#include "support/files.h"

namespace vmfix::remediate {

Inspection inspect_image(const std::filesystem::path& image, const guest::SessionOptions& options) {
  Inspection inspection{image::open_vm(image), {}};
  TempDir work("vmfix-overlays");
  Drives drives = prepare_drives(inspection.vm, false, work);
  guest::Session session(drives.drives, options);
  session.launch();
  inspection.facts = inspect::inspect_guest(session, drives.sources, inspect::MountMode::read_only);
  session.shutdown();
  return inspection;
}

nlohmann::ordered_json to_json(const Inspection& inspection) {
  nlohmann::ordered_json report;
  report["schema"] = "vmfix.inspect/2";
  report["vmfix_version"] = VMFIX_VERSION;
  report["image"] = image_json(inspection.vm);
  report["guest"] = inspect::to_json(inspection.facts);
  report["appliance_launches"] = guest::Session::launch_count();
  return report;
}

}  // namespace vmfix::remediate

#include "cli/inspect_command.h"

#include <fmt/core.h>

#include <cstdio>
#include <memory>

#include "cli/common.h"
#include "guest/session.h"
#include "image/vm_source.h"
#include "inspect/inspect.h"
#include "inspect/report.h"
#include "remediate/drives.h"
#include "remediate/report.h"
#include "support/files.h"

namespace vmfix::cli {

int run_inspect(const Options& options) {
  const image::VmSource vm = image::open_vm(options.images.front());

  // Plain image files go to qemu as they are (read-only); disks inside an OVA through overlays.
  TempDir work("vmfix-overlays");
  remediate::Drives drives = remediate::prepare_drives(vm, false, work);
  guest::Session session(drives.drives, session_options(options));
  session.launch();
  inspect::Facts facts = inspect::inspect_guest(session, drives.sources, inspect::MountMode::read_only);
  session.shutdown();

  nlohmann::ordered_json report;
  report["schema"] = "vmfix.inspect/2";
  report["vmfix_version"] = VMFIX_VERSION;
  report["image"] = remediate::image_json(vm);
  report["guest"] = inspect::to_json(facts);
  report["appliance_launches"] = guest::Session::launch_count();
  emit_json(options, report);
  if (options.json) return kExitReady;
  fmt::print("{}", vm.path.string());
  for (const image::SourceImage& disk : vm.disks)
    fmt::print("{}{}{}{}", &disk == &vm.disks.front() ? " (" : ", ",
               vm.kind == "disk" ? "" : disk.bytes.name.substr(disk.bytes.name.rfind(':') + 1) + ": ",
               image::to_string(disk.format), disk.variant.empty() ? "" : " " + disk.variant);
  fmt::print(")\n\n{}", inspect::render_text(facts));
  return kExitReady;
}

}  // namespace vmfix::cli

#include "cli/inspect_command.h"

#include <fmt/core.h>

#include <cstdio>
#include <memory>

#include "guest/session.h"
#include "image/vm_source.h"
#include "inspect/inspect.h"
#include "inspect/report.h"
#include "support/files.h"

namespace vmfix::cli {

namespace {

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

}  // namespace

int run_inspect(const Options& options) {
  const image::VmSource vm = image::open_vm(options.images.front());

  // Plain image files go to qemu as they are (read-only); disks inside an OVA through overlays.
  std::unique_ptr<TempDir> overlays;
  std::vector<guest::Drive> drives;
  std::vector<std::string> sources;
  for (size_t i = 0; i < vm.disks.size(); ++i) {
    const image::SourceImage& disk = vm.disks[i];
    sources.push_back(disk.bytes.name);
    if (vm.kind == "ova") {
      if (!overlays) overlays = std::make_unique<TempDir>("vmfix-overlays");
      drives.push_back({image::create_overlay(disk, overlays->path(), static_cast<int>(i)).string(), "qcow2", true});
    } else {
      drives.push_back({disk.bytes.file.string(), std::string(image::qemu_format(disk.format)), true});
    }
  }

  guest::SessionOptions session_options;
  session_options.accel = options.accel;
  session_options.verbose = options.verbosity >= 2;
  session_options.on_note = [&](std::string_view message) {
    if (options.verbosity >= 1) fmt::print(stderr, "vmfix: {}\n", message);
  };
  guest::Session session(drives, session_options);
  session.launch();
  inspect::Facts facts = inspect::inspect_guest(session, sources, inspect::MountMode::read_only);
  session.shutdown();

  nlohmann::ordered_json report;
  report["schema"] = "vmfix.inspect/2";
  report["vmfix_version"] = VMFIX_VERSION;
  report["image"] = image_json(vm);
  report["guest"] = inspect::to_json(facts);
  report["appliance_launches"] = guest::Session::launch_count();
  if (options.report_file) write_host_file_atomic(*options.report_file, report.dump(2) + "\n");
  if (options.json) {
    fmt::print("{}\n", report.dump(2));
    return kExitReady;
  }
  fmt::print("{}", vm.path.string());
  for (const image::SourceImage& disk : vm.disks)
    fmt::print("{}{}{}{}", &disk == &vm.disks.front() ? " (" : ", ",
               vm.kind == "disk" ? "" : disk.bytes.name.substr(disk.bytes.name.rfind(':') + 1) + ": ",
               image::to_string(disk.format), disk.variant.empty() ? "" : " " + disk.variant);
  fmt::print(")\n\n{}", inspect::render_text(facts));
  return kExitReady;
}

}  // namespace vmfix::cli

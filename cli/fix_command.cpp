#include "cli/fix_command.h"

#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "fixers/registry.h"
#include "guest/libguestfs_guest.h"
#include "guest/session.h"
#include "image/output.h"
#include "image/vm_source.h"
#include "inspect/inspect.h"
#include "inspect/report.h"
#include "support/files.h"

namespace vmfix::cli {

using nlohmann::ordered_json;

int run_list_fixers(const Options& options) {
  ordered_json list = ordered_json::array();
  for (const auto& fixer : fixers::all_fixers()) {
    if (options.json) list.push_back({{"id", fixer->id()}, {"summary", fixer->summary()}});
    else fmt::print("{:<14} {}\n", fixer->id(), fixer->summary());
  }
  if (options.json) fmt::print("{}\n", list.dump(2));
  return kExitReady;
}

int run_fix(const Options& options) {
  if (options.in_place) throw UsageError("--in-place is not built yet; vmfix writes a new image (-o)");
  if (options.dry_run) throw UsageError("--dry-run is not built yet");
  auto selected = fixers::select_fixers(options.fix_ids);
  const image::VmSource vm = image::open_vm(options.images.front());
  if (vm.kind != "disk") throw UsageError("writing OVA output is not built yet; --fix takes a single disk image");
  const image::OutputSpec output = image::choose_output(vm, options.output, options.output_format);

  // Edits land in a qcow2 overlay; the source is opened read-only by qemu through it.
  TempDir work("vmfix-work");
  const auto overlay = image::create_overlay(vm.disks.front(), work.path(), 0);
  guest::SessionOptions session_options;
  session_options.accel = options.accel;
  session_options.verbose = options.verbosity >= 2;
  session_options.on_note = [&](std::string_view message) {
    if (options.verbosity >= 1) fmt::print(stderr, "vmfix: {}\n", message);
  };
  guest::Session session({{overlay.string(), "qcow2", false}}, session_options);
  session.launch();
  inspect::Facts facts = inspect::inspect_guest(session, {vm.disks.front().bytes.name}, inspect::MountMode::read_write);
  guest::LibguestfsGuest guest(session);

  ordered_json fixer_results = ordered_json::array(), changes = ordered_json::array();
  for (auto& fixer : selected) {
    if (!fixer->applies(facts)) {
      fixer_results.push_back({{"id", fixer->id()}, {"status", "not-applicable"}});
      continue;
    }
    auto made = fixer->fix(guest, facts);
    fixer_results.push_back({{"id", fixer->id()}, {"status", made.empty() ? "unchanged" : "changed"}});
    for (const auto& change : made)
      changes.push_back({{"fixer", change.fixer}, {"target", change.target}, {"before", change.before}, {"after", change.after}});
  }
  session.shutdown();
  image::write_output(overlay, output);

  ordered_json report;
  report["schema"] = "vmfix.fix/1";
  report["vmfix_version"] = VMFIX_VERSION;
  report["image"] = {{"path", vm.path.string()}, {"format", image::to_string(vm.disks.front().format)}};
  report["output"] = {{"path", output.path.string()}, {"format", output.format}};
  report["fixers"] = fixer_results;
  report["changes"] = changes;
  report["appliance_launches"] = guest::Session::launch_count();
  if (options.report_file) write_host_file_atomic(*options.report_file, report.dump(2) + "\n");
  if (options.json) {
    fmt::print("{}\n", report.dump(2));
  } else {
    for (const auto& change : changes)
      fmt::print("{:<10} {}\n{:<10}   {} -> {}\n", change["fixer"].get<std::string>(), change["target"].get<std::string>(), "",
                 change["before"].get<std::string>(), change["after"].get<std::string>());
    if (changes.empty()) fmt::print("nothing to change\n");
    fmt::print("wrote {} ({})\n", output.path.string(), output.format);
  }
  return kExitReady;
}

}  // namespace vmfix::cli

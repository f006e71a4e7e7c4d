#include "cli/inspect_command.h"

#include <fmt/core.h>

#include "cli/common.h"
#include "inspect/report.h"
#include "remediate/inspection.h"

namespace vmfix::cli {

int run_inspect(const Options& options) {
  const remediate::Inspection inspection = remediate::inspect_image(options.images.front(), session_options(options));
  emit_json(options, remediate::to_json(inspection));
  if (options.json || options.verbosity == 0) return kExitReady;  // -q: errors only
  const image::VmSource& vm = inspection.vm;
  fmt::print("{}", vm.path.string());
  for (const image::SourceImage& disk : vm.disks)
    fmt::print("{}{}{}{}", &disk == &vm.disks.front() ? " (" : ", ",
               vm.kind == "disk" ? "" : disk.bytes.name.substr(disk.bytes.name.rfind(':') + 1) + ": ",
               image::to_string(disk.format), disk.variant.empty() ? "" : " " + disk.variant);
  fmt::print(")\n\n{}", inspect::render_text(inspection.facts));
  return kExitReady;
}

}  // namespace vmfix::cli

#include "cli/inspect_command.h"

#include <fmt/core.h>

#include <cstdio>

#include "guest/session.h"
#include "image/detect.h"
#include "inspect/inspect.h"
#include "inspect/report.h"
#include "support/files.h"

namespace vmfix::cli {

int run_inspect(const Options& options) {
  const image::SourceImage source = image::open_image(options.images.front());

  guest::SessionOptions session_options;
  session_options.accel = options.accel;
  session_options.verbose = options.verbosity >= 2;
  session_options.on_note = [&](std::string_view message) {
    if (options.verbosity >= 1) fmt::print(stderr, "vmfix: {}\n", message);
  };
  guest::Session session({{source.path.string(), std::string(image::qemu_format(source.format)), true}},
                         session_options);
  session.launch();
  inspect::Facts facts = inspect::inspect_guest(session, {source.path.string()}, inspect::MountMode::read_only);
  session.shutdown();

  nlohmann::ordered_json report;
  report["schema"] = "vmfix.inspect/1";
  report["vmfix_version"] = VMFIX_VERSION;
  report["image"] = {{"path", source.path.string()},
                     {"format", image::to_string(source.format)},
                     {"variant", source.variant},
                     {"virtual_size", source.virtual_size}};
  report["guest"] = inspect::to_json(facts);
  report["appliance_launches"] = guest::Session::launch_count();
  if (options.report_file) write_host_file_atomic(*options.report_file, report.dump(2) + "\n");
  if (options.json) {
    fmt::print("{}\n", report.dump(2));
  } else {
    fmt::print("{} ({}{})\n\n{}", source.path.string(), image::to_string(source.format),
               source.variant.empty() ? "" : " " + source.variant, inspect::render_text(facts));
  }
  return kExitReady;
}

}  // namespace vmfix::cli

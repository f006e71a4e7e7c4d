#pragma once
// The remediation job, as named steps: open -> launch -> inspect -> evaluate -> fix -> re-check ->
// write. One appliance launch, the profile's rules before and after the fixers, and the output
// image only when nothing blocks the import. The CLI fills a Request and renders the Report.
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "guest/session.h"
#include "remediate/report.h"

namespace vmfix::remediate {

struct Request {
  Mode mode = Mode::all;
  bool dry_run = false;   // fix on overlays that are thrown away; write nothing
  bool in_place = false;  // edit the source itself (raw or qcow2)
  bool force = false;     // write the output even when blockers remain
  std::string image;
  std::string profile = "aws-current";
  std::vector<std::string> fix_ids;  // Mode::fix
  std::vector<std::string> skip_ids;
  std::optional<std::string> unattend_file;
  std::optional<std::string> output;
  std::optional<image::OutputFormat> output_format;
  std::filesystem::path scratch;  // --scratch: the output's intermediates; "" beside it
  guest::SessionOptions session;
  bool progress = false;                             // draw the writer's progress line on stderr
  std::function<void(std::string_view)> on_step;     // after each step, what was done (for -v)
  std::function<void(std::string_view)> on_note;     // notices, as -q silences them
  std::function<void(std::string_view)> on_warning;  // what the user must see even with -q
};

// Runs the job. Throws Error (and its kinds) for what stops it: bad input, a launch failure, a
// failed write.
Report run(const Request& request);

}  // namespace vmfix::remediate

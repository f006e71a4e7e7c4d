// --check, --all, --fix and --dry-run: the options become a remediate::Request, and the job's
// report goes out as JSON (--json, --report) or as text (remediate::render_text).
#include "cli/remediate_command.h"

#include <fmt/core.h>
#include <unistd.h>

#include <cstdlib>

#include "cli/common.h"
#include "fixers/table.h"
#include "guest/session.h"
#include "remediate/aws_import.h"
#include "remediate/job.h"
#include "remediate/text.h"
#include "rules/engine.h"
#include "support/files.h"

namespace vmfix::cli {

using nlohmann::ordered_json;

namespace {

remediate::Request request_of(const Options& options) {
  remediate::Request request;
  request.mode = options.mode == Mode::check ? remediate::Mode::check
                 : options.mode == Mode::fix ? remediate::Mode::fix
                                             : remediate::Mode::all;
  request.dry_run = options.dry_run;
  request.in_place = options.in_place;
  request.force = options.force;
  request.image = options.images.front();
  request.profile = options.profile;
  request.fix_ids = options.fix_ids;
  request.skip_ids = options.skip_ids;
  request.unattend_file = options.unattend_file;
  request.output = options.output;
  request.output_format = options.output_format;
  request.scratch = options.scratch;
  request.session = session_options(options);
  request.progress = !options.json && options.verbosity > 0 && isatty(STDERR_FILENO) == 1;
  const int verbosity = options.verbosity;
  // With -v, where the time goes: one line per step.
  if (verbosity >= 2) request.on_step = [](std::string_view what) { fmt::print(stderr, "vmfix: {}\n", what); };
  request.on_note = [verbosity](std::string_view message) {
    if (verbosity > 0) fmt::print(stderr, "vmfix: {}\n", message);
  };
  // -q prints errors only: a warning (--force, --in-place) is the user's own choice said back.
  request.on_warning = [verbosity](std::string_view message) {
    if (verbosity > 0) fmt::print(stderr, "vmfix: {}\n", message);
  };
  return request;
}

}  // namespace

int run_list_fixers(const Options& options) {
  if (options.json)
    fmt::print("{}\n", fixers::fixer_list_json().dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
  else
    for (const auto& fixer : fixers::all_fixers()) fmt::print("{:<14} {}\n", fixer->id(), fixer->summary());
  return kExitReady;
}

int run_list_rules(const Options& options) {
  const rules::Profile& profile = rules::load_profile(options.profile);
  if (options.json) {
    fmt::print("{}\n", rules::to_json(profile).dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
    return kExitReady;
  }
  for (const rules::Rule& rule : profile.rules)
    fmt::print("{:<24} {:<8} {:<8} {}{}\n", rule.id, rules::to_string(rule.severity), rule.area, rule.title,
               rule.fixer.empty() ? "" : fmt::format(" [fixer: {}]", rule.fixer));
  return kExitReady;
}

int run_remediate(const Options& options) {
  remediate::AwsImportOptions aws{options.s3, remediate::aws_route_named(options.aws_route), options.aws_byol};
  if (!options.s3.empty()) remediate::check_s3_url(options.s3);
  const remediate::Report report = remediate::run(request_of(options));
  const nlohmann::ordered_json json = remediate::to_json(report);
  emit_json(options, json);
  if (options.aws_import_json)
    write_host_file_atomic(*options.aws_import_json,
                           json_text(remediate::aws_import_document(report, json_text(json), aws)));
  if (!options.json && options.verbosity > 0) {
    const bool color = isatty(STDOUT_FILENO) == 1 && std::getenv("NO_COLOR") == nullptr;
    fmt::print("{}", remediate::render_text(report, {color, options.verbosity}));
  }
  return report.exit_code();
}

}  // namespace vmfix::cli

// --check, --all, --fix and --dry-run: the options become a remediate::Request, and the job's
// report is rendered as JSON (--json, --report) and as text.
#include "cli/remediate_command.h"

#include <fmt/color.h>
#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>

#include "cli/common.h"
#include "fixers/table.h"
#include "guest/session.h"
#include "inspect/report.h"
#include "remediate/aws_import.h"
#include "remediate/job.h"
#include "rules/engine.h"
#include "support/files.h"
#include "support/text.h"

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
  request.session = session_options(options);
  request.progress = !options.json && options.verbosity > 0 && isatty(STDERR_FILENO) == 1;
  const int verbosity = options.verbosity;
  // With -v, where the time goes: one line per step.
  if (verbosity >= 2) request.on_step = [](std::string_view what) { fmt::print(stderr, "vmfix: {}\n", what); };
  request.on_note = [verbosity](std::string_view message) {
    if (verbosity > 0) fmt::print(stderr, "vmfix: {}\n", message);
  };
  request.on_warning = [](std::string_view message) { fmt::print(stderr, "vmfix: {}\n", message); };
  return request;
}

struct Styles {
  bool color = false;
  std::string paint(std::string_view text, fmt::text_style style) const {
    return color ? fmt::format(style, "{}", text) : std::string(text);
  }
};

std::string status_word(std::string_view status, const Styles& styles) {
  if (status == "pass") return styles.paint("ok     ", fmt::fg(fmt::terminal_color::green));
  if (status == "fixed") return styles.paint("fixed  ", fmt::fg(fmt::terminal_color::green) | fmt::emphasis::bold);
  if (status == "fail") return styles.paint("FAIL   ", fmt::fg(fmt::terminal_color::red) | fmt::emphasis::bold);
  if (status == "unknown") return styles.paint("unknown", fmt::fg(fmt::terminal_color::yellow));
  return styles.paint("skipped", fmt::emphasis::faint);
}

// The message, the evidence (of the failure, for a fixed finding) and what fixes it.
void print_detail(const remediate::ShownFinding& shown, const Styles& styles, int verbosity) {
  const rules::Result& result = *shown.result;
  const std::string indent(44, ' ');
  fmt::print("{}{}\n", indent, styles.paint(result.outcome.message, fmt::emphasis::italic));
  const auto& evidence = shown.fixed ? shown.before->outcome.evidence : result.outcome.evidence;
  const size_t count = verbosity >= 2 ? evidence.size() : std::min<size_t>(evidence.size(), 4);
  for (size_t i = 0; i < count; ++i) fmt::print("{}{}\n", indent, evidence[i]);
  if (count < evidence.size()) fmt::print("{}... {} more (-v or --json shows all)\n", indent, evidence.size() - count);
  const std::string& fixer = result.rule->fixer;
  if (!shown.failed() || fixer.empty()) return;
  fmt::print("{}{}\n", indent,
             result.fixable ? fmt::format("-> fixed by: {}", fixer)
                            : fmt::format("-> not fixed: the '{}' fixer cannot repair this (evidence above)", fixer));
}

void print_findings(const std::vector<remediate::ShownFinding>& findings, const Styles& styles, int verbosity) {
  std::string area;
  for (const remediate::ShownFinding& shown : findings) {
    const rules::Rule& rule = *shown.result->rule;
    if (shown.status() == rules::Status::skipped && verbosity < 2) continue;
    if (rule.area != area) {
      area = rule.area;
      fmt::print("\n{}\n", styles.paint(area, fmt::emphasis::bold));
    }
    fmt::print("  {} {:<8} {:<24} {}\n", status_word(shown.word(), styles), rules::to_string(rule.severity), rule.id,
               rule.title);
    if (shown.failed() || shown.status() == rules::Status::unknown || verbosity >= 2)
      print_detail(shown, styles, verbosity);
  }
}

void print_changes(const remediate::Report& report, int verbosity) {
  fmt::print("\n{}\n", report.dry_run ? "planned changes (nothing written)" : "changes");
  for (const auto& change : report.changes) {
    fmt::print("  {:<14} {}\n  {:<14}   {} -> {}\n", change.fixer, change.target, "", change.before, change.after);
    if (!change.diff.empty() && (report.dry_run || verbosity >= 2))
      for (std::string_view line : split_lines(change.diff)) fmt::print("      {}\n", line);
  }
  if (report.changes.empty()) fmt::print("  nothing to change\n");
}

std::string verdict_line(rules::Verdict verdict, const std::vector<remediate::ShownFinding>& findings,
                         const Styles& styles) {
  const remediate::Tally counts = remediate::tally(findings);
  auto color = verdict == rules::Verdict::ready     ? fmt::terminal_color::green
               : verdict == rules::Verdict::fixable ? fmt::terminal_color::yellow
                                                    : fmt::terminal_color::red;
  return fmt::format("verdict: {} ({} fixable, {} blocking, {} other warnings)",
                     styles.paint(rules::to_string(verdict), fmt::fg(color) | fmt::emphasis::bold), counts.fixable,
                     counts.blocking, counts.warnings);
}

void print_output(const remediate::Report& report) {
  if (report.written && report.in_place) {
    fmt::print("changed {} in place\n", report.output->path.string());
  } else if (report.written) {
    for (const auto& file : report.output->files) fmt::print("wrote {} ({})\n", file.string(), report.output->format);
    for (const auto& removed : report.write.removed_from_ovf) fmt::print("  the OVF no longer has: {}\n", removed);
  } else if (report.mode != remediate::Mode::check && !report.dry_run) {
    fmt::print("not written: blockers remain (see above; --force writes anyway)\n");
  }
}

void print_text(const remediate::Report& report, const std::vector<remediate::ShownFinding>& findings, int verbosity) {
  Styles styles{isatty(STDOUT_FILENO) == 1 && std::getenv("NO_COLOR") == nullptr};
  const inspect::Facts& facts = report.facts;
  const std::string guest_name =
      facts.os_type == "windows" ? facts.product_name : fmt::format("{} {}", facts.distro, facts.product_name);
  fmt::print("{} ({}), profile {}\n", report.vm.path.string(), guest_name, report.profile->id);
  print_findings(findings, styles, verbosity);
  if (report.mode != remediate::Mode::check) print_changes(report, verbosity);
  fmt::print("\n{}\n", verdict_line(report.final_state().verdict, findings, styles));
  print_output(report);
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
  if (!options.json && options.verbosity > 0) print_text(report, remediate::shown_findings(report), options.verbosity);
  return report.exit_code();
}

}  // namespace vmfix::cli

#include "remediate/report.h"

#include "inspect/report.h"
#include "support/error.h"

namespace vmfix::remediate {

using nlohmann::ordered_json;

namespace {

bool blocked_by_guest(const rules::Evaluation& evaluation) {
  for (const auto& result : evaluation.results)
    if (result.rule->severity == rules::Severity::blocker && result.outcome.status == rules::Status::fail &&
        result.rule->id != "image-format")
      return true;
  return false;
}

ordered_json change_json(const fixers::Change& change) {
  ordered_json entry{
      {"fixer", change.fixer}, {"target", change.target}, {"before", change.before}, {"after", change.after}};
  if (!change.diff.empty()) entry["diff"] = change.diff;
  return entry;
}

ordered_json finding_json(const ShownFinding& shown) {
  const rules::Result& result = *shown.result;
  const rules::Rule& rule = *result.rule;
  ordered_json finding{{"id", rule.id},
                       {"area", rule.area},
                       {"title", rule.title},
                       {"severity", to_string(rule.severity)},
                       {"status", shown.word()},
                       {"message", result.outcome.message},
                       {"evidence", result.outcome.evidence},
                       {"fixer", rule.fixer.empty() ? ordered_json(nullptr) : ordered_json(rule.fixer)},
                       {"fixable", result.fixable}};
  if (shown.before)
    finding["before"] = {{"status", to_string(shown.before->outcome.status)},
                         {"evidence", shown.before->outcome.evidence}};
  if (!rule.aws_message.empty()) finding["aws_message"] = rule.aws_message;
  return finding;
}

std::string_view mode_name(const Report& report) {
  if (report.mode == Mode::check) return "check";
  if (report.dry_run) return "dry-run";
  return report.mode == Mode::fix ? "fix" : "all";
}

ordered_json output_json(const Report& report) {
  if (!report.output) return nullptr;
  const image::OutputSpec& output = *report.output;
  ordered_json json{
      {"path", output.path.string()}, {"format", image::to_string(output.format)}, {"written", report.written}};
  if (output.files.size() > 1) json["files"] = output.files;
  if (report.in_place) json["in_place"] = true;
  if (!report.write.removed_from_ovf.empty()) json["removed_from_ovf"] = report.write.removed_from_ovf;
  if (report.forced) json["forced"] = true;
  return json;
}

}  // namespace

std::string_view to_string(FixerStatus status) {
  switch (status) {
    case FixerStatus::not_applicable:
      return "not-applicable";
    case FixerStatus::unchanged:
      return "unchanged";
    case FixerStatus::changed:
      return "changed";
  }
  return "unchanged";
}

bool Report::blocked() const {
  const rules::Evaluation& state = final_state();
  return in_place ? blocked_by_guest(state) : state.verdict == rules::Verdict::blocked;
}

int Report::exit_code() const {
  const rules::Evaluation& state = final_state();
  // In place, a format AWS does not take (qcow2) is left for the user's own conversion: fixable.
  if (in_place && !dry_run && state.verdict == rules::Verdict::blocked && !blocked_by_guest(state)) return kExitFixable;
  return rules::exit_code_of(dry_run ? before.verdict : state.verdict);
}

std::vector<ShownFinding> shown_findings(const Report& report) {
  std::vector<ShownFinding> shown;
  const rules::Evaluation& state = report.final_state();
  for (size_t i = 0; i < state.results.size(); ++i) {
    const rules::Result* before = report.after ? &report.before.results[i] : nullptr;
    const bool fixed = before && before->outcome.status == rules::Status::fail &&
                       state.results[i].outcome.status == rules::Status::pass;
    shown.push_back({&state.results[i], before, fixed});
  }
  return shown;
}

ordered_json image_json(const image::VmSource& vm) {
  ordered_json image{{"path", vm.path.string()}, {"kind", vm.kind}, {"disks", ordered_json::array()}};
  for (const image::SourceImage& disk : vm.disks)
    image["disks"].push_back({{"source", disk.bytes.name},
                              {"format", image::to_string(disk.format)},
                              {"variant", disk.variant},
                              {"virtual_size", disk.virtual_size}});
  if (vm.ovf) {
    image["ovf"] = {{"name", vm.ovf->name},   {"os_type", vm.ovf->os_type}, {"firmware", vm.ovf->firmware},
                    {"nics", vm.ovf->nics},   {"cdroms", vm.ovf->cdroms},   {"floppies", vm.ovf->floppies},
                    {"manifest", vm.manifest}};
  }
  image["notes"] = vm.notes;
  return image;
}

ordered_json to_json(const Report& report) {
  ordered_json json;
  json["schema"] = "vmfix.report/1";
  json["vmfix_version"] = VMFIX_VERSION;
  json["mode"] = mode_name(report);
  json["profile"] = {{"id", report.profile->id}, {"title", report.profile->title}};
  json["verdict"] = to_string(report.final_state().verdict);
  if (report.after) json["verdict_before"] = to_string(report.before.verdict);
  json["image"] = image_json(report.vm);
  json["output"] = output_json(report);
  json["findings"] = ordered_json::array();
  for (const ShownFinding& finding : shown_findings(report)) json["findings"].push_back(finding_json(finding));
  if (report.mode != Mode::check) {
    json["fixers"] = ordered_json::array();
    for (const auto& run : report.fixers) json["fixers"].push_back({{"id", run.id}, {"status", to_string(run.status)}});
    json["changes"] = ordered_json::array();
    for (const auto& change : report.changes) json["changes"].push_back(change_json(change));
  }
  json["guest"] = inspect::to_json(report.facts);
  json["appliance_launches"] = report.appliance_launches;
  return json;
}

Tally tally(const std::vector<ShownFinding>& findings) {
  Tally counts;
  for (const ShownFinding& shown : findings) {
    if (!shown.failed()) continue;
    const rules::Severity severity = shown.result->rule->severity;
    if (shown.result->fixable)
      ++counts.fixable;
    else if (severity == rules::Severity::blocker)
      ++counts.blocking;
    else if (severity == rules::Severity::warning)
      ++counts.warnings;
  }
  return counts;
}

}  // namespace vmfix::remediate

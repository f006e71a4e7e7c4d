#include "rules/engine.h"

#include <fmt/core.h>

#include <algorithm>
#include <cctype>

#include "support/error.h"

namespace vmfix::rules {

namespace {

std::pair<int, int> parse_version(const std::string& text) {
  int major = 0, minor = 0;
  size_t dot = text.find('.');
  major = std::atoi(text.substr(0, dot).c_str());
  if (dot != std::string::npos) minor = std::atoi(text.substr(dot + 1).c_str());
  return {major, minor};
}

fixers::Fixer* find_fixer(const std::vector<fixers::Fixer*>& fixers, const std::string& id) {
  for (fixers::Fixer* fixer : fixers)
    if (fixer->id() == id) return fixer;
  return nullptr;
}

bool os_matches(const Rule& rule, const inspect::Facts& facts) { return rule.os == "any" || rule.os == facts.os_type; }

// What a fixer's findings for one rule add up to: the first failure's message, every failure's
// evidence, repairable only when each failure is; else the first finding's status.
std::optional<Outcome> outcome_of_findings(const std::vector<fixers::Finding>& findings, const std::string& rule) {
  Outcome outcome{Status::pass, "", {}};
  bool answered = false;
  for (const fixers::Finding& finding : findings) {
    if (finding.rule != rule) continue;
    if (outcome.message.empty() || finding.status == Status::fail) outcome.message = finding.message;
    if (finding.status == Status::fail) {
      outcome.status = Status::fail;
      answered = true;
      outcome.repairable = outcome.repairable && finding.repairable;
      if (!finding.evidence.empty()) outcome.evidence.push_back(finding.evidence);
    } else if (!answered) {
      outcome.status = finding.status;
      answered = true;
    }
  }
  if (!answered) return std::nullopt;
  return outcome;
}

// A rule whose checker is a fixer: that fixer's check, run once however many rules it answers.
Outcome outcome_from_fixer(const Context& context, const Rule& rule,
                           std::map<std::string, std::vector<fixers::Finding>>& checked) {
  fixers::Fixer* fixer = find_fixer(context.checkers, rule.fixer);
  if (fixer == nullptr || context.guest == nullptr)
    return {Status::unknown, fmt::format("only the '{}' fixer checks this, and it needs the guest", rule.fixer), {}};
  auto it = checked.find(rule.fixer);
  if (it == checked.end()) it = checked.emplace(rule.fixer, fixer->check(*context.guest, context.facts)).first;
  if (auto outcome = outcome_of_findings(it->second, rule.id)) return std::move(*outcome);
  return {Status::unknown,
          fmt::format("only the '{}' fixer checks this, and it does not handle this guest", rule.fixer),
          {}};
}

Outcome outcome_of(const Context& context, const Rule& rule,
                   std::map<std::string, std::vector<fixers::Finding>>& checked) {
  if (rule.checker == Checker::offline)
    return {Status::skipped, "cannot be checked from the image: " + rule.offline, {}};
  if (!os_matches(rule, context.facts))
    return {Status::skipped, fmt::format("applies to {} guests", rule.os == "windows" ? "Windows" : "Linux"), {}};
  if (rule.checker == Checker::fixer) return outcome_from_fixer(context, rule, checked);
  return evaluators().at(rule.id)(context);
}

// A failure is fixable when a fixer that will run handles this guest and can repair it, or when
// the output writer fixes it.
bool fixable(const Context& context, const Rule& rule, const Outcome& outcome) {
  if (outcome.status != Status::fail || rule.fixer.empty()) return false;
  if (rule.fixer == "output") return true;
  fixers::Fixer* fixer = find_fixer(context.fixers, rule.fixer);
  return fixer != nullptr && fixer->applies(context.facts) && outcome.repairable;
}

}  // namespace

bool version_in_range(int major, int minor, const std::string& low, const std::string& high) {
  auto [low_major, low_minor] = parse_version(low);
  auto [high_major, high_minor] = parse_version(high);
  auto key = [](int a, int b) { return static_cast<long>(a) * 100000 + b; };
  return key(major, minor) >= key(low_major, low_minor) && key(major, minor) <= key(high_major, high_minor);
}

bool kernel_matches(const std::string& kernel, const std::string& series) {
  if (kernel.compare(0, series.size(), series) != 0) return false;
  return kernel.size() == series.size() || !std::isdigit(static_cast<unsigned char>(kernel[series.size()]));
}

Evaluation evaluate(const Context& context) {
  Evaluation evaluation;
  std::map<std::string, std::vector<fixers::Finding>> checked;
  for (const Rule& rule : context.profile.rules) {
    Result result;
    result.rule = &rule;
    result.outcome = outcome_of(context, rule, checked);
    result.fixable = fixable(context, rule, result.outcome);
    evaluation.results.push_back(std::move(result));
  }
  evaluation.verdict = verdict_of(evaluation.results);
  return evaluation;
}

void account_for_fixers_run(Evaluation& after, const std::vector<std::string>& fixers_run) {
  for (Result& result : after.results) {
    const std::string& fixer = result.rule->fixer;
    if (result.outcome.status != Status::fail || !result.fixable || fixer == "output") continue;
    if (std::find(fixers_run.begin(), fixers_run.end(), fixer) == fixers_run.end()) continue;
    result.fixable = false;
    result.outcome.evidence.push_back(fmt::format("the '{}' fixer ran and could not finish: this still fails", fixer));
  }
  after.verdict = verdict_of(after.results);
}

Verdict verdict_of(const std::vector<Result>& results) {
  bool fixable = false;
  for (const Result& result : results) {
    if (result.outcome.status != Status::fail || result.rule->severity == Severity::info) continue;
    if (!result.fixable && result.rule->severity == Severity::blocker) return Verdict::blocked;
    fixable = fixable || result.fixable;
  }
  return fixable ? Verdict::fixable : Verdict::ready;
}

int exit_code_of(Verdict verdict) {
  switch (verdict) {
    case Verdict::ready:
      return kExitReady;
    case Verdict::fixable:
      return kExitFixable;
    case Verdict::blocked:
      return kExitBlocked;
  }
  return kExitBlocked;
}

std::string_view to_string(Verdict verdict) {
  switch (verdict) {
    case Verdict::ready:
      return "ready";
    case Verdict::fixable:
      return "fixable";
    case Verdict::blocked:
      return "blocked";
  }
  return "blocked";
}

std::ostream& operator<<(std::ostream& out, Verdict verdict) { return out << to_string(verdict); }

}  // namespace vmfix::rules

#pragma once
// What a remediation job found, did and wrote (remediate/job.h runs it), and its JSON document,
// vmfix.report/1. Text rendering is the CLI's.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fixers/fixer.h"
#include "image/output.h"
#include "image/vm_source.h"
#include "inspect/facts.h"
#include "rules/engine.h"

namespace vmfix::remediate {

enum class Mode {
  check,  // read only: the rules, no fixers, no output
  fix,    // the fixers named in fix_ids, then the output
  all,    // every fixer that applies, then the output
};

enum class FixerStatus { not_applicable, unchanged, changed };
std::string_view to_string(FixerStatus status);

struct FixerRun {
  std::string id;
  FixerStatus status = FixerStatus::unchanged;
};

struct Report {
  Mode mode = Mode::all;
  bool dry_run = false;
  bool in_place = false;
  const rules::Profile* profile = nullptr;
  image::VmSource vm;
  inspect::Facts facts;
  rules::Evaluation before;
  std::optional<rules::Evaluation> after;  // absent in --check
  std::vector<FixerRun> fixers;            // empty in --check
  std::vector<fixers::Change> changes;
  std::optional<image::OutputSpec> output;  // absent in --check
  bool written = false;
  bool forced = false;  // written although blockers remain (--force)
  image::WriteResult write;
  int appliance_launches = 0;

  const rules::Evaluation& final_state() const { return after ? *after : before; }
  // Whether the output is held back: in place, only the guest's blockers count, since converting
  // the image's own format (qcow2) is the user's business.
  bool blocked() const;
  // --dry-run answers "what is there to fix": the verdict before; the others: the state left.
  int exit_code() const;
};

// A finding as the report shows it: the rule's state after fixing ("fixed" for a failure the
// fixers repaired), and its state before when the fixers ran.
struct ShownFinding {
  const rules::Result* result = nullptr;
  const rules::Result* before = nullptr;
  bool fixed = false;  // failed before, passes now

  rules::Status status() const { return result->outcome.status; }
  bool failed() const { return status() == rules::Status::fail; }
  std::string_view word() const { return fixed ? "fixed" : to_string(status()); }  // the report's status
};
std::vector<ShownFinding> shown_findings(const Report& report);

// The failures among them: fixable, blocking, and other warnings (reported, not blocking).
struct Tally {
  int fixable = 0, blocking = 0, warnings = 0;
};
Tally tally(const std::vector<ShownFinding>& findings);

// The vmfix.report/1 document.
nlohmann::ordered_json to_json(const Report& report);
// Its "image" section, which vmfix.inspect/2 shares.
nlohmann::ordered_json image_json(const image::VmSource& vm);

}  // namespace vmfix::remediate

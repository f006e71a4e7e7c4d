#pragma once
// Evaluates a profile's rules against a guest: each rule is answered by the checker its profile
// names, an evaluator (facts, and the guest for the few that read files) or a fixer's own check.
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "fixers/fixer.h"
#include "guest/guest.h"
#include "inspect/facts.h"
#include "rules/profile.h"

namespace vmfix::rules {

// What the rules know about the image beyond the guest.
struct ImageFacts {
  std::string format;         // "raw", "qcow2", "vmdk", "vhd", "vhdx", "ova", "ovf"
  std::string variant;        // "streamOptimized", "monolithicSparse", "dynamic", ...
  std::string output_format;  // what vmfix writes ("vmdk-stream", "vhd", ...); "" in --check
  int disks = 1;
  int ovf_nics = -1;  // -1: no VM description (a bare disk)
  int ovf_cdroms = -1;
  int ovf_floppies = -1;
};

using fixers::Status;

struct Outcome {
  Status status = Status::unknown;
  std::string message;
  std::vector<std::string> evidence;
  bool repairable = true;  // false when the owning fixer says it cannot repair this failure
};

struct Result {
  const Rule* rule = nullptr;
  Outcome outcome;
  bool fixable = false;  // a failure a selected fixer (or the output writer) will fix
};

// ready: nothing fails that matters; fixable: every failing blocker or warning has a fixer that
// will run; blocked: a blocker fails and nothing here fixes it.
enum class Verdict { ready, fixable, blocked };
std::string_view to_string(Verdict verdict);
std::ostream& operator<<(std::ostream& out, Verdict verdict);  // for test messages

struct Evaluation {
  std::vector<Result> results;
  Verdict verdict = Verdict::ready;
};

struct Context {
  const Profile& profile;
  const inspect::Facts& facts;
  const ImageFacts& image;
  guest::Guest* guest = nullptr;       // for the fixers' checks; null in unit tests
  std::vector<fixers::Fixer*> fixers;  // the fixers that may run (after --fix/--skip)
  // Every fixer, whatever --fix and --skip chose: the checks of the rules whose checker is a
  // fixer. Empty: those rules are unknown.
  std::vector<fixers::Fixer*> checkers = {};
};

using Evaluator = std::function<Outcome(const Context&)>;

// The evaluators by rule id (rules/checks_*.cpp).
const std::map<std::string, Evaluator>& evaluators();

Evaluation evaluate(const Context& context);

// The evaluation after fixing: a failure whose fixer ran is one that fixer could not finish, so
// it is no longer fixable (its evidence says so), and the verdict follows (blocked for a blocker).
// The output writer's rules are still to be fixed when the image is written.
void account_for_fixers_run(Evaluation& after, const std::vector<std::string>& fixers_run);

Verdict verdict_of(const std::vector<Result>& results);
int exit_code_of(Verdict verdict);

// Version helpers shared by the evaluators (exposed for tests).
bool version_in_range(int major, int minor, const std::string& low, const std::string& high);
bool kernel_matches(const std::string& kernel, const std::string& series);

}  // namespace vmfix::rules

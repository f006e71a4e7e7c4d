#pragma once
// A fixer is a check with a fix-it: one file, one registration line, one README row, one test
// that shows the guest before and after.
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "guest/guest.h"
#include "inspect/facts.h"

namespace vmfix::fixers {

// How a check came out. A report says "fixed" for a failure that passes after fixing; that is the
// report's word, not a status.
enum class Status { pass, fail, unknown, skipped };
std::string_view to_string(Status status);
std::ostream& operator<<(std::ostream& out, Status status);  // for test messages

// What a fixer's check found for one of the rules it answers. The rule's severity is the
// profile's (profiles/*.json), never the fixer's.
struct Finding {
  std::string rule;  // stable rule id
  Status status = Status::pass;
  std::string message;
  std::string evidence;    // file, key and value found
  bool repairable = true;  // false: the fixer sees the failure but cannot repair it (evidence says why)
};

struct Change {
  std::string fixer;
  std::string target;  // guest path, or hive key
  std::string before;
  std::string after;
  std::string diff;  // unified diff, for text files
};

// One row of the README's fixer table, which scripts/fixer-table.sh writes from these.
struct FixerDoc {
  std::string id;
  std::string os;       // "Windows" or "Linux" for one half of a pair (by_os.h), else ""
  std::string checks;   // what it checks (Markdown)
  std::string changes;  // what it changes (Markdown)
};

class Fixer {
 public:
  virtual ~Fixer() = default;
  virtual std::string_view id() const = 0;       // stable, used by --fix and --skip
  virtual std::string_view summary() const = 0;  // one line for --list-fixers
  virtual std::vector<FixerDoc> documentation() const = 0;
  // The profile rules its check answers: a rule whose checker is "fixer" (profiles/*.json) names
  // a fixer that lists it here, and every Finding the check returns names one of these.
  virtual std::vector<std::string> rules() const = 0;
  // Whether fix() has work it can do on this guest. check() answers for every guest of its rules'
  // OS, whether or not the fixer applies: it is what decides those rules.
  virtual bool applies(const inspect::Facts& facts) const = 0;
  virtual std::vector<Finding> check(guest::Guest& guest, const inspect::Facts& facts) = 0;  // read-only
  virtual std::vector<Change> fix(guest::Guest& guest, const inspect::Facts& facts) = 0;     // idempotent
};

}  // namespace vmfix::fixers

#pragma once
// A fixer is a check with a fix-it: one file, one registration line, one README row, one test
// that shows the guest before and after.
#include <string>
#include <string_view>
#include <vector>

#include "guest/guest.h"
#include "inspect/facts.h"

namespace vmfix::fixers {

struct Finding {
  std::string rule;      // stable rule id
  std::string severity;  // "blocker", "warning", "info"
  std::string status;    // "pass", "fail", "fixed", "unknown", "skipped"
  std::string message;
  std::string evidence;  // file, key and value found
  bool fixable = true;   // false: the fixer sees the failure but cannot repair it (evidence says why)
};

struct Change {
  std::string fixer;
  std::string target;  // guest path, or hive key
  std::string before;
  std::string after;
  std::string diff;    // unified diff, for text files
};

class Fixer {
 public:
  virtual ~Fixer() = default;
  virtual std::string_view id() const = 0;       // stable, used by --fix and --skip
  virtual std::string_view summary() const = 0;  // one line for --list-fixers
  virtual bool applies(const inspect::Facts& facts) const = 0;
  virtual std::vector<Finding> check(guest::Guest& guest, const inspect::Facts& facts) = 0;  // read-only
  virtual std::vector<Change> fix(guest::Guest& guest, const inspect::Facts& facts) = 0;     // idempotent
};

}  // namespace vmfix::fixers

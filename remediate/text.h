#pragma once
// The remediation report as the terminal shows it: findings by area, the changes, the verdict and
// what was written. The JSON form is remediate::to_json; the CLI picks one and where it goes.
#include <string>

#include "remediate/report.h"

namespace vmfix::remediate {

struct TextStyle {
  bool color = false;  // ANSI colours (a terminal, and NO_COLOR unset)
  int verbosity = 1;   // 2 (-v): skipped rules, every finding's detail and every diff
};

std::string render_text(const Report& report, const TextStyle& style);

}  // namespace vmfix::remediate

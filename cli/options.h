#pragma once
// The command line contract (README, "Usage"): modes, options and their validation.
#include <optional>
#include <string>
#include <vector>

#include "guest/accel.h"

namespace vmfix::cli {

enum class Mode { none, inspect, check, all, fix, list_fixers, help, version };

struct Options {
  Mode mode = Mode::none;
  std::vector<std::string> fix_ids;  // --fix ID[,ID]
  std::vector<std::string> images;
  bool json = false;
  std::optional<std::string> report_file;
  std::optional<std::string> output;
  std::optional<std::string> output_format;
  bool in_place = false;
  bool dry_run = false;
  std::string profile = "aws-current";
  guest::Accel accel = guest::Accel::automatic;
  int verbosity = 1;  // 0 with -q, 2 with -v
};

// Throws UsageError for anything the contract does not allow.
Options parse_options(int argc, char** argv);
std::string usage_text();

}  // namespace vmfix::cli

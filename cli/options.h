#pragma once
// The command line contract (README, "Usage"): modes, options and their validation.
#include <optional>
#include <string>
#include <vector>

#include "guest/accel.h"
#include "image/output.h"

namespace vmfix::cli {

enum class Mode { none, inspect, check, all, fix, list_fixers, list_rules, help, version };

struct Options {
  Mode mode = Mode::none;
  std::vector<std::string> fix_ids;          // --fix ID[,ID]
  std::vector<std::string> skip_ids;         // --skip ID[,ID]
  bool force = false;                        // write the output even when blockers remain
  std::optional<std::string> unattend_file;  // --unattend FILE: the user's own answer file
  std::vector<std::string> images;
  bool json = false;
  std::optional<std::string> report_file;
  std::optional<std::string> output;
  std::optional<image::OutputFormat> output_format;
  std::filesystem::path scratch;  // --scratch
  bool in_place = false;
  bool dry_run = false;
  std::string profile = "aws-current";
  guest::Accel accel = guest::Accel::automatic;
  int verbosity = 1;   // 0 with -q, 2 with -v, 3 with -vv
  bool trace = false;  // -x: the libguestfs calls
  // The hand-off to AWS (README, "Importing into AWS").
  std::optional<std::string> aws_import_json;  // --aws-import-json FILE
  std::string s3;                              // --s3 s3://BUCKET/PREFIX/ ("": placeholders)
  std::string aws_route = "auto";              // --aws-route auto|image|snapshot
  bool aws_byol = false;                       // --aws-byol: a Windows server brings its licence
};

// Throws UsageError for anything the contract does not allow.
Options parse_options(int argc, char** argv);
// "ID[,ID]" as --fix and --skip take it: the ids, empty ones dropped.
std::vector<std::string> split_ids(const std::string& list);
std::string usage_text();

}  // namespace vmfix::cli

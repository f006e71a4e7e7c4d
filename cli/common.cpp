#include "cli/common.h"

#include <fmt/core.h>

#include "fixers/table.h"
#include "rules/profile.h"
#include "support/error.h"
#include "support/files.h"

namespace vmfix::cli {

guest::SessionOptions session_options(const Options& options) {
  guest::SessionOptions session_options;
  session_options.accel = options.accel;
  session_options.verbose = options.verbosity >= 2;
  session_options.libguestfs_verbose = options.verbosity >= 3;
  session_options.trace = options.trace;
  const int verbosity = options.verbosity;
  session_options.on_note = [verbosity](std::string_view message) {
    if (verbosity >= 1) fmt::print(stderr, "vmfix: {}\n", message);
  };
  return session_options;
}

std::string json_text(const nlohmann::ordered_json& document) {
  return document.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

void emit_json(const Options& options, const nlohmann::ordered_json& report) {
  const std::string text = json_text(report);
  if (options.report_file) write_host_file_atomic(*options.report_file, text);
  if (options.json) fmt::print("{}", text);
}

void check_choices(const std::string& profile, const std::optional<std::string>& fix,
                   const std::optional<std::string>& skip) {
  rules::load_profile(profile);
  if (fix) {
    const std::vector<std::string> ids = split_ids(*fix);
    if (ids.empty()) throw UsageError("--fix needs at least one fixer id");
    fixers::require_known(ids);
  }
  if (skip) fixers::require_known(split_ids(*skip));
}

}  // namespace vmfix::cli

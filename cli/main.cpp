// vmfix: make a powered-off VM image ready for AWS VM Import/Export, offline.
#include <fmt/core.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "batch/batch.h"
#include "cli/common.h"
#include "cli/inspect_command.h"
#include "cli/options.h"
#include "cli/remediate_command.h"
#include "remediate/aws_job.h"
#include "support/error.h"
#include "support/interrupt.h"
#include "support/text.h"

namespace {

// One line, whatever the message holds (libguestfs errors can span several).
int fail(const std::string& message, int exit_code, bool json) {
  fmt::print(stderr, "vmfix: {}\n", vmfix::one_line(message));
  if (json) {
    nlohmann::ordered_json error{{"schema", "vmfix.error/1"},
                                 {"error", {{"message", vmfix::one_line(message)}, {"exit_code", exit_code}}}};
    fmt::print("{}\n", error.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
  }
  return exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace vmfix;
  interrupt::install();
  bool json = false;
  for (int i = 1; i < argc; ++i) json = json || std::string_view(argv[i]) == "--json";
  try {
    if (argc > 1 && std::string_view(argv[1]) == "batch") {
      if (std::find(argv + 2, argv + argc, std::string_view("--help")) != argv + argc) {
        fmt::print("{}", batch::batch_usage());
        return kExitReady;
      }
      batch::BatchOptions options = batch::parse_batch_options(std::vector<std::string>(argv + 2, argv + argc));
      options.check_choices = cli::check_choices;
      json = options.json;
      return options.merge ? batch::run_merge(options) : batch::run_batch(options);
    }
    if (argc > 1 && std::string_view(argv[1]) == "aws-import") {
      auto options = remediate::parse_aws_import_options(std::vector<std::string>(argv + 2, argv + argc));
      return options ? remediate::run_aws_import(*options) : kExitReady;
    }
    cli::Options options = cli::parse_options(argc, argv);
    json = options.json;
    switch (options.mode) {
      case cli::Mode::help:
        fmt::print("{}", cli::usage_text());
        return kExitReady;
      case cli::Mode::version:
        fmt::print("vmfix {}\n", VMFIX_VERSION);
        return kExitReady;
      case cli::Mode::inspect:
        return cli::run_inspect(options);
      case cli::Mode::check:
      case cli::Mode::all:
      case cli::Mode::fix:
        return cli::run_remediate(options);
      case cli::Mode::list_fixers:
        return cli::run_list_fixers(options);
      case cli::Mode::list_rules:
        return cli::run_list_rules(options);
      case cli::Mode::none:
        break;
    }
    throw UsageError("no mode given (try --help)");
  } catch (const Error& e) {
    return fail(e.what(), e.exit_code(), json);
  } catch (const std::filesystem::filesystem_error& e) {
    // A path vmfix was given, or one a file it was given names, that cannot be reached (no such
    // file, no permission, a loop of links, a name too long) is bad input; anything else (a full
    // disk, an I/O error) is the host's failure, which a batch retries.
    const std::errc code = static_cast<std::errc>(e.code().value());
    const bool unreachable = e.code().category() == std::generic_category() &&
                             (code == std::errc::no_such_file_or_directory || code == std::errc::not_a_directory ||
                              code == std::errc::permission_denied ||
                              code == std::errc::too_many_symbolic_link_levels || code == std::errc::filename_too_long);
    return fail(fmt::format("{}: {}", (e.path1().empty() ? e.path2() : e.path1()).string(), e.code().message()),
                unreachable ? kExitBadInput : kExitInternal, json);
  } catch (const std::exception& e) {
    return fail(fmt::format("internal error: {}", e.what()), kExitInternal, json);
  }
}

#include "cli/aws_import_command.h"

#include <fmt/core.h>

#include <cstdlib>
#include <string>

#include "remediate/aws_job.h"
#include "support/error.h"
#include "support/text.h"

namespace vmfix::cli {

namespace {

constexpr const char* kUsage =
    "usage: vmfix aws-import JOB.json [--task ID] [--poll SECONDS]\n"
    "  uploads the disks JOB.json lists (vmfix --aws-import-json), starts the import and polls it;\n"
    "  --task polls an import already started. The aws CLI's configuration gives credentials and\n"
    "  region; VMFIX_AWS_CLI names the aws program, VMFIX_AWS_ARGS adds arguments to every call.\n";

}  // namespace

int run_aws_import(int argc, char** argv) {
  remediate::AwsJobOptions options;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw UsageError(fmt::format("{} needs a value", arg));
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h") {
      fmt::print("{}", kUsage);
      return kExitReady;
    } else if (arg == "--task") {
      options.task = value();
    } else if (arg == "--poll") {
      const std::string seconds = value();
      options.poll_seconds = std::atoi(seconds.c_str());
      if (options.poll_seconds < 1 || options.poll_seconds > 3600)
        throw UsageError(fmt::format("--poll {}: seconds between 1 and 3600", seconds));
    } else if (arg.starts_with("-") || !options.document.empty()) {
      throw UsageError(fmt::format("aws-import: unexpected {} (see vmfix aws-import --help)", arg));
    } else {
      options.document = arg;
    }
  }
  if (options.document.empty()) throw UsageError("aws-import: give the document (vmfix --aws-import-json FILE)");
  if (const char* aws = std::getenv("VMFIX_AWS_CLI"); aws && *aws) options.aws = aws;
  if (const char* args = std::getenv("VMFIX_AWS_ARGS")) options.aws_args = split_words(args);
  return remediate::run_aws_import(options);
}

}  // namespace vmfix::cli

// vmfix batch's command line, its shard from the cluster's environment, and its default -j.
#include <fmt/core.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "batch/batch.h"
#include "batch/limits.h"
#include "image/output.h"
#include "support/error.h"
#include "support/text.h"

namespace vmfix::batch {
namespace fs = std::filesystem;
namespace po = boost::program_options;

namespace {

// A path the command line names, made absolute; an empty one (an unset shell variable) is refused.
fs::path absolute_path(const std::string& text, const std::string& what) {
  if (text.empty()) throw UsageError(fmt::format("{}: an empty path", what));
  std::error_code error;
  const fs::path path = fs::absolute(text, error);
  return error ? fs::path(text) : path;
}

po::options_description describe() {
  po::options_description options("vmfix batch options");
  options.add_options()("all", "check, fix and write every image (the default)")("check", "only check every image")(
      "dry-run", "plan every image's changes, write nothing")("fix", po::value<std::string>()->value_name("ID[,ID]"),
                                                              "apply only these fixers")(
      "skip", po::value<std::string>()->value_name("ID[,ID]"), "do not run these fixers")(
      "output,o", po::value<std::string>()->value_name("OUTDIR"),
      "where outputs, reports, logs, journal and summary go")(
      "output-format", po::value<std::string>()->value_name("FMT"), "raw, vhd, vhd-fixed, vhdx, vmdk or ova")(
      "force", "write outputs even when blockers remain")("unattend", po::value<std::string>()->value_name("FILE"),
                                                          "answer file for Windows guests")(
      "profile", po::value<std::string>()->value_name("NAME")->default_value("aws-current"), "requirement profile")(
      "accel", po::value<std::string>()->value_name("MODE")->default_value("auto"), "auto, kvm or tcg")(
      "jobs,j", po::value<int>()->value_name("N"), "images at a time (default: from cores and free memory)")(
      "shard", po::value<std::string>()->value_name("I/N"), "process the I-th (0-based) of N slices")(
      "merge", "combine the shard summaries in OUTDIR (or the directories and files given)")(
      "aws-import", "write each image's AWS import document (vmfix.aws-import/1) to OUTDIR/aws-import/")(
      "s3", po::value<std::string>()->value_name("URL"), "where the disks will be uploaded: s3://BUCKET/PREFIX/")(
      "image-timeout", po::value<std::string>()->value_name("DURATION"),
      "stop an image that takes longer (90s, 20m, 1h30m), record it as timeout, go on")(
      "max-attempts", po::value<int>()->value_name("N")->default_value(3),
      "runs of an image that fails other than as a bad input, before it is given up")(
      "fail-on", po::value<std::string>()->value_name("WHAT")->default_value("not-ready"),
      "what makes the exit non-zero: not-ready, failed or retryable")(
      "scratch", po::value<std::string>()->value_name("DIR"),
      "local directory for raw intermediates (default: beside each output)")(
      "status", "report the progress of the batch runs writing OUTDIR, and exit")(
      "json", "print the summary as JSON on stdout")("verbose,v", "say more")("quiet,q", "say only errors");
  return options;
}

std::pair<int, int> parse_shard(const std::string& text) {
  const size_t slash = text.find('/');
  char* end = nullptr;
  const long index = slash == std::string::npos ? -1 : std::strtol(text.c_str(), &end, 10);
  const long count = slash == std::string::npos ? -1 : std::strtol(text.c_str() + slash + 1, nullptr, 10);
  if (slash == std::string::npos || end != text.c_str() + slash || count < 1 || count > kMaxShards || index < 0 ||
      index >= count)
    throw UsageError(fmt::format("--shard '{}': give I/N with 0 <= I < N", text));
  return {static_cast<int>(index), static_cast<int>(count)};
}

std::optional<long> env_number(const char* name) {
  const char* value = std::getenv(name);
  if (!value || !*value) return std::nullopt;
  char* end = nullptr;
  const long number = std::strtol(value, &end, 10);
  if (*end != '\0') throw UsageError(fmt::format("{}='{}' is not a number", name, value));
  return number;
}

FailOn fail_on_named(const std::string& name) {
  if (name == "not-ready") return FailOn::not_ready;
  if (name == "failed") return FailOn::failed;
  if (name == "retryable") return FailOn::retryable;
  throw UsageError(fmt::format("--fail-on {}: give not-ready, failed or retryable", name));
}

// The options of a run over a library (not --merge or --status).
void parse_run_options(const po::variables_map& vm, BatchOptions& result) {
  if (vm.count("jobs")) {
    result.jobs = vm["jobs"].as<int>();
    if (result.jobs < 1 || result.jobs > 256) throw UsageError("-j: give 1 to 256 images at a time");
  }
  if (vm.count("shard")) {
    std::tie(result.shard_index, result.shard_count) = parse_shard(vm["shard"].as<std::string>());
  } else if (auto shard = shard_from_environment()) {
    std::tie(result.shard_index, result.shard_count) = *shard;
  }
  if (vm.count("image-timeout")) result.image_timeout = parse_duration(vm["image-timeout"].as<std::string>());
  result.max_attempts = vm["max-attempts"].as<int>();
  if (result.max_attempts < 1 || result.max_attempts > 1000) throw UsageError("--max-attempts: give 1 to 1000");
  if (vm.count("scratch")) {
    result.scratch = absolute_path(vm["scratch"].as<std::string>(), "--scratch");
    std::error_code error;
    if (!fs::is_directory(result.scratch, error))
      throw UsageError(fmt::format("--scratch {}: {}", result.scratch.string(),
                                   error ? error.message() : std::string("not a directory")));
  }
}

}  // namespace

double parse_duration(const std::string& text) {
  double total = 0;
  for (const char* p = text.c_str(); *p && total >= 0;) {
    if (!std::isdigit(static_cast<unsigned char>(*p)) && *p != '.') {
      total = -1;
      break;
    }
    char* end = nullptr;
    const double value = std::strtod(p, &end);
    const char unit = *end ? *end++ : 's';
    const double scale = unit == 's' ? 1 : unit == 'm' ? 60 : unit == 'h' ? 3600 : unit == 'd' ? 86400 : -1;
    total = scale < 0 ? -1 : total + value * scale;
    p = end;
  }
  if (!(total > 0) || total > 366.0 * 86400)
    throw UsageError(fmt::format("'{}' is not a duration: give 90s, 20m, 1h30m or seconds", text));
  return total;
}

uint64_t memory_available() { return process_limits().memory; }

std::string batch_usage() {
  std::ostringstream text;
  text << describe();
  return "Usage: vmfix batch [--all | --check | --dry-run | --fix IDS] [OPTIONS] DIR-or-MANIFEST -o OUTDIR\n"
         "       vmfix batch --merge OUTDIR [SUMMARY-or-DIR...]\n"
         "       vmfix batch --status OUTDIR\n"
         "Every image under DIR (or listed in MANIFEST) through vmfix, N at a time, resumable.\n\n" +
         text.str() +
         "\nExit codes: 0 every image done and ready, 1 some not ready, 65 some image failed, 64 usage;\n"
         "with --fail-on failed 0 unless some image failed (65), with --fail-on retryable 0 unless the\n"
         "next run would retry an image (75).\n";
}

BatchOptions parse_batch_options(const std::vector<std::string>& args) {
  po::options_description options = describe(), hidden, all;
  hidden.add_options()("input", po::value<std::vector<std::string>>());
  all.add(options).add(hidden);
  po::positional_options_description positional;
  positional.add("input", -1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(all).positional(positional).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw UsageError(e.what());
  }
  BatchOptions result;
  int modes = 0;
  for (const char* mode : {"all", "check", "dry-run", "fix"})
    if (vm.count(mode)) {
      ++modes;
      result.mode = mode;
    }
  if (modes > 1) throw UsageError("vmfix batch: choose one of --all, --check, --dry-run and --fix");
  if (vm.count("fix")) result.fix = vm["fix"].as<std::string>();
  if (vm.count("skip")) result.skip = vm["skip"].as<std::string>();
  if (vm.count("output-format"))
    result.output_format = image::to_string(image::output_format_named(vm["output-format"].as<std::string>()));
  if (vm.count("unattend")) result.unattend = absolute_path(vm["unattend"].as<std::string>(), "--unattend").string();
  result.profile = vm["profile"].as<std::string>();
  result.accel = vm["accel"].as<std::string>();
  result.force = vm.count("force") > 0;
  result.json = vm.count("json") > 0;
  if (vm.count("verbose") && vm.count("quiet")) throw UsageError("-v and -q contradict each other");
  result.verbosity = vm.count("quiet") ? 0 : vm.count("verbose") ? 2 : 1;
  result.merge = vm.count("merge") > 0;
  result.status = vm.count("status") > 0;
  if (result.merge && result.status) throw UsageError("vmfix batch: choose one of --merge and --status");
  result.fail_on = fail_on_named(vm["fail-on"].as<std::string>());
  result.aws_import = vm.count("aws-import") > 0;
  if (vm.count("s3")) result.s3 = vm["s3"].as<std::string>();
  if (result.s3 && !result.aws_import) throw UsageError("--s3 goes with --aws-import");
  if (result.s3 && !is_s3_url(*result.s3))
    throw UsageError(fmt::format("--s3 {}: give s3://BUCKET/PREFIX/", *result.s3));
  std::vector<std::string> inputs;
  if (vm.count("input")) inputs = vm["input"].as<std::vector<std::string>>();
  if (vm.count("output")) result.output_dir = absolute_path(vm["output"].as<std::string>(), "-o");
  if (result.status) {
    if (result.output_dir.empty() && inputs.size() == 1) result.output_dir = absolute_path(inputs.front(), "--status");
    if (result.output_dir.empty() || inputs.size() > 1)
      throw UsageError("vmfix batch --status: give the output directory");
    return result;
  }
  if (result.merge) {
    if (result.output_dir.empty()) {
      if (inputs.empty()) throw UsageError("vmfix batch --merge: give the output directory");
      result.output_dir = absolute_path(inputs.front(), "--merge");
    }
    for (const std::string& input : inputs) result.inputs.push_back(absolute_path(input, "--merge"));
    if (result.inputs.empty()) result.inputs.push_back(result.output_dir);
    return result;
  }
  if (inputs.size() != 1) throw UsageError("vmfix batch: give one directory or manifest (and -o OUTDIR)");
  if (result.output_dir.empty()) throw UsageError("vmfix batch: -o OUTDIR is required");
  result.source = absolute_path(inputs.front(), "vmfix batch");
  parse_run_options(vm, result);
  return result;
}

std::optional<std::pair<int, int>> shard_from_environment() {
  std::optional<long> index, count;
  if (auto id = env_number("SLURM_ARRAY_TASK_ID")) {
    // --array=MIN-MAX[:STEP]: the task's place in the range. A list (--array=1,5,7) has no such
    // place: it is refused below, rather than leaving shards unprocessed.
    const long step = env_number("SLURM_ARRAY_TASK_STEP").value_or(1);
    const long offset = *id - env_number("SLURM_ARRAY_TASK_MIN").value_or(0);
    if (step < 1 || offset % step != 0)
      throw UsageError(
          fmt::format("Slurm array task {} is not on its range's steps; use --array=0-N or --shard I/N", *id));
    index = offset / step;
    count = env_number("SLURM_ARRAY_TASK_COUNT");
    if (!count) throw UsageError("SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not");
  } else if (auto completion = env_number("JOB_COMPLETION_INDEX")) {
    index = completion;
    count = env_number("VMFIX_SHARD_COUNT");
    if (!count) count = env_number("JOB_COMPLETIONS");
    if (!count)
      throw UsageError("JOB_COMPLETION_INDEX is set: give the completions count in VMFIX_SHARD_COUNT (or --shard I/N)");
  } else {
    return std::nullopt;
  }
  if (*count < 1 || *count > kMaxShards || *index < 0 || *index >= *count)
    throw UsageError(
        fmt::format("the environment names shard {} of {} (a Slurm array must be a range, "
                    "--array=0-N[:STEP]; or give --shard I/N)",
                    *index, *count));
  return std::pair<int, int>{static_cast<int>(*index), static_cast<int>(*count)};
}

int default_jobs() { return jobs_within(process_limits()); }

}  // namespace vmfix::batch

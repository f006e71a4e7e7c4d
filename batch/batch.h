#pragma once
// vmfix batch: every image of a library through the single-image command, N at a time, each in
// its own vmfix process (one failing never stops the others), journalled so that an interrupted
// batch resumes, sharded for clusters, summarised as JSON and CSV.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace vmfix::batch {

// What makes the batch exit non-zero (--fail-on).
enum class FailOn {
  not_ready,  // some image is not ready, or failed (the default)
  failed,     // some image could not be processed (bad input, timeout, crash)
  retryable,  // some image failed in a way the next run retries: cluster tasks retry only then
};

inline constexpr int kMaxShards = 100000;  // --shard I/N: N at most this

struct BatchOptions {
  std::string mode = "all";  // "all", "check", "fix", "dry-run"
  std::optional<std::string> fix, skip, output_format, unattend;
  std::string profile = "aws-current";
  std::string accel = "auto";
  bool force = false;
  std::filesystem::path source;      // a directory or a manifest
  std::filesystem::path output_dir;  // -o
  int jobs = 0;                      // 0: from the cores and the free memory
  int shard_index = 0, shard_count = 1;
  bool json = false;
  int verbosity = 1;
  bool aws_import = false;                    // --aws-import: OUTDIR/aws-import/NAME.json per image
  std::optional<std::string> s3;              // --s3 s3://BUCKET/PREFIX/ for those documents
  bool merge = false;                         // --merge: combine shard summaries
  std::vector<std::filesystem::path> inputs;  // --merge: directories or summary files
  bool status = false;                        // --status: progress of the runs writing OUTDIR
  double image_timeout = 0;                   // --image-timeout, seconds; 0: none
  int max_attempts = 3;                       // --max-attempts: runs of an image that fails
  FailOn fail_on = FailOn::not_ready;         // --fail-on
  std::filesystem::path scratch;              // --scratch: raw intermediates; "" beside the output
  // Refuses a profile and --fix/--skip lists as the single-image command would (UsageError), for
  // run_batch to check every image's before any runs; main sets it (batch links no fixers).
  std::function<void(const std::string& profile, const std::optional<std::string>& fix,
                     const std::optional<std::string>& skip)>
      check_choices;
};

// "90s", "20m", "1h30m" or a number of seconds. Throws UsageError.
double parse_duration(const std::string& text);

// `args` are those after "batch". Throws UsageError.
BatchOptions parse_batch_options(const std::vector<std::string>& args);
std::string batch_usage();

// Exit, by default: 0 every image done and ready, 1 every image done and some not ready, 65 some
// image failed (its error is in the summary and its log), 64 usage. --fail-on failed: 0 unless
// some image failed (65); --fail-on retryable: 0 unless the next run would retry an image (75).
int run_batch(const BatchOptions& options);
int run_merge(const BatchOptions& options);
int run_status(const BatchOptions& options);

// The shard from SLURM_ARRAY_TASK_ID/COUNT/MIN or JOB_COMPLETION_INDEX with VMFIX_SHARD_COUNT (or
// JOB_COMPLETIONS); nullopt when neither is set.
std::optional<std::pair<int, int>> shard_from_environment();

// How many appliances fit in what this process may use (batch/limits.h): a CPU and about 1.3 GiB
// each; at least 1.
int default_jobs();

// What one appliance takes under software emulation, and the memory this process may still use.
inline constexpr uint64_t kApplianceBytes = 1300ULL << 20;
uint64_t memory_available();

}  // namespace vmfix::batch

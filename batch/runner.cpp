// vmfix batch's runner: each image in its own vmfix process, N at a time, journalled.
#include <fcntl.h>
#include <fmt/core.h>
#include <fmt/ranges.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <future>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "batch/batch.h"
#include "batch/journal.h"
#include "batch/library.h"
#include "batch/limits.h"
#include "batch/summary.h"
#include "image/byte_source.h"
#include "image/manifest.h"
#include "image/output.h"
#include "support/cores.h"
#include "support/error.h"
#include "support/files.h"
#include "support/interrupt.h"
#include "support/json.h"
#include "support/process.h"
#include "support/text.h"
#include "support/unique_fd.h"

namespace vmfix::batch {
namespace fs = std::filesystem;
using nlohmann::ordered_json;

namespace {

// Workers running side by side share the cores: each appliance gets its share of vCPUs
// (guest/session.h reads it), unless the user set the number.
void share_cores_among(int jobs) {
  if (std::getenv("VMFIX_APPLIANCE_CPUS")) return;
  ::setenv("VMFIX_APPLIANCE_CPUS", std::to_string(appliance_cpus_per_worker(usable_cores(), jobs)).c_str(), 1);
}

using Clock = std::chrono::steady_clock;

// How long a worker told to stop (--image-timeout) has to clean up before it is killed.
constexpr auto kStopGrace = std::chrono::seconds(20);

std::string sha256_of(const fs::path& file) {
  const uint64_t size = fs::file_size(file);
  return image::digest_of(image::ByteSource{file, 0, size, file.string()}, "SHA256");
}

// 0 for a file that cannot be reached: the image's own run says why.
int64_t mtime_ns(const fs::path& file) {
  std::error_code error;
  const auto time = fs::last_write_time(file, error);
  return error ? 0 : std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count();
}

std::string last_line(const fs::path& log) {
  std::string text;
  try {
    text = read_host_file(log);
  } catch (const Error&) {
    return "";
  }
  std::string last;
  for (std::string_view line : split_lines(text))
    if (!trim(line).empty() && !line.starts_with("vmfix: [")) last = std::string(trim(line));
  return last;
}

// Name, size and mtime of each file the image reads besides itself.
std::string companions_of(const fs::path& image) {
  std::string text;
  std::error_code error;
  for (const fs::path& file : companion_files(image))
    text += fmt::format("{}:{}:{};", file.filename().string(), fs::file_size(file, error), mtime_ns(file));
  return text;
}

// One image being processed: the vmfix child, and the source's hash computed meanwhile.
struct Job {
  LibraryImage image;
  pid_t pid = -1;
  Clock::time_point started;
  fs::path report, log, output;
  uint64_t size = 0;
  int64_t mtime = 0;
  int attempts = 1;
  Clock::time_point deadline = Clock::time_point::max();  // --image-timeout
  std::optional<Clock::time_point> stopped;               // when it was told to stop
  std::future<std::string> hash;
};

// The ids of the rules that still fail in a vmfix report, space-separated.
std::string failing_rules_of(const nlohmann::json& report) {
  std::string ids;
  for (const auto& finding : report["findings"])
    if (finding.value("status", "") == "fail") ids += (ids.empty() ? "" : " ") + finding.value("id", "");
  return ids;
}

class Runner {
 public:
  Runner(const BatchOptions& options, std::vector<LibraryImage> images)
      : options_(options),
        images_(std::move(images)),
        progress_(isatty(STDERR_FILENO) == 1 && !options.json && options.verbosity > 0) {}

  int run();

 private:
  std::string suffix() const {
    return options_.shard_count > 1 ? fmt::format("-shard-{}-of-{}", options_.shard_index, options_.shard_count) : "";
  }
  bool finished_before(const LibraryImage& image, Journal& journal);
  bool given_up(JournalEntry& entry) const;
  pid_t wait_for_worker(int& status, rusage& usage);
  void enforce_deadlines();
  bool start(const LibraryImage& image, Journal& journal);
  void finish(pid_t pid, int status, const rusage& usage, Journal& journal);
  std::vector<std::string> child_arguments(const Job& job) const;
  fs::path aws_import_of(const LibraryImage& image) const {
    return options_.output_dir / "aws-import" / (image.name + ".json");
  }
  std::string settings_of(const LibraryImage& image) const;
  // The image's own setting, else the command line's, else what vmfix picks for that input.
  std::string output_format_of(const LibraryImage& image) const {
    return image.options.output_format.value_or(options_.output_format.value_or(default_output_format(image.path)));
  }
  void draw(bool final_line);
  ordered_json summary(Journal& journal) const;

  const BatchOptions& options_;
  std::vector<LibraryImage> images_;
  std::map<pid_t, Job> running_;
  std::set<std::string> reused_;  // finished in an earlier run, source unchanged
  int done_ = 0, failed_ = 0;
  bool progress_;
  Clock::time_point started_ = Clock::now();
};

// What decides an image's result besides its content: the mode and the options it ran with.
std::string Runner::settings_of(const LibraryImage& image) const {
  Job job;
  job.image = image;
  job.report = "REPORT";
  if (options_.mode == "all" || options_.mode == "fix") job.output = "OUTPUT";
  std::vector<std::string> args = child_arguments(job);
  args.erase(args.begin());  // the binary
  args.pop_back();           // the image
  return fmt::format("{}", fmt::join(args, " "));
}

// An image that failed, timed out or was running when the batch died --max-attempts times is not
// tried again (until its source or the options change): a poisoned image is not retried forever.
bool Runner::given_up(JournalEntry& entry) const {
  if (entry.state == "done" || entry.attempts < options_.max_attempts) return false;
  if (entry.state == "running") {  // the batch itself was killed while this one ran, every time
    entry.state = "failed";
    entry.exit_code = kExitInternal;
    entry.error = fmt::format("the batch was stopped while this image ran, {} times", entry.attempts);
  }
  if (!entry.error.starts_with("given up"))
    entry.error = fmt::format("given up after {} attempts: {}", entry.attempts, entry.error);
  return true;
}

bool Runner::finished_before(const LibraryImage& image, Journal& journal) {
  auto entry = journal.find(image.key);
  if (!entry) return false;
  if (entry->settings != settings_of(image)) return false;           // asked for something else this time
  if (entry->companions != companions_of(image.path)) return false;  // an OVF's disk changed
  // A bad input stays bad until it changes; anything else that failed (an appliance that did not
  // start, a timeout, an interrupt) is tried again, up to --max-attempts times.
  const bool final_state =
      entry->state == "done" || (entry->state == "failed" && entry->exit_code == kExitBadInput) || given_up(*entry);
  if (!final_state) return false;
  if (!entry->output.empty() && !fs::exists(entry->output)) return false;  // someone removed the output
  std::error_code error;
  const uint64_t size = fs::file_size(image.path, error);
  if (error) return entry->state == "failed" && entry->sha256.empty();  // still missing
  if (size != entry->size) return false;
  const int64_t mtime = mtime_ns(image.path);
  // Touched: the content decides.
  if (mtime != entry->mtime_ns && (entry->sha256.empty() || sha256_of(image.path) != entry->sha256)) return false;
  entry->mtime_ns = mtime;
  journal.adopt(*entry);  // found in another shard's journal, or given up: this journal has it now
  return true;
}

std::vector<std::string> Runner::child_arguments(const Job& job) const {
  const ImageOptions& own = job.image.options;
  std::vector<std::string> args{fs::read_symlink("/proc/self/exe").string()};
  const auto fix = own.fix ? own.fix : options_.fix;
  if (options_.mode == "check")
    args.push_back("--check");
  else if (fix)
    args.insert(args.end(), {"--fix", *fix});
  else
    args.push_back("--all");
  if (options_.mode == "dry-run") args.push_back("--dry-run");
  if (const auto skip = own.skip ? own.skip : options_.skip; skip && !fix) args.insert(args.end(), {"--skip", *skip});
  args.insert(args.end(), {"--profile", own.profile.value_or(options_.profile), "--accel", options_.accel});
  if (options_.unattend && options_.mode != "check") args.insert(args.end(), {"--unattend", *options_.unattend});
  if (own.force.value_or(options_.force) && options_.mode != "check") args.push_back("--force");
  if (!job.output.empty()) {
    args.insert(args.end(), {"--output-format", output_format_of(job.image), "-o", job.output.string()});
  }
  if (options_.aws_import) {
    args.insert(args.end(), {"--aws-import-json", aws_import_of(job.image).string()});
    if (options_.s3) args.insert(args.end(), {"--s3", *options_.s3});
  }
  args.insert(args.end(), {"-v", "--json", "--report", job.report.string(), job.image.path.string()});
  return args;
}

bool Runner::start(const LibraryImage& image, Journal& journal) {
  Job job;
  job.image = image;
  job.started = Clock::now();
  job.report = options_.output_dir / "reports" / (image.name + ".json");
  job.log = options_.output_dir / "logs" / (image.name + ".log");
  if (options_.mode == "all" || options_.mode == "fix") {
    job.output = options_.output_dir /
                 (image.name + "-vmfix" + image::output_extension(image::output_format_named(output_format_of(image))));
  }
  std::error_code error;
  fs::remove(job.report, error);
  if (options_.aws_import) fs::remove(aws_import_of(image), error);
  job.size = fs::file_size(image.path, error);
  job.mtime = error ? 0 : mtime_ns(image.path);
  if (options_.image_timeout > 0)
    job.deadline = job.started +
                   std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options_.image_timeout));
  if (!error) {
    const fs::path path = image.path;
    job.hash = std::async(std::launch::async, [path] {
      try {
        return sha256_of(path);
      } catch (const std::exception&) {
        return std::string();
      }
    });
  }
  JournalEntry entry;
  entry.key = image.key;
  entry.state = "running";
  entry.size = job.size;
  entry.mtime_ns = job.mtime;
  entry.report = job.report.string();
  entry.log = job.log.string();
  entry.settings = settings_of(image);
  entry.companions = companions_of(image.path);
  // Another run of the same image with the same options on the same source is another attempt.
  if (auto earlier = journal.find(image.key);
      earlier && earlier->state != "done" && earlier->settings == entry.settings && earlier->size == entry.size &&
      earlier->mtime_ns == entry.mtime_ns && earlier->companions == entry.companions)
    job.attempts = earlier->attempts + 1;
  entry.attempts = job.attempts;
  journal.put(entry);

  std::vector<std::string> args = child_arguments(job);
  // Not part of the settings: where intermediates go does not change the result.
  if (!options_.scratch.empty() && !job.output.empty())
    args.insert(args.end() - 1, {"--scratch", options_.scratch.string()});
  // The worker's stderr is its log; its stdout (the JSON report) is not needed: --report has it.
  int spawn_error = 0;
  const UniqueFd log_fd(::open(job.log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  const UniqueFd null_fd(::open("/dev/null", O_WRONLY | O_CLOEXEC));
  if (!log_fd.valid() || !null_fd.valid()) {
    spawn_error = errno;
  } else {
    try {
      job.pid = spawn_child(args, null_fd.get(), log_fd.get());  // SIGTERM reaches it should the batch die
    } catch (const Error&) {
      spawn_error = errno ? errno : EIO;
    }
  }
  if (spawn_error != 0) {  // this image fails; the others go on
    if (job.hash.valid()) job.hash.wait();
    entry.state = "failed";
    entry.exit_code = kExitInternal;
    entry.error = fmt::format("cannot start vmfix (log {}): {}", job.log.string(), std::strerror(spawn_error));
    entry.finished = utc_now();
    journal.put(entry);
    ++failed_;
    if (options_.verbosity > 0) fmt::print(stderr, "vmfix batch: {}: FAILED: {}\n", image.key, entry.error);
    return false;
  }
  if (!progress_ && options_.verbosity > 1) fmt::print(stderr, "vmfix batch: started {}\n", image.key);
  running_.emplace(job.pid, std::move(job));
  return true;
}

void Runner::finish(pid_t pid, int status, const rusage& usage, Journal& journal) {
  interrupt::remove_child(pid);
  auto found = running_.find(pid);
  if (found == running_.end()) return;
  Job job = std::move(found->second);
  running_.erase(found);
  JournalEntry entry;
  entry.key = job.image.key;
  entry.size = job.size;
  entry.mtime_ns = job.mtime;
  entry.sha256 = job.hash.valid() ? job.hash.get() : "";
  entry.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  entry.report = job.report.string();
  entry.log = job.log.string();
  entry.seconds = std::chrono::duration<double>(Clock::now() - job.started).count();
  entry.peak_rss_kib = usage.ru_maxrss;
  entry.finished = utc_now();
  entry.settings = settings_of(job.image);
  entry.companions = companions_of(job.image.path);
  entry.attempts = job.attempts;
  bool reported = false;
  if (entry.exit_code <= 2 && fs::exists(job.report)) {
    try {
      auto report = parse_untrusted_json(read_host_file(job.report));
      entry.verdict = report.value("verdict", "");
      for (const auto& finding : report["findings"])
        if (finding.value("status", "") == "fail") ++entry.findings;
      if (report.contains("changes")) entry.changes = static_cast<int>(report["changes"].size());
      if (report["output"].is_object() && report["output"].value("written", false))
        entry.output = report["output"].value("path", "");
      entry.failing_rules = failing_rules_of(report);
      reported = !entry.verdict.empty();
    } catch (const std::exception& e) {
      entry.error = fmt::format("unreadable report: {}", e.what());
    }
  }
  entry.state = reported ? "done" : job.stopped ? "timeout" : "failed";
  if (!reported && job.stopped) {
    entry.error = fmt::format("no result within --image-timeout {:.0f} s: stopped ({})", options_.image_timeout,
                              WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "it cleaned up");
  } else if (!reported && entry.error.empty()) {
    entry.error = last_line(job.log);
    if (entry.error.empty()) entry.error = fmt::format("vmfix exited with {}", entry.exit_code);
  }
  journal.put(entry);
  (reported ? done_ : failed_) += 1;
  if (!progress_ && options_.verbosity > 0) {
    const size_t finished = static_cast<size_t>(done_ + failed_) + reused_.size();
    if (reported)
      fmt::print(stderr, "vmfix batch: [{}/{}] {}: {} ({} changes, {} findings){} in {:.0f} s\n", finished,
                 images_.size(), entry.key, entry.verdict, entry.changes, entry.findings,
                 entry.output.empty() ? "" : " -> " + entry.output, entry.seconds);
    else
      fmt::print(stderr, "vmfix batch: [{}/{}] {}: {}: {}\n", finished, images_.size(), entry.key,
                 entry.state == "timeout" ? "TIMEOUT" : "FAILED", entry.error);
  }
}

void Runner::draw(bool final_line) {
  if (!progress_) return;
  const size_t finished = static_cast<size_t>(done_ + failed_) + reused_.size();
  const size_t left = images_.size() - finished - running_.size();
  const double minutes = std::chrono::duration<double>(Clock::now() - started_).count() / 60;
  std::string line = fmt::format("vmfix batch: {} done, {} running, {} failed, {} left",
                                 done_ + static_cast<int>(reused_.size()), running_.size(), failed_, left);
  if (done_ + failed_ > 0 && minutes > 0) {
    const double rate = (done_ + failed_) / minutes;
    const auto eta = static_cast<long>((static_cast<double>(left + running_.size()) / rate) * 60);
    line += fmt::format("  {:.1f}/min", rate);
    if (!final_line && left + running_.size() > 0) line += fmt::format("  ETA {}:{:02}", eta / 60, eta % 60);
  }
  fmt::print(stderr, "\r{}\033[K{}", line, final_line ? "\n" : "");
  std::fflush(stderr);
}

// The next worker to end; meanwhile, with --image-timeout, those past their time are stopped.
pid_t Runner::wait_for_worker(int& status, rusage& usage) {
  for (;;) {
    const pid_t pid = ::wait4(-1, &status, options_.image_timeout > 0 ? WNOHANG : 0, &usage);
    if (pid != 0) return pid;
    enforce_deadlines();
    draw(false);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

// SIGTERM first (vmfix removes its partial output, and libguestfs stops the appliance when vmfix
// goes), SIGKILL if it is still there kStopGrace later.
void Runner::enforce_deadlines() {
  const Clock::time_point now = Clock::now();
  for (auto& [pid, job] : running_) {
    if (!job.stopped && now >= job.deadline) {
      job.stopped = now;
      ::kill(pid, SIGTERM);
      if (options_.verbosity > 1)
        fmt::print(stderr, "vmfix batch: {}: past --image-timeout, stopping it\n", job.image.key);
    } else if (job.stopped && now - *job.stopped >= kStopGrace) {
      ::kill(pid, SIGKILL);
    }
  }
}

int Runner::run() {
  make_output_directory(options_.output_dir / "reports");
  if (options_.aws_import) make_output_directory(options_.output_dir / "aws-import");
  make_output_directory(options_.output_dir / "logs");
  Journal journal(options_.output_dir / ("journal" + suffix() + ".sqlite"));
  JournalHeader header{options_.source.string(),
                       options_.shard_index,
                       options_.shard_count,
                       static_cast<int>(images_.size()),
                       interrupt::host_name(),
                       ::getpid(),
                       utc_now(),
                       "",
                       false};
  journal.set_header(header);
  std::vector<const LibraryImage*> queue;
  for (const LibraryImage& image : images_) {
    if (finished_before(image, journal))
      reused_.insert(image.key);
    else
      queue.push_back(&image);
  }
  journal.flush();
  const int jobs = options_.jobs > 0 ? options_.jobs : default_jobs();
  if (options_.verbosity > 0 && !options_.json)
    fmt::print(
        stderr, "vmfix batch: {} images{}, {} to do, {} at a time\n", images_.size(),
        options_.shard_count > 1 ? fmt::format(" in shard {}/{}", options_.shard_index, options_.shard_count) : "",
        queue.size(), jobs);
  if (options_.verbosity > 1 && options_.jobs == 0)
    fmt::print(stderr, "vmfix batch: -j {} from {}\n", jobs, process_limits().evidence);
  share_cores_among(jobs);
  size_t next = 0;
  while (next < queue.size() || !running_.empty()) {
    // Start what fits: the job count, and memory for one more appliance (unless nothing runs).
    while (next < queue.size() && static_cast<int>(running_.size()) < jobs &&
           (running_.empty() || memory_available() >= kApplianceBytes))
      start(*queue[next++], journal);
    draw(false);
    int status = 0;
    rusage usage{};
    const pid_t pid = wait_for_worker(status, usage);
    if (pid < 0) {
      if (errno == EINTR) continue;
      if (errno == ECHILD) break;
      throw_errno("waiting for vmfix");
    }
    finish(pid, status, usage, journal);
  }
  draw(true);

  ordered_json images = ordered_json::array();
  for (const LibraryImage& image : images_)
    if (auto entry = journal.find(image.key)) {
      images.push_back(summary_entry(*entry, reused_.contains(image.key), options_.max_attempts));
      if (options_.aws_import && fs::exists(aws_import_of(image)))
        images.back()["aws_import"] = aws_import_of(image).string();
      else if (options_.aws_import)
        images.back()["aws_import"] = nullptr;
    }
  ordered_json summary{
      {"schema", kSchema},           {"source", options_.source.string()},
      {"mode", options_.mode},       {"shard", {{"index", options_.shard_index}, {"count", options_.shard_count}}},
      {"totals", totals_of(images)}, {"images", images}};
  write_summary(options_.output_dir, suffix(), summary);
  header.ended = true;
  journal.set_header(header);
  journal.flush();
  if (options_.json)
    fmt::print("{}\n", summary.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
  else if (options_.verbosity > 0)
    print_totals(summary["totals"], options_.output_dir, suffix());
  return exit_code_of(summary["totals"], options_.fail_on);
}

// The profile and fixers an image runs with, as child_arguments passes them: a --fix list makes
// --skip moot, and --check runs no fixer.
void check_choices(const BatchOptions& options, const ImageOptions& own) {
  if (!options.check_choices) return;
  const std::optional<std::string> fix = own.fix ? own.fix : options.fix;
  const std::optional<std::string> skip = fix ? std::nullopt : own.skip ? own.skip : options.skip;
  options.check_choices(own.profile.value_or(options.profile), options.mode == "check" ? std::nullopt : fix, skip);
}

// A manifest's values are bad input, as its output_format's are (library.cpp).
void check_choices(const BatchOptions& options, const std::vector<LibraryImage>& images) {
  for (const LibraryImage& image : images) {
    const ImageOptions& own = image.options;
    if (!own.profile && !own.fix && !own.skip) continue;  // the batch's own, checked already
    try {
      check_choices(options, own);
    } catch (const UsageError& e) {
      throw BadInput(fmt::format("{}: {}", image.listed_at, e.what()));
    }
  }
}

}  // namespace

int run_batch(const BatchOptions& options) {
  if (options.status) return run_status(options);
  check_choices(options, ImageOptions{});
  std::error_code error;
  const fs::file_status source = fs::status(options.source, error);
  if (!fs::exists(source))
    throw BadInput(fmt::format("{}: {}", options.source.string(),
                               error ? error.message() : std::string("no such file or directory")));
  std::vector<LibraryImage> images =
      fs::is_directory(source) ? scan_directory(options.source, options.output_dir) : read_manifest(options.source);
  check_choices(options, images);  // every entry, not only this shard's: the manifest has the typo
  if (options.shard_count > 1) images = shard_of(images, options.shard_index, options.shard_count);
  const fs::file_status output = fs::status(options.output_dir, error);
  if (fs::exists(output) && !fs::is_directory(output))
    throw UsageError(fmt::format("{}: not a directory", options.output_dir.string()));
  if (fs::is_directory(source) && fs::equivalent(options.source, options.output_dir, error))
    throw UsageError(
        "the output directory is the library itself: its outputs would be read as images next time; give another -o");
  return Runner(options, std::move(images)).run();
}

}  // namespace vmfix::batch

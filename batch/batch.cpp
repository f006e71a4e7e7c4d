#include "batch/batch.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <fmt/ranges.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/program_options.hpp>
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

#include "batch/journal.h"
#include "batch/library.h"
#include "image/byte_source.h"
#include "image/manifest.h"
#include "image/output.h"
#include "support/error.h"
#include "support/files.h"
#include "support/interrupt.h"
#include "support/process.h"
#include "support/text.h"
#include "support/unique_fd.h"

namespace vmfix::batch {
namespace fs = std::filesystem;
namespace po = boost::program_options;
using nlohmann::ordered_json;

namespace {

constexpr uint64_t kApplianceBytes = 1300ULL << 20;  // what one appliance takes under software emulation
constexpr const char* kSchema = "vmfix.batch/1";

using Clock = std::chrono::steady_clock;

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
      "json", "print the summary as JSON on stdout")("verbose,v", "say more")("quiet,q", "say only errors");
  return options;
}

std::pair<int, int> parse_shard(const std::string& text) {
  const size_t slash = text.find('/');
  char* end = nullptr;
  const long index = slash == std::string::npos ? -1 : std::strtol(text.c_str(), &end, 10);
  const long count = slash == std::string::npos ? -1 : std::strtol(text.c_str() + slash + 1, nullptr, 10);
  if (slash == std::string::npos || end != text.c_str() + slash || count < 1 || count > 100000 || index < 0 ||
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

uint64_t memory_available() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  uint64_t kib = 0;
  std::string unit;
  while (meminfo >> key >> kib >> unit)
    if (key == "MemAvailable:") return kib << 10;
  return 0;
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

std::string sha256_of(const fs::path& file) {
  const uint64_t size = fs::file_size(file);
  return image::digest_of(image::ByteSource{file, 0, size, file.string()}, "SHA256");
}

int64_t mtime_ns(const fs::path& file) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(fs::last_write_time(file).time_since_epoch()).count();
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
  std::future<std::string> hash;
};

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
  bool start(const LibraryImage& image, Journal& journal);
  void finish(pid_t pid, int status, const rusage& usage, Journal& journal);
  std::vector<std::string> child_arguments(const Job& job) const;
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

bool Runner::finished_before(const LibraryImage& image, Journal& journal) {
  auto entry = journal.find(image.key);
  if (!entry) return false;
  if (entry->settings != settings_of(image)) return false;           // asked for something else this time
  if (entry->companions != companions_of(image.path)) return false;  // an OVF's disk changed
  // A bad input stays bad until it changes; anything else that failed (an appliance that did not
  // start, an interrupt) is tried again.
  const bool final_state = entry->state == "done" || (entry->state == "failed" && entry->exit_code == 65);
  if (!final_state) return false;
  if (!entry->output.empty() && !fs::exists(entry->output)) return false;  // someone removed the output
  std::error_code error;
  const uint64_t size = fs::file_size(image.path, error);
  if (error) return entry->state == "failed" && entry->sha256.empty();  // still missing
  if (size != entry->size) return false;
  const int64_t mtime = mtime_ns(image.path);
  if (mtime == entry->mtime_ns) return true;
  // Touched: the content decides.
  if (entry->sha256.empty() || sha256_of(image.path) != entry->sha256) return false;
  entry->mtime_ns = mtime;
  journal.put(*entry);
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
    job.output = options_.output_dir / (image.name + "-vmfix" + image::output_extension(output_format_of(image)));
  }
  std::error_code error;
  fs::remove(job.report, error);
  job.size = fs::file_size(image.path, error);
  job.mtime = error ? 0 : mtime_ns(image.path);
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
  journal.put(entry);

  const std::vector<std::string> args = child_arguments(job);
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
  bool reported = false;
  if (entry.exit_code <= 2 && fs::exists(job.report)) {
    try {
      auto report = nlohmann::json::parse(read_host_file(job.report));
      entry.verdict = report.value("verdict", "");
      for (const auto& finding : report["findings"])
        if (finding.value("status", "") == "fail") ++entry.findings;
      if (report.contains("changes")) entry.changes = static_cast<int>(report["changes"].size());
      if (report["output"].is_object() && report["output"].value("written", false))
        entry.output = report["output"].value("path", "");
      reported = !entry.verdict.empty();
    } catch (const std::exception& e) {
      entry.error = fmt::format("unreadable report: {}", e.what());
    }
  }
  entry.state = reported ? "done" : "failed";
  if (!reported && entry.error.empty()) {
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
      fmt::print(stderr, "vmfix batch: [{}/{}] {}: FAILED: {}\n", finished, images_.size(), entry.key, entry.error);
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

ordered_json summary_entry(const JournalEntry& e, bool reused) {
  return {{"image", e.key},           {"state", e.state},       {"verdict", e.verdict},
          {"exit_code", e.exit_code}, {"findings", e.findings}, {"changes", e.changes},
          {"output", e.output},       {"seconds", e.seconds},   {"peak_rss_mib", e.peak_rss_kib / 1024},
          {"error", e.error},         {"report", e.report},     {"log", e.log},
          {"reused", reused},         {"finished", e.finished}};
}

ordered_json totals_of(const ordered_json& images) {
  int done = 0, failed = 0, ready = 0, fixable = 0, blocked = 0, reused = 0;
  for (const auto& image : images) {
    if (image["state"] == "done")
      ++done;
    else
      ++failed;
    if (image["verdict"] == "ready") ++ready;
    if (image["verdict"] == "fixable") ++fixable;
    if (image["verdict"] == "blocked") ++blocked;
    if (image.value("reused", false)) ++reused;
  }
  return {{"images", images.size()}, {"done", done},       {"failed", failed}, {"ready", ready},
          {"fixable", fixable},      {"blocked", blocked}, {"reused", reused}};
}

void write_summary(const fs::path& directory, const std::string& suffix, const ordered_json& summary) {
  write_host_file_atomic(directory / ("summary" + suffix + ".json"),
                         summary.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  auto quoted = [](const std::string& text) {
    if (text.find_first_of(",\"\n") == std::string::npos) return text;
    std::string out = "\"";
    for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c == '\n' ? ' ' : c);
    return out + "\"";
  };
  std::string csv =
      "image,state,verdict,exit_code,findings,changes,output,seconds,peak_rss_mib,error,report,log,reused\n";
  for (const auto& image : summary["images"])
    csv += fmt::format("{},{},{},{},{},{},{},{:.1f},{},{},{},{},{}\n", quoted(image["image"]),
                       image["state"].get<std::string>(), image["verdict"].get<std::string>(),
                       image["exit_code"].get<int>(), image["findings"].get<int>(), image["changes"].get<int>(),
                       quoted(image["output"]), image["seconds"].get<double>(), image["peak_rss_mib"].get<int64_t>(),
                       quoted(image["error"]), quoted(image["report"]), quoted(image["log"]),
                       image["reused"].get<bool>() ? "true" : "false");
  write_host_file_atomic(directory / ("summary" + suffix + ".csv"), csv);
}

int exit_code_of(const ordered_json& totals) {
  if (totals["failed"].get<int>() > 0) return kExitBadInput;
  return totals["ready"] == totals["images"] ? kExitReady : kExitFixable;
}

void print_totals(const ordered_json& totals, const fs::path& directory, const std::string& suffix) {
  fmt::print("{} images: {} done ({} ready, {} fixable, {} blocked; {} unchanged since the last run), {} failed\n",
             totals["images"].get<size_t>(), totals["done"].get<int>(), totals["ready"].get<int>(),
             totals["fixable"].get<int>(), totals["blocked"].get<int>(), totals["reused"].get<int>(),
             totals["failed"].get<int>());
  fmt::print("summary: {}\n", (directory / ("summary" + suffix + ".json")).string());
}

int Runner::run() {
  fs::create_directories(options_.output_dir / "reports");
  fs::create_directories(options_.output_dir / "logs");
  Journal journal(options_.output_dir / ("journal" + suffix() + ".sqlite"));
  std::vector<const LibraryImage*> queue;
  for (const LibraryImage& image : images_) {
    if (finished_before(image, journal))
      reused_.insert(image.key);
    else
      queue.push_back(&image);
  }
  const int jobs = options_.jobs > 0 ? options_.jobs : default_jobs();
  if (options_.verbosity > 0 && !options_.json)
    fmt::print(
        stderr, "vmfix batch: {} images{}, {} to do, {} at a time\n", images_.size(),
        options_.shard_count > 1 ? fmt::format(" in shard {}/{}", options_.shard_index, options_.shard_count) : "",
        queue.size(), jobs);
  size_t next = 0;
  while (next < queue.size() || !running_.empty()) {
    // Start what fits: the job count, and memory for one more appliance (unless nothing runs).
    while (next < queue.size() && static_cast<int>(running_.size()) < jobs &&
           (running_.empty() || memory_available() >= kApplianceBytes))
      start(*queue[next++], journal);
    draw(false);
    int status = 0;
    rusage usage{};
    const pid_t pid = ::wait4(-1, &status, 0, &usage);
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
    if (auto entry = journal.find(image.key)) images.push_back(summary_entry(*entry, reused_.contains(image.key)));
  ordered_json summary{
      {"schema", kSchema},           {"source", options_.source.string()},
      {"mode", options_.mode},       {"shard", {{"index", options_.shard_index}, {"count", options_.shard_count}}},
      {"totals", totals_of(images)}, {"images", images}};
  write_summary(options_.output_dir, suffix(), summary);
  if (options_.json)
    fmt::print("{}\n", summary.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
  else if (options_.verbosity > 0)
    print_totals(summary["totals"], options_.output_dir, suffix());
  return exit_code_of(summary["totals"]);
}

}  // namespace

std::string batch_usage() {
  std::ostringstream text;
  text << describe();
  return "Usage: vmfix batch [--all | --check | --dry-run | --fix IDS] [OPTIONS] DIR-or-MANIFEST -o OUTDIR\n"
         "       vmfix batch --merge OUTDIR [SUMMARY-or-DIR...]\n"
         "Every image under DIR (or listed in MANIFEST) through vmfix, N at a time, resumable.\n\n" +
         text.str() + "\nExit codes: 0 every image done and ready, 1 some not ready, 65 some image failed, 64 usage.\n";
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
  if (vm.count("output-format")) result.output_format = vm["output-format"].as<std::string>();
  if (vm.count("unattend")) result.unattend = fs::absolute(vm["unattend"].as<std::string>()).string();
  result.profile = vm["profile"].as<std::string>();
  result.accel = vm["accel"].as<std::string>();
  result.force = vm.count("force") > 0;
  result.json = vm.count("json") > 0;
  if (vm.count("verbose") && vm.count("quiet")) throw UsageError("-v and -q contradict each other");
  result.verbosity = vm.count("quiet") ? 0 : vm.count("verbose") ? 2 : 1;
  result.merge = vm.count("merge") > 0;
  std::vector<std::string> inputs;
  if (vm.count("input")) inputs = vm["input"].as<std::vector<std::string>>();
  if (vm.count("output")) result.output_dir = fs::absolute(vm["output"].as<std::string>());
  if (result.merge) {
    if (result.output_dir.empty()) {
      if (inputs.empty()) throw UsageError("vmfix batch --merge: give the output directory");
      result.output_dir = fs::absolute(inputs.front());
    }
    for (const std::string& input : inputs) result.inputs.push_back(fs::absolute(input));
    if (result.inputs.empty()) result.inputs.push_back(result.output_dir);
    return result;
  }
  if (inputs.size() != 1) throw UsageError("vmfix batch: give one directory or manifest (and -o OUTDIR)");
  if (result.output_dir.empty()) throw UsageError("vmfix batch: -o OUTDIR is required");
  result.source = fs::absolute(inputs.front());
  if (vm.count("jobs")) {
    result.jobs = vm["jobs"].as<int>();
    if (result.jobs < 1 || result.jobs > 256) throw UsageError("-j: give 1 to 256 images at a time");
  }
  if (vm.count("shard")) {
    std::tie(result.shard_index, result.shard_count) = parse_shard(vm["shard"].as<std::string>());
  } else if (auto shard = shard_from_environment()) {
    std::tie(result.shard_index, result.shard_count) = *shard;
  }
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
  if (*count < 1 || *index < 0 || *index >= *count)
    throw UsageError(
        fmt::format("the environment names shard {} of {} (a Slurm array must be a range, "
                    "--array=0-N[:STEP]; or give --shard I/N)",
                    *index, *count));
  return std::pair<int, int>{static_cast<int>(*index), static_cast<int>(*count)};
}

int default_jobs() {
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const uint64_t by_memory = memory_available() / kApplianceBytes;
  return static_cast<int>(std::max<uint64_t>(1, std::min<uint64_t>(cores, by_memory)));
}

int run_batch(const BatchOptions& options) {
  if (!fs::exists(options.source))
    throw BadInput(fmt::format("{}: no such file or directory", options.source.string()));
  std::vector<LibraryImage> images = fs::is_directory(options.source)
                                         ? scan_directory(options.source, options.output_dir)
                                         : read_manifest(options.source);
  if (options.shard_count > 1) images = shard_of(images, options.shard_index, options.shard_count);
  if (fs::exists(options.output_dir) && !fs::is_directory(options.output_dir))
    throw UsageError(fmt::format("{}: not a directory", options.output_dir.string()));
  if (fs::is_directory(options.source) && fs::exists(options.output_dir) &&
      fs::equivalent(options.source, options.output_dir))
    throw UsageError(
        "the output directory is the library itself: its outputs would be read as images next time; give another -o");
  return Runner(options, std::move(images)).run();
}

int run_merge(const BatchOptions& options) {
  std::vector<fs::path> files;
  for (const fs::path& input : options.inputs) {
    if (fs::is_directory(input)) {
      std::vector<fs::path> found;
      for (const auto& entry : fs::directory_iterator(input)) {
        const std::string name = entry.path().filename().string();
        if (name.starts_with("summary-shard-") && name.ends_with(".json")) found.push_back(entry.path());
      }
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else {
      files.push_back(input);
    }
  }
  if (files.empty())
    throw BadInput(fmt::format("{}: no shard summaries (summary-shard-*.json) to merge", options.output_dir.string()));
  ordered_json images = ordered_json::array();
  std::set<std::string> keys;
  std::set<int> shards;
  int count = 0;
  std::string mode, source;
  for (const fs::path& file : files) {
    nlohmann::ordered_json summary;
    try {
      summary = nlohmann::ordered_json::parse(read_host_file(file));
    } catch (const std::exception& e) {
      throw BadInput(fmt::format("{}: not a batch summary: {}", file.string(), e.what()));
    }
    if (summary.value("schema", "") != kSchema)
      throw BadInput(fmt::format("{}: not a {} summary", file.string(), kSchema));
    const int shard_count = summary["shard"]["count"].get<int>();
    if (count && shard_count != count)
      throw BadInput(
          fmt::format("{}: a summary of {} shards among summaries of {}", file.string(), shard_count, count));
    count = shard_count;
    shards.insert(summary["shard"]["index"].get<int>());
    mode = summary.value("mode", "");
    source = summary.value("source", "");
    for (const auto& image : summary["images"])
      if (keys.insert(image["image"].get<std::string>()).second) images.push_back(image);
  }
  std::vector<int> missing;
  for (int i = 0; i < count; ++i)
    if (!shards.contains(i)) missing.push_back(i);
  std::sort(images.begin(), images.end(), [](const auto& a, const auto& b) { return a["image"] < b["image"]; });
  ordered_json summary{{"schema", kSchema},
                       {"source", source},
                       {"mode", mode},
                       {"shard", {{"index", nullptr}, {"count", count}, {"merged", shards}, {"missing", missing}}},
                       {"totals", totals_of(images)},
                       {"images", images}};
  fs::create_directories(options.output_dir);
  write_summary(options.output_dir, "", summary);
  if (options.json)
    fmt::print("{}\n", summary.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
  else if (options.verbosity > 0)
    print_totals(summary["totals"], options.output_dir, "");
  if (!missing.empty()) {
    fmt::print(stderr, "vmfix batch --merge: {} of {} shard summaries are missing\n", missing.size(), count);
    return kExitBadInput;
  }
  return exit_code_of(summary["totals"]);
}

}  // namespace vmfix::batch

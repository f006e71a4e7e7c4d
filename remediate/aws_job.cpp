#include "remediate/aws_job.h"

#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <thread>

#include "remediate/import_document.h"
#include "rules/profile.h"
#include "support/error.h"
#include "support/files.h"
#include "support/json.h"
#include "support/process.h"
#include "support/text.h"

namespace vmfix::remediate {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr uint64_t kMaxDocument = 64 << 20;  // what --aws-import-json writes is kilobytes

// A failed import: the task's message, which the caller reports with exit 2.
struct TaskFailed {
  std::string message;
};

// The aws CLI's output as one line of a message.
std::string brief(const std::string& text) { return std::string(trim(one_line(text))); }

class AwsCli {
 public:
  explicit AwsCli(const AwsJobOptions& options) : options_(options), scratch_("vmfix-aws") {}

  // An `aws ec2 COMMAND` call whose answer is JSON; `request` goes as --cli-input-json.
  json ec2(const std::string& command, const std::vector<std::string>& args, const json* request = nullptr) {
    std::vector<std::string> argv{options_.aws};
    argv.insert(argv.end(), options_.aws_args.begin(), options_.aws_args.end());
    argv.insert(argv.end(), {"ec2", command, "--output", "json"});
    argv.insert(argv.end(), args.begin(), args.end());
    if (request) {
      const fs::path file = scratch_.path() / (command + ".json");
      write_host_file_atomic(file, request->dump());
      argv.insert(argv.end(), {"--cli-input-json", "file://" + file.string()});
    }
    const SplitResult result = run_host_split(argv);
    if (result.exit_status != 0) {
      const std::string error = brief(result.errors.empty() ? result.output : result.errors);
      if (error.find("InvalidConversionTaskId") != std::string::npos ||
          error.find("InvalidImportTaskId") != std::string::npos)
        throw BadInput(fmt::format("aws ec2 {}: AWS does not know this task: {}", command, error));
      throw Error(fmt::format("aws ec2 {} failed (exit {}): {}", command, result.exit_status, error));
    }
    try {
      return parse_untrusted_json(result.output);
    } catch (const json::exception&) {
      throw Error(fmt::format("aws ec2 {}: not JSON: {}", command, brief(result.output)));
    }
  }

  void upload(const std::string& file, const std::string& url) {
    std::vector<std::string> argv{options_.aws};
    argv.insert(argv.end(), options_.aws_args.begin(), options_.aws_args.end());
    argv.insert(argv.end(), {"s3", "cp", "--only-show-errors", file, url});
    fmt::print(stderr, "vmfix: uploading {} to {}\n", file, url);
    const ProcessResult result = run_host(argv, [](std::string_view text) { fmt::print(stderr, "{}", text); });
    if (result.exit_status != 0)
      throw Error(
          fmt::format("aws s3 cp {} {} failed (exit {}): {}", file, url, result.exit_status, brief(result.output)));
  }

  void wait() const { std::this_thread::sleep_for(std::chrono::seconds(options_.poll_seconds)); }

 private:
  const AwsJobOptions& options_;
  TempDir scratch_;
};

// The document at `path`; with `uploading`, the files it uploads must be there.
ImportDocument read_document(const fs::path& path, bool uploading) {
  std::string text;
  try {
    text = read_host_file(path, kMaxDocument);
  } catch (const Error& e) {
    throw BadInput(e.what());
  }
  ImportDocument document = parse_import_document(text, path.string());
  std::error_code error;  // a path too long, in a directory vmfix cannot read, a loop: no file either
  if (uploading)
    for (const ImportDocument::Upload& upload : document.uploads)
      if (!fs::is_regular_file(upload.file, error))
        throw BadInput(fmt::format("{}: {}: no such file to upload", path.string(), one_line(upload.file)));
  return document;
}

// How to ask after one kind of import task, and where its state is in the answer.
struct TaskKind {
  const char* command;  // "describe-import-image-tasks"
  const char* list;     // "ImportImageTasks"
  const char* detail;   // the member holding Status and Progress; "" for the task itself
};
constexpr TaskKind kImageTask{"describe-import-image-tasks", "ImportImageTasks", ""};
constexpr TaskKind kSnapshotTask{"describe-import-snapshot-tasks", "ImportSnapshotTasks", "SnapshotTaskDetail"};

// Polls until the task completes (the state holding its result) or fails (TaskFailed), with a
// line whenever status, progress or message change.
json poll_task(AwsCli& aws, const TaskKind& kind, const std::string& task) {
  std::string last;
  for (;;) {
    const json answer = aws.ec2(kind.command, {"--import-task-ids", task});
    const auto& tasks = answer.value(kind.list, json::array());
    if (tasks.empty()) throw BadInput(fmt::format("AWS does not know the import task {}", task));
    const json state = *kind.detail ? tasks.front().value(kind.detail, json::object()) : tasks.front();
    const std::string status = state.value("Status", ""), message = one_line(state.value("StatusMessage", ""));
    const std::string line = fmt::format("{}: {} {}% {}", task, status, state.value("Progress", "0"), message);
    if (line != last) fmt::print(stderr, "vmfix: {}\n", line);
    last = line;
    if (status == "completed") return state;
    if (status == "deleted" || status == "deleting") throw TaskFailed{message.empty() ? status : message};
    aws.wait();
  }
}

// `request` with each string value that is exactly {{snapshot-id:N}} replaced by the Nth id: the
// values, not the text, so an id can neither reach outside its string nor hold a placeholder.
json with_snapshot_ids(json request, const std::vector<std::string>& snapshots) {
  std::vector<json*> pending{&request};
  while (!pending.empty()) {
    json& value = *pending.back();
    pending.pop_back();
    if (value.is_structured())
      for (json& member : value) pending.push_back(&member);
    for (size_t i = 0; value.is_string() && i < snapshots.size(); ++i)
      if (value == fmt::format("{{{{snapshot-id:{}}}}}", i)) value = snapshots[i];
  }
  return request;
}

// EC2's snapshot ids: "snap-" and hexadecimal digits.
bool is_snapshot_id(std::string_view id) {
  return id.size() > 5 && id.starts_with("snap-") &&
         std::all_of(id.begin() + 5, id.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
}

std::string run_snapshot_route(AwsCli& aws, const ImportDocument& document) {
  std::vector<std::string> snapshots;
  for (const json& request : document.import_snapshot) {
    const json started = aws.ec2("import-snapshot", {}, &request);
    const std::string id = poll_task(aws, kSnapshotTask, started.value("ImportTaskId", "")).value("SnapshotId", "");
    if (!is_snapshot_id(id))
      throw Error(
          fmt::format("aws ec2 import-snapshot: the task completed with no snapshot id but '{}'", one_line(id)));
    snapshots.push_back(id);
  }
  const json request = with_snapshot_ids(document.register_image, snapshots);
  return aws.ec2("register-image", {}, &request).value("ImageId", "");
}

// "ClientError: Unsupported kernel version X." -> "unsupported kernel version".
std::string known_part(std::string message) {
  if (message.starts_with("ClientError: ")) message = message.substr(13);
  for (const char* variable : {" X", " <", " {", " ("})
    if (size_t at = message.find(variable); at != std::string::npos) message.resize(at);
  while (!message.empty() && (message.back() == '.' || message.back() == ' ')) message.pop_back();
  return to_lower(message);
}

}  // namespace

std::string rule_predicting(const std::string& status_message) {
  const std::string said = to_lower(status_message);
  for (const std::string& name : rules::profile_names())
    for (const rules::Rule& rule : rules::load_profile(name).rules) {
      const std::string known = known_part(rule.aws_message);
      if (known.size() >= 8 && said.find(known) != std::string::npos) return rule.id;
    }
  return "";
}

int run_aws_import(const AwsJobOptions& options) {
  const ImportDocument document = read_document(options.document, !options.task);
  AwsCli aws(options);
  try {
    std::string image;
    if (options.task) {
      image = poll_task(aws, kImageTask, *options.task).value("ImageId", "");
    } else {
      for (const ImportDocument::Upload& upload : document.uploads) aws.upload(upload.file, upload.url);
      if (document.route == "import-image") {
        const json started = aws.ec2("import-image", {}, &document.import_image);
        image = poll_task(aws, kImageTask, started.value("ImportTaskId", "")).value("ImageId", "");
      } else {
        image = run_snapshot_route(aws, document);
      }
    }
    fmt::print("{}\n", image);
    return kExitReady;
  } catch (const TaskFailed& failed) {
    fmt::print(stderr, "vmfix: the import failed: {}\n", failed.message);
    if (const std::string rule = rule_predicting(failed.message); !rule.empty())
      fmt::print(stderr, "vmfix: the rule {} predicts this failure (vmfix --check shows it)\n", rule);
    return kExitBlocked;
  } catch (const json::exception& e) {  // an answer of another shape than EC2's (an --endpoint-url's)
    throw Error(fmt::format("aws ec2: an answer not shaped as EC2's: {}", e.what()));
  }
}

std::optional<AwsJobOptions> parse_aws_import_options(const std::vector<std::string>& args) {
  AwsJobOptions options;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= args.size()) throw UsageError(fmt::format("{} needs a value", arg));
      return args[++i];
    };
    if (arg == "--help" || arg == "-h") {
      fmt::print(
          "usage: vmfix aws-import JOB.json [--task ID] [--poll SECONDS]\n"
          "  uploads the disks JOB.json lists (vmfix --aws-import-json), starts the import and polls it;\n"
          "  --task polls an import already started. The aws CLI's configuration gives credentials and\n"
          "  region; VMFIX_AWS_CLI names the aws program, VMFIX_AWS_ARGS adds arguments to every call.\n");
      return std::nullopt;
    } else if (arg == "--task") {
      options.task = value();
    } else if (arg == "--poll") {
      const std::string seconds = value();
      const auto [end, error] = std::from_chars(seconds.data(), seconds.data() + seconds.size(), options.poll_seconds);
      if (error != std::errc() || end != seconds.data() + seconds.size() || options.poll_seconds < 1 ||
          options.poll_seconds > 3600)
        throw UsageError(fmt::format("--poll {}: seconds between 1 and 3600", seconds));
    } else if (arg.starts_with("-") || !options.document.empty()) {
      throw UsageError(fmt::format("aws-import: unexpected {} (see vmfix aws-import --help)", arg));
    } else {
      options.document = arg;
    }
  }
  if (options.document.empty()) throw UsageError("aws-import: give the document (vmfix --aws-import-json FILE)");
  if (const char* aws = std::getenv("VMFIX_AWS_CLI"); aws && *aws) options.aws = aws;
  if (const char* extra = std::getenv("VMFIX_AWS_ARGS")) options.aws_args = split_words(extra);
  return options;
}

}  // namespace vmfix::remediate

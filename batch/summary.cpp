#include "batch/summary.h"

#include <fmt/core.h>

#include <algorithm>
#include <map>
#include <set>
#include <vector>

#include "batch/batch.h"
#include "support/error.h"
#include "support/files.h"
#include "support/json.h"
#include "support/text.h"

namespace vmfix::batch {
namespace fs = std::filesystem;

constexpr uint64_t kMaxSummary = 1ULL << 30;  // about a kilobyte per image
using nlohmann::ordered_json;

ordered_json summary_entry(const JournalEntry& e, bool reused, int max_attempts) {
  const bool retry = e.state != "done" && e.exit_code != kExitBadInput && e.attempts < max_attempts;
  ordered_json rules = ordered_json::array();
  for (std::string_view id : split_list(e.failing_rules, ' '))
    if (!id.empty()) rules.push_back(std::string(id));
  return {{"image", e.key},         {"state", e.state},
          {"verdict", e.verdict},   {"exit_code", e.exit_code},
          {"findings", e.findings}, {"failing_rules", rules},
          {"changes", e.changes},   {"output", e.output},
          {"seconds", e.seconds},   {"peak_rss_mib", e.peak_rss_kib / 1024},
          {"error", e.error},       {"report", e.report},
          {"log", e.log},           {"reused", reused},
          {"attempts", e.attempts}, {"retry", retry},
          {"finished", e.finished}};
}

ordered_json totals_of(const ordered_json& images) {
  int done = 0, failed = 0, timeout = 0, retry = 0, ready = 0, fixable = 0, blocked = 0, reused = 0;
  std::map<std::string, int> rules;
  for (const auto& image : images) {
    (image["state"] == "done" ? done : failed) += 1;
    if (image["state"] == "timeout") ++timeout;
    if (image.value("retry", false)) ++retry;
    if (image["verdict"] == "ready") ++ready;
    if (image["verdict"] == "fixable") ++fixable;
    if (image["verdict"] == "blocked") ++blocked;
    if (image.value("reused", false)) ++reused;
    const ordered_json failing = image.value("failing_rules", ordered_json::array());
    for (const auto& id : failing) ++rules[id.get<std::string>()];
  }
  std::vector<std::pair<std::string, int>> by_count(rules.begin(), rules.end());
  std::stable_sort(by_count.begin(), by_count.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  ordered_json per_rule = ordered_json::object();
  for (const auto& [id, count] : by_count) per_rule[id] = count;
  return {{"images", images.size()}, {"done", done},     {"failed", failed},   {"timeout", timeout},
          {"retry", retry},          {"ready", ready},   {"fixable", fixable}, {"blocked", blocked},
          {"reused", reused},        {"rules", per_rule}};
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
      "image,state,verdict,exit_code,findings,changes,output,seconds,peak_rss_mib,error,report,log,reused,attempts,"
      "failing_rules\n";
  for (const auto& image : summary["images"]) {
    std::string rules;
    const ordered_json failing = image.value("failing_rules", ordered_json::array());
    for (const auto& id : failing) rules += (rules.empty() ? "" : " ") + id.get<std::string>();
    csv += fmt::format("{},{},{},{},{},{},{},{:.1f},{},{},{},{},{},{},{}\n", quoted(image["image"]),
                       image["state"].get<std::string>(), image["verdict"].get<std::string>(),
                       image["exit_code"].get<int>(), image["findings"].get<int>(), image["changes"].get<int>(),
                       quoted(image["output"]), image["seconds"].get<double>(), image["peak_rss_mib"].get<int64_t>(),
                       quoted(image["error"]), quoted(image["report"]), quoted(image["log"]),
                       image["reused"].get<bool>() ? "true" : "false", image.value("attempts", 0), quoted(rules));
  }
  write_host_file_atomic(directory / ("summary" + suffix + ".csv"), csv);
}

int exit_code_of(const ordered_json& totals, FailOn fail_on) {
  const bool failed = totals["failed"].get<int>() > 0;
  switch (fail_on) {
    case FailOn::retryable:
      return totals.value("retry", 0) > 0 ? kExitRetry : kExitReady;
    case FailOn::failed:
      return failed ? kExitBadInput : kExitReady;
    case FailOn::not_ready:
      break;
  }
  if (failed) return kExitBadInput;
  return totals["ready"] == totals["images"] ? kExitReady : kExitFixable;
}

void print_totals(const ordered_json& totals, const fs::path& directory, const std::string& suffix) {
  fmt::print("{} images: {} done ({} ready, {} fixable, {} blocked; {} unchanged since the last run), {} failed",
             totals["images"].get<size_t>(), totals["done"].get<int>(), totals["ready"].get<int>(),
             totals["fixable"].get<int>(), totals["blocked"].get<int>(), totals["reused"].get<int>(),
             totals["failed"].get<int>());
  if (const int timeout = totals.value("timeout", 0); timeout > 0) fmt::print(" ({} timed out)", timeout);
  if (const int retry = totals.value("retry", 0); retry > 0) fmt::print(", {} to retry", retry);
  fmt::print("\n");
  std::string rules;
  int shown = 0;
  const ordered_json per_rule = totals.value("rules", ordered_json::object());
  for (const auto& [id, count] : per_rule.items())
    if (shown++ < 8) rules += fmt::format("{}{} {}", rules.empty() ? "" : ", ", id, count.get<int>());
  if (!rules.empty()) fmt::print("failing rules (images): {}\n", rules);
  fmt::print("summary: {}\n", (directory / ("summary" + suffix + ".json")).string());
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
      summary = parse_untrusted_json<nlohmann::ordered_json>(read_host_file(file, kMaxSummary));
    } catch (const std::exception& e) {
      throw BadInput(fmt::format("{}: not a batch summary: {}", file.string(), e.what()));
    }
    int shard_count = 0, shard_index = 0;
    try {  // a file in the output directory: any shape, any value
      if (!summary.is_object() || summary.value("schema", "") != kSchema)
        throw BadInput(fmt::format("{}: not a {} summary", file.string(), kSchema));
      shard_count = summary.at("shard").at("count").get<int>();
      shard_index = summary.at("shard").at("index").get<int>();
      mode = summary.value("mode", "");
      source = summary.value("source", "");
      for (const auto& image : summary.at("images"))
        if (keys.insert(image.at("image").get<std::string>()).second) images.push_back(image);
    } catch (const nlohmann::json::exception& e) {
      throw BadInput(fmt::format("{}: not a batch summary: {}", file.string(), e.what()));
    }
    if (shard_count < 1 || shard_count > kMaxShards || shard_index < 0 || shard_index >= shard_count)
      throw BadInput(fmt::format("{}: shard {} of {} is no shard", file.string(), shard_index, shard_count));
    if (count && shard_count != count)
      throw BadInput(
          fmt::format("{}: a summary of {} shards among summaries of {}", file.string(), shard_count, count));
    count = shard_count;
    shards.insert(shard_index);
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
  make_output_directory(options.output_dir);
  write_summary(options.output_dir, "", summary);
  if (options.json)
    fmt::print("{}\n", summary.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
  else if (options.verbosity > 0)
    print_totals(summary["totals"], options.output_dir, "");
  if (!missing.empty()) {
    fmt::print(stderr, "vmfix batch --merge: {} of {} shard summaries are missing\n", missing.size(), count);
    return kExitBadInput;
  }
  return exit_code_of(summary["totals"], options.fail_on);
}

}  // namespace vmfix::batch

// vmfix batch --status OUTDIR: what the runs writing OUTDIR have done so far, read from their
// journals (which are only ever replaced whole, so a running shard's is always readable).
#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "batch/batch.h"
#include "batch/journal.h"
#include "support/error.h"

namespace vmfix::batch {
namespace fs = std::filesystem;
using nlohmann::ordered_json;

namespace {

ordered_json progress_of(const JournalFile& journal) {
  int done = 0, failed = 0, timeout = 0, running = 0;
  for (const JournalEntry& entry : journal.entries) {
    if (entry.state == "done") ++done;
    if (entry.state == "failed") ++failed;
    if (entry.state == "timeout") ++timeout;
    if (entry.state == "running") ++running;
  }
  const JournalHeader& h = journal.header;
  const int left = std::max(0, h.images - done - failed - timeout - running);
  return {{"journal", journal.path.filename().string()},
          {"shard", {{"index", h.shard_index}, {"count", h.shard_count}}},
          {"source", h.source},
          {"host", h.host},
          {"pid", h.pid},
          {"started", h.started},
          {"updated", h.updated},
          {"ended", h.ended},
          {"images", h.images},
          {"done", done},
          {"failed", failed},
          {"timeout", timeout},
          {"running", h.ended ? 0 : running},
          {"left", left}};
}

void print_progress(const ordered_json& shard) {
  fmt::print(
      "shard {}/{} on {} (pid {}): {}; updated {}\n  {} images: {} done, {} failed, {} timed out, {} running, {} "
      "left\n",
      shard["shard"]["index"].get<int>(), shard["shard"]["count"].get<int>(), shard["host"].get<std::string>(),
      shard["pid"].get<int64_t>(), shard["ended"].get<bool>() ? "ended" : "running or stopped",
      shard["updated"].get<std::string>(), shard["images"].get<int>(), shard["done"].get<int>(),
      shard["failed"].get<int>(), shard["timeout"].get<int>(), shard["running"].get<int>(), shard["left"].get<int>());
}

}  // namespace

int run_status(const BatchOptions& options) {
  if (!fs::is_directory(options.output_dir))
    throw BadInput(fmt::format("{}: no such directory", options.output_dir.string()));
  const std::vector<JournalFile> journals = read_journals(options.output_dir);
  if (journals.empty())
    throw BadInput(
        fmt::format("{}: no batch journal (journal*.sqlite): no batch has written here", options.output_dir.string()));
  ordered_json shards = ordered_json::array();
  ordered_json totals{{"images", 0}, {"done", 0}, {"failed", 0}, {"timeout", 0}, {"running", 0}, {"left", 0}};
  for (const JournalFile& journal : journals) {
    shards.push_back(progress_of(journal));
    for (auto& [key, value] : totals.items()) value = value.get<int>() + shards.back()[key].get<int>();
  }
  const ordered_json status{{"schema", "vmfix.batch-status/1"},
                            {"directory", options.output_dir.string()},
                            {"shards", shards},
                            {"totals", totals}};
  if (options.json) {
    fmt::print("{}\n", status.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
    return kExitReady;
  }
  for (const auto& shard : shards) print_progress(shard);
  fmt::print("all: {} images, {} done, {} failed, {} timed out, {} running, {} left\n", totals["images"].get<int>(),
             totals["done"].get<int>(), totals["failed"].get<int>(), totals["timeout"].get<int>(),
             totals["running"].get<int>(), totals["left"].get<int>());
  return kExitReady;
}

}  // namespace vmfix::batch

#pragma once
// The batch journal: one SQLite database per output directory (and shard), one row per image,
// written as each image starts and ends. Killing the batch loses at most the images that were
// running; the next run redoes those and skips what finished, unless its source changed.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

struct sqlite3;

namespace vmfix::batch {

struct JournalEntry {
  std::string key;
  std::string state;  // "running", "done" (vmfix gave a verdict), "failed" (it could not)
  uint64_t size = 0;  // the source when it was processed
  int64_t mtime_ns = 0;
  std::string sha256;
  std::string verdict;  // "ready", "fixable", "blocked"; "" when failed
  int exit_code = 0;
  int findings = 0;  // failing findings after the run
  int changes = 0;
  std::string output;  // the image written, "" when none
  std::string report;
  std::string log;
  double seconds = 0;
  int64_t peak_rss_kib = 0;  // the largest process of the worker (the appliance's qemu)
  std::string error;
  std::string finished;    // UTC, ISO 8601
  std::string settings;    // the options it was processed with: other options mean another result
  std::string companions;  // name, size and mtime of the files it reads besides itself (OVF disks)
};

class Journal {
 public:
  explicit Journal(const std::filesystem::path& file);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  std::optional<JournalEntry> find(const std::string& key);
  void put(const JournalEntry& entry);
  std::vector<JournalEntry> all();

 private:
  void exec(const char* sql);
  std::filesystem::path file_;
  sqlite3* db_ = nullptr;
};

}  // namespace vmfix::batch

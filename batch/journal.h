#pragma once
// The batch journal: one row per image, written as each image starts and ends. Killing the batch
// loses at most the images that were running; the next run redoes those and skips what finished,
// unless its source changed.
//
// Each shard owns one file, OUTDIR/journal[-shard-I-of-N].sqlite, an SQLite database that is only
// ever replaced whole: the rows live in memory and every change writes a new copy beside the file
// and renames it over. Nothing is locked, mapped or shared while it is written, so the journal
// works on the network filesystems a cluster shares (NFS, SMB, Lustre, FUSE), where SQLite's WAL
// mode does not, and a reader (`vmfix batch --status`, another shard) always sees a whole file.
// A shard also reads every other journal in OUTDIR: what a run with another shard count finished
// is not done again.
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace vmfix::batch {

class JournalDatabase;

struct JournalEntry {
  std::string key;
  std::string state;  // "running", "done" (vmfix gave a verdict), "failed" (it could not), "timeout"
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
  std::string finished;       // UTC, ISO 8601
  std::string settings;       // the options it was processed with: other options mean another result
  std::string companions;     // name, size and mtime of the files it reads besides itself (OVF disks)
  int attempts = 0;           // runs of this image with these settings and this source
  std::string failing_rules;  // the ids of the rules that failed after the run, space-separated
};

// What a journal says about its run, for --status.
struct JournalHeader {
  std::string source;  // the library
  int shard_index = 0, shard_count = 1;
  int images = 0;    // in the shard
  std::string host;  // where it runs
  int64_t pid = 0;
  std::string started, updated;  // UTC, ISO 8601
  bool ended = false;            // the run wrote its summary
};

class Journal {
 public:
  // Opens (or starts) `file` and reads the other journal*.sqlite files beside it. Throws Error
  // when a journal is not one.
  explicit Journal(const std::filesystem::path& file);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // This journal's row; else, of the other journals' rows for the key, the last one finished.
  std::optional<JournalEntry> find(const std::string& key);
  // Records the row and writes the journal.
  void put(const JournalEntry& entry);
  // Records the row; the next put() or flush() writes it.
  void adopt(const JournalEntry& entry);
  void flush();
  std::vector<JournalEntry> all();

  JournalHeader header();
  void set_header(const JournalHeader& header);  // recorded with the next write

 private:
  void write();
  std::filesystem::path file_;
  std::unique_ptr<JournalDatabase> db_;
  std::optional<JournalHeader> header_;            // to record
  std::map<std::string, JournalEntry> elsewhere_;  // the other journals' rows
};

// Every journal in `directory` with its header and rows (for --status), in file-name order.
struct JournalFile {
  std::filesystem::path path;
  JournalHeader header;
  std::vector<JournalEntry> entries;
};
std::vector<JournalFile> read_journals(const std::filesystem::path& directory);

// Now, in UTC, ISO 8601 (2026-12-03T08:15:00Z).
std::string utc_now();

}  // namespace vmfix::batch

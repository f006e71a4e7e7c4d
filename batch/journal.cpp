#include "batch/journal.h"

#include <fmt/core.h>
#include <sqlite3.h>

#include <memory>

#include "support/error.h"

namespace vmfix::batch {

namespace {

using Statement = std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)>;

constexpr const char* kColumns =
    "key, state, size, mtime_ns, sha256, verdict, exit_code, findings, changes, output, report, log, seconds, "
    "peak_rss_kib, error, finished, settings, companions";

std::string text_column(sqlite3_stmt* statement, int column) {
  const unsigned char* text = sqlite3_column_text(statement, column);
  return text ? reinterpret_cast<const char*>(text) : "";
}

JournalEntry read_row(sqlite3_stmt* s) {
  JournalEntry e;
  e.key = text_column(s, 0);
  e.state = text_column(s, 1);
  e.size = static_cast<uint64_t>(sqlite3_column_int64(s, 2));
  e.mtime_ns = sqlite3_column_int64(s, 3);
  e.sha256 = text_column(s, 4);
  e.verdict = text_column(s, 5);
  e.exit_code = sqlite3_column_int(s, 6);
  e.findings = sqlite3_column_int(s, 7);
  e.changes = sqlite3_column_int(s, 8);
  e.output = text_column(s, 9);
  e.report = text_column(s, 10);
  e.log = text_column(s, 11);
  e.seconds = sqlite3_column_double(s, 12);
  e.peak_rss_kib = sqlite3_column_int64(s, 13);
  e.error = text_column(s, 14);
  e.finished = text_column(s, 15);
  e.settings = text_column(s, 16);
  e.companions = text_column(s, 17);
  return e;
}

}  // namespace

Journal::Journal(const std::filesystem::path& file) : file_(file) {
  if (sqlite3_open_v2(file.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string message = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw Error(fmt::format("{}: cannot open the batch journal: {}", file.string(), message));
  }
  sqlite3_busy_timeout(db_, 10000);
  try {
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=FULL");
    exec(
        "CREATE TABLE IF NOT EXISTS images (key TEXT PRIMARY KEY, state TEXT NOT NULL, size INTEGER, mtime_ns INTEGER, "
        "sha256 TEXT, verdict TEXT, exit_code INTEGER, findings INTEGER, changes INTEGER, output TEXT, report TEXT, "
        "log TEXT, seconds REAL, peak_rss_kib INTEGER, error TEXT, finished TEXT, settings TEXT, companions TEXT)");
  } catch (...) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
}

Journal::~Journal() { sqlite3_close(db_); }

void Journal::exec(const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message ? message : "unknown error";
    sqlite3_free(message);
    throw Error(fmt::format("{}: batch journal: {}", file_.string(), text));
  }
}

std::optional<JournalEntry> Journal::find(const std::string& key) {
  sqlite3_stmt* raw = nullptr;
  const std::string sql = fmt::format("SELECT {} FROM images WHERE key = ?1", kColumns);
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &raw, nullptr) != SQLITE_OK)
    throw Error(fmt::format("{}: batch journal: {}", file_.string(), sqlite3_errmsg(db_)));
  Statement statement(raw, sqlite3_finalize);
  sqlite3_bind_text(raw, 1, key.c_str(), -1, SQLITE_TRANSIENT);
  if (sqlite3_step(raw) != SQLITE_ROW) return std::nullopt;
  return read_row(raw);
}

void Journal::put(const JournalEntry& e) {
  sqlite3_stmt* raw = nullptr;
  const std::string sql = fmt::format(
      "INSERT OR REPLACE INTO images ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
      "?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
      kColumns);
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &raw, nullptr) != SQLITE_OK)
    throw Error(fmt::format("{}: batch journal: {}", file_.string(), sqlite3_errmsg(db_)));
  Statement statement(raw, sqlite3_finalize);
  int i = 0;
  auto text = [&](const std::string& value) { sqlite3_bind_text(raw, ++i, value.c_str(), -1, SQLITE_TRANSIENT); };
  auto integer = [&](int64_t value) { sqlite3_bind_int64(raw, ++i, value); };
  text(e.key);
  text(e.state);
  integer(static_cast<int64_t>(e.size));
  integer(e.mtime_ns);
  text(e.sha256);
  text(e.verdict);
  integer(e.exit_code);
  integer(e.findings);
  integer(e.changes);
  text(e.output);
  text(e.report);
  text(e.log);
  sqlite3_bind_double(raw, ++i, e.seconds);
  integer(e.peak_rss_kib);
  text(e.error);
  text(e.finished);
  text(e.settings);
  text(e.companions);
  if (sqlite3_step(raw) != SQLITE_DONE)
    throw Error(fmt::format("{}: batch journal: {}", file_.string(), sqlite3_errmsg(db_)));
}

std::vector<JournalEntry> Journal::all() {
  sqlite3_stmt* raw = nullptr;
  const std::string sql = fmt::format("SELECT {} FROM images ORDER BY key", kColumns);
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &raw, nullptr) != SQLITE_OK)
    throw Error(fmt::format("{}: batch journal: {}", file_.string(), sqlite3_errmsg(db_)));
  Statement statement(raw, sqlite3_finalize);
  std::vector<JournalEntry> entries;
  while (sqlite3_step(raw) == SQLITE_ROW) entries.push_back(read_row(raw));
  return entries;
}

}  // namespace vmfix::batch

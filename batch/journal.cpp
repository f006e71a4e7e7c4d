#include "batch/journal.h"

#include <fmt/core.h>
#include <fmt/ranges.h>
#include <sqlite3.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <memory>

#include "support/error.h"
#include "support/files.h"
#include "support/text.h"

namespace vmfix::batch {
namespace fs = std::filesystem;

namespace {

using Statement = std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)>;

// The columns in the order read_row and bind_row use them; the first journals lacked the last two.
constexpr const char* kColumns =
    "key, state, size, mtime_ns, sha256, verdict, exit_code, findings, changes, output, report, log, seconds, "
    "peak_rss_kib, error, finished, settings, companions, attempts, failing_rules";
constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS images (key TEXT PRIMARY KEY, state TEXT NOT NULL, size INTEGER, mtime_ns INTEGER, "
    "sha256 TEXT, verdict TEXT, exit_code INTEGER, findings INTEGER, changes INTEGER, output TEXT, report TEXT, "
    "log TEXT, seconds REAL, peak_rss_kib INTEGER, error TEXT, finished TEXT, settings TEXT, companions TEXT, "
    "attempts INTEGER DEFAULT 0, failing_rules TEXT DEFAULT '');"
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)";
constexpr const char* kAddedColumns[][2] = {{"attempts", "INTEGER DEFAULT 0"}, {"failing_rules", "TEXT DEFAULT ''"}};

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
  e.attempts = sqlite3_column_int(s, 18);
  e.failing_rules = text_column(s, 19);
  return e;
}

void bind_row(sqlite3_stmt* raw, const JournalEntry& e) {
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
  integer(e.attempts);
  text(e.failing_rules);
}

// An in-memory database holding `file`'s content (none when it does not exist), with the
// current schema.
}  // namespace

class JournalDatabase {
 public:
  explicit JournalDatabase(fs::path file) : file_(std::move(file)) {
    if (sqlite3_open(":memory:", &db_) != SQLITE_OK) fail("cannot start");
    if (fs::exists(file_)) load();
    if (loaded_) check_tables();
    exec(kSchema);
    add_missing_columns();
    if (loaded_) check_columns();
  }
  ~JournalDatabase() { sqlite3_close(db_); }
  JournalDatabase(const JournalDatabase&) = delete;
  JournalDatabase& operator=(const JournalDatabase&) = delete;

  sqlite3* get() const { return db_; }

  [[noreturn]] void fail(const std::string& what) const {
    const std::string message =
        fmt::format("{}: batch journal: {}: {}", file_.string(), what, db_ ? sqlite3_errmsg(db_) : "no memory");
    // The database is in memory, so the disk is not what failed: the file's content is.
    const int code = db_ ? sqlite3_errcode(db_) : SQLITE_NOMEM;
    if (code == SQLITE_NOTADB || code == SQLITE_CORRUPT) refuse(message);
    throw Error(message);
  }

  [[noreturn]] void refuse(const std::string& message) const {
    throw BadInput(message + " (move it aside to start this batch over)");
  }

  void exec(const char* sql) const {
    if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) fail("not a vmfix journal");
  }

  Statement prepare(const std::string& sql) const {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &raw, nullptr) != SQLITE_OK) fail("not a vmfix journal");
    return Statement(raw, sqlite3_finalize);
  }

  // The whole database, as the file holding it would.
  std::string bytes() const {
    sqlite3_int64 size = 0;
    unsigned char* data = sqlite3_serialize(db_, "main", &size, 0);
    if (!data) fail("cannot serialize");
    std::string copy(reinterpret_cast<const char*>(data), static_cast<size_t>(size));
    sqlite3_free(data);
    return copy;
  }

 private:
  void load() {
    // A fifo, a directory or a device in its place is no journal (and a pipe is not replaced).
    if (std::error_code error; !fs::is_regular_file(file_, error))
      refuse(fmt::format("{}: batch journal: not a regular file", file_.string()));
    std::string content;
    try {
      content = read_host_file(file_);
    } catch (const Error& e) {
      refuse(e.what());
    }
    // Journals written by earlier versions were in WAL mode (file format bytes 18 and 19 are 2),
    // which a deserialized database cannot be; they were checkpointed when closed.
    if (content.size() >= 20 && content.compare(0, 16, std::string("SQLite format 3\0", 16)) == 0 && content[18] == 2 &&
        content[19] == 2)
      content[18] = content[19] = 1;
    auto* data = static_cast<unsigned char*>(sqlite3_malloc64(std::max<size_t>(content.size(), 1)));
    if (!data) fail("cannot load");
    std::memcpy(data, content.data(), content.size());
    const auto size = static_cast<sqlite3_int64>(content.size());
    if (sqlite3_deserialize(db_, "main", data, size, size,
                            SQLITE_DESERIALIZE_FREEONCLOSE | SQLITE_DESERIALIZE_RESIZEABLE) != SQLITE_OK)
      fail("cannot load");
    loaded_ = true;
  }

  // A file is taken as a journal only when it is an intact SQLite database whose tables are a
  // journal's (or that has none), before anything is added to it and written back.
  void check_tables() const {
    Statement check = prepare("PRAGMA quick_check");
    if (sqlite3_step(check.get()) != SQLITE_ROW || text_column(check.get(), 0) != "ok")
      refuse(fmt::format("{}: batch journal: corrupt: {}", file_.string(), one_line(text_column(check.get(), 0))));
    Statement tables =
        prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'");
    std::vector<std::string> names;
    while (sqlite3_step(tables.get()) == SQLITE_ROW) names.push_back(text_column(tables.get(), 0));
    const auto journals = [](const std::string& name) { return name == "images" || name == "meta"; };
    const bool has_images = std::find(names.begin(), names.end(), "images") != names.end();
    if (!names.empty() && !(has_images && std::all_of(names.begin(), names.end(), journals)))
      refuse(fmt::format("{}: batch journal: not a vmfix journal: its tables are {}", file_.string(),
                         one_line(fmt::format("{}", fmt::join(names, ", ")))));
  }

  // The columns read_row and the header reader use are all there.
  void check_columns() const {
    for (const std::string& sql :
         {fmt::format("SELECT {} FROM images LIMIT 0", kColumns), std::string("SELECT key, value FROM meta LIMIT 0")}) {
      sqlite3_stmt* raw = nullptr;
      const int status = sqlite3_prepare_v2(db_, sql.c_str(), -1, &raw, nullptr);
      sqlite3_finalize(raw);
      if (status != SQLITE_OK)
        refuse(fmt::format("{}: batch journal: not a vmfix journal: {}", file_.string(), sqlite3_errmsg(db_)));
    }
  }

  void add_missing_columns() const {
    Statement info = prepare("PRAGMA table_info(images)");
    std::vector<std::string> present;
    while (sqlite3_step(info.get()) == SQLITE_ROW) present.push_back(text_column(info.get(), 1));
    for (const auto& [name, type] : kAddedColumns)
      if (std::find(present.begin(), present.end(), name) == present.end())
        exec(fmt::format("ALTER TABLE images ADD COLUMN {} {}", name, type).c_str());
  }

  fs::path file_;
  sqlite3* db_ = nullptr;
  bool loaded_ = false;  // from the file, rather than new
};

namespace {

using Database = JournalDatabase;

std::vector<JournalEntry> rows_of(const Database& db) {
  Statement statement = db.prepare(fmt::format("SELECT {} FROM images ORDER BY key", kColumns));
  std::vector<JournalEntry> entries;
  int step = 0;
  while ((step = sqlite3_step(statement.get())) == SQLITE_ROW) entries.push_back(read_row(statement.get()));
  if (step != SQLITE_DONE) db.fail("unreadable");
  return entries;
}

JournalHeader header_of(const Database& db) {
  Statement statement = db.prepare("SELECT key, value FROM meta");
  std::map<std::string, std::string> meta;
  while (sqlite3_step(statement.get()) == SQLITE_ROW)
    meta[text_column(statement.get(), 0)] = text_column(statement.get(), 1);
  auto number = [&](const char* key) { return meta.contains(key) ? std::atoll(meta[key].c_str()) : 0; };
  JournalHeader h;
  h.source = meta["source"];
  h.shard_index = static_cast<int>(number("shard_index"));
  h.shard_count = std::max(1, static_cast<int>(number("shard_count")));
  h.images = static_cast<int>(number("images"));
  h.host = meta["host"];
  h.pid = number("pid");
  h.started = meta["started"];
  h.updated = meta["updated"];
  h.ended = meta["ended"] == "1";
  return h;
}

bool is_journal_name(const std::string& name) { return name.starts_with("journal") && name.ends_with(".sqlite"); }

}  // namespace

Journal::Journal(const fs::path& file) : file_(file), db_(std::make_unique<Database>(file)) {
  std::error_code error;
  const fs::path directory = file.has_parent_path() ? file.parent_path() : fs::path(".");
  const std::string partial = "." + file.filename().string() + ".tmp-";  // what a killed run was writing
  for (const auto& entry : fs::directory_iterator(directory, error)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with(partial)) fs::remove(entry.path(), error);
    if (!is_journal_name(name) || entry.path() == file) continue;
    for (JournalEntry& row : rows_of(Database(entry.path()))) {
      auto [place, added] = elsewhere_.try_emplace(row.key, row);
      if (!added && row.finished > place->second.finished) place->second = std::move(row);
    }
  }
}

Journal::~Journal() = default;

std::optional<JournalEntry> Journal::find(const std::string& key) {
  Statement statement = db_->prepare(fmt::format("SELECT {} FROM images WHERE key = ?1", kColumns));
  sqlite3_bind_text(statement.get(), 1, key.c_str(), -1, SQLITE_TRANSIENT);
  if (sqlite3_step(statement.get()) == SQLITE_ROW) return read_row(statement.get());
  if (auto other = elsewhere_.find(key); other != elsewhere_.end()) return other->second;
  return std::nullopt;
}

void Journal::adopt(const JournalEntry& entry) {
  Statement statement = db_->prepare(fmt::format(
      "INSERT OR REPLACE INTO images ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, "
      "?16, ?17, ?18, ?19, ?20)",
      kColumns));
  bind_row(statement.get(), entry);
  if (sqlite3_step(statement.get()) != SQLITE_DONE) db_->fail("cannot record " + entry.key);
}

void Journal::put(const JournalEntry& entry) {
  adopt(entry);
  write();
}

void Journal::flush() { write(); }

void Journal::set_header(const JournalHeader& header) { header_ = header; }

JournalHeader Journal::header() { return header_ ? *header_ : header_of(*db_); }

// The header and rows, as a new file renamed over the journal.
void Journal::write() {
  if (header_) {
    JournalHeader& h = *header_;
    h.updated = utc_now();
    const std::pair<const char*, std::string> values[] = {{"source", h.source},
                                                          {"shard_index", std::to_string(h.shard_index)},
                                                          {"shard_count", std::to_string(h.shard_count)},
                                                          {"images", std::to_string(h.images)},
                                                          {"host", h.host},
                                                          {"pid", std::to_string(h.pid)},
                                                          {"started", h.started},
                                                          {"updated", h.updated},
                                                          {"ended", h.ended ? "1" : "0"}};
    for (const auto& [key, value] : values) {
      Statement statement = db_->prepare("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)");
      sqlite3_bind_text(statement.get(), 1, key, -1, SQLITE_STATIC);
      sqlite3_bind_text(statement.get(), 2, value.c_str(), -1, SQLITE_TRANSIENT);
      if (sqlite3_step(statement.get()) != SQLITE_DONE) db_->fail("cannot record the header");
    }
  }
  write_host_file_atomic(file_, db_->bytes());
}

std::vector<JournalEntry> Journal::all() { return rows_of(*db_); }

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

std::vector<JournalFile> read_journals(const fs::path& directory) {
  std::vector<JournalFile> journals;
  for (const auto& entry : fs::directory_iterator(directory)) {
    if (!is_journal_name(entry.path().filename().string())) continue;
    const Database db(entry.path());
    journals.push_back({entry.path(), header_of(db), rows_of(db)});
  }
  std::sort(journals.begin(), journals.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
  return journals;
}

}  // namespace vmfix::batch

#pragma once
// vmfix batch's summary (schema vmfix.batch/1): one entry per image, the totals, JSON and CSV
// files, the exit code they give; and --merge, which combines the shards' summaries.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "batch/batch.h"
#include "batch/journal.h"

namespace vmfix::batch {

inline constexpr const char* kSchema = "vmfix.batch/1";

// `retry`: whether the next run processes the image again although its source and the options
// stay as they are (a failure other than a bad input, with attempts left).
nlohmann::ordered_json summary_entry(const JournalEntry& e, bool reused, int max_attempts);
// Counts of states and verdicts, and per rule id the images where it still fails, most first.
nlohmann::ordered_json totals_of(const nlohmann::ordered_json& images);
// summary{suffix}.json and .csv in `directory`, each written atomically.
void write_summary(const std::filesystem::path& directory, const std::string& suffix,
                   const nlohmann::ordered_json& summary);
int exit_code_of(const nlohmann::ordered_json& totals, FailOn fail_on);
void print_totals(const nlohmann::ordered_json& totals, const std::filesystem::path& directory,
                  const std::string& suffix);

}  // namespace vmfix::batch

#pragma once
// vmfix batch's summary (schema vmfix.batch/1): one entry per image, the totals, JSON and CSV
// files, the exit code they give; and --merge, which combines the shards' summaries.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "batch/journal.h"

namespace vmfix::batch {

inline constexpr const char* kSchema = "vmfix.batch/1";

nlohmann::ordered_json summary_entry(const JournalEntry& e, bool reused);
nlohmann::ordered_json totals_of(const nlohmann::ordered_json& images);
// summary{suffix}.json and .csv in `directory`, each written atomically.
void write_summary(const std::filesystem::path& directory, const std::string& suffix,
                   const nlohmann::ordered_json& summary);
int exit_code_of(const nlohmann::ordered_json& totals);
void print_totals(const nlohmann::ordered_json& totals, const std::filesystem::path& directory,
                  const std::string& suffix);

}  // namespace vmfix::batch

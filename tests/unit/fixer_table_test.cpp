// The fixer table: each fixer documents itself, and the README shows exactly that.
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "fixers/table.h"
#include "support/files.h"

namespace vmfix::fixers {

TEST(FixerTable, EveryFixerHasAUniqueIdASummaryAndItsRows) {
  std::set<std::string> ids;
  for (const auto& fixer : all_fixers()) {
    SCOPED_TRACE(std::string(fixer->id()));
    EXPECT_TRUE(ids.insert(std::string(fixer->id())).second) << "two fixers share an id";
    EXPECT_FALSE(fixer->summary().empty());
    const auto rows = fixer->documentation();
    ASSERT_FALSE(rows.empty());
    for (const FixerDoc& row : rows) {
      EXPECT_EQ(row.id, fixer->id());
      EXPECT_FALSE(row.checks.empty());
      EXPECT_FALSE(row.changes.empty());
    }
  }
  for (const auto& fixer : select_fixers(std::vector<std::string>(ids.begin(), ids.end())))
    EXPECT_TRUE(ids.count(std::string(fixer->id())));
}

// The README's table is the one the fixers describe; scripts/fixer-table.sh writes it.
TEST(FixerTable, TheReadmeShowsWhatTheFixersSay) {
  const std::string readme = read_host_file(std::string(VMFIX_SOURCE_DIR) + "/README.md");
  const std::string table = readme_fixer_table();
  std::ofstream(std::string(VMFIX_FIXTURE_CACHE) + "/../fixer-table.md") << table;
  EXPECT_NE(readme.find("\n" + table + "\n"), std::string::npos)
      << "the README's fixer table differs from the fixers' own documentation: run scripts/fixer-table.sh";
}

}  // namespace vmfix::fixers

// pagefile on the Windows fixture: a fixed size where Windows managed it; an explicit size kept.
#include "fixers/table.h"
#include "registry/values.h"
#include "tests/unit/fixture_guest.h"
#include "tests/unit/windows_guest.h"

namespace vmfix::test {
namespace {

namespace fs = std::filesystem;
using Pagefile = WindowsGuest;
constexpr const char* kMemory = "\\Control\\Session Manager\\Memory Management";

TEST_F(Pagefile, AManagedPagefileGetsAFixedSize) {
  EXPECT_NE(registry::as_multi_string(value("SYSTEM", std::string("ControlSet002") + kMemory, "PagingFiles")),
            (std::vector<std::string>{"C:\\pagefile.sys 2048 2048"}))
      << "before";
  auto fixer = fixer_named("pagefile");
  expect_fixed_once(*fixer);
  EXPECT_EQ(registry::as_multi_string(value("SYSTEM", std::string("ControlSet002") + kMemory, "PagingFiles")),
            (std::vector<std::string>{"C:\\pagefile.sys 2048 2048"}));
}

TEST_F(Pagefile, AnExplicitSizeIsKeptAndManagedOnesFixed) {
  auto pagefile = fixer_named("pagefile");
  auto set_paging = [&](const std::vector<std::string>& entries) {
    const fs::path file = scratch_.path() / "sys";
    guest_.download("/Windows/System32/config/SYSTEM", file.string());
    {
      registry::Hive hive(file, registry::Hive::Mode::writable);
      for (const char* set : {"ControlSet001", "ControlSet002"})
        hive.set_value(hive.create(set + std::string(kMemory)), registry::make_multi_string("PagingFiles", entries));
      hive.commit(file);
    }
    guest_.upload(file.string(), "/Windows/System32/config/SYSTEM");
  };
  set_paging({"D:\\pagefile.sys 4096 8192"});
  EXPECT_TRUE(pagefile->fix(guest_, facts_).empty()) << "an explicit size was replaced";
  set_paging({"C:\\pagefile.sys 0 0"});
  EXPECT_EQ(pagefile->fix(guest_, facts_).size(), 2u);  // both control sets
  set_paging({"C:\\pagefile.sys"});
  EXPECT_EQ(pagefile->fix(guest_, facts_).size(), 2u);
}

}  // namespace
}  // namespace vmfix::test

// san-policy on the Windows fixture's SYSTEM hive: SanPolicy 1 (OnlineAll) in every control set,
// whatever was there (the fixture has the server default, absent, in one set and OfflineShared in
// the other).
#include "registry/values.h"
#include "tests/unit/fixture_guest.h"
#include "tests/unit/windows_guest.h"

namespace vmfix::test {
namespace {

using SanPolicy = WindowsGuest;

TEST_F(SanPolicy, EveryDiskComesOnlineInEveryControlSet) {
  const std::string key = "\\Services\\partmgr\\Parameters";
  EXPECT_EQ(registry::as_dword(value("SYSTEM", std::string("ControlSet001") + key, "SanPolicy")), 2u)
      << "the fixture has OfflineShared";
  auto fixer = fixer_named("san-policy");
  const std::vector<std::string> before = failing(*fixer);
  ASSERT_EQ(before.size(), 2u);
  EXPECT_NE(before[0].find("SanPolicy is dword:2"), std::string::npos) << "the value found is reported: " << before[0];
  expect_fixed_once(*fixer);
  for (const char* set : {"ControlSet001", "ControlSet002"})
    EXPECT_EQ(registry::as_dword(value("SYSTEM", set + key, "SanPolicy")), 1u) << set << " after";
}

}  // namespace
}  // namespace vmfix::test

// fast-startup on the Windows fixture's SYSTEM hive: HiberbootEnabled and HibernateEnabled 0 in
// every control set (the fixture has Fast Startup on, as Windows 8 and later install it).
#include "registry/values.h"
#include "tests/unit/fixture_guest.h"
#include "tests/unit/windows_guest.h"

namespace vmfix::test {
namespace {

using FastStartup = WindowsGuest;

TEST_F(FastStartup, FastStartupAndHibernationAreOffInEveryControlSet) {
  const std::string power = "\\Control\\Session Manager\\Power", hibernate = "\\Control\\Power";
  EXPECT_EQ(registry::as_dword(value("SYSTEM", std::string("ControlSet001") + power, "HiberbootEnabled")), 1u);
  auto fixer = fixer_named("fast-startup");
  expect_fixed_once(*fixer);
  for (const char* set : {"ControlSet001", "ControlSet002"}) {
    EXPECT_EQ(registry::as_dword(value("SYSTEM", set + power, "HiberbootEnabled")), 0u) << set;
    EXPECT_EQ(registry::as_dword(value("SYSTEM", set + hibernate, "HibernateEnabled")), 0u) << set;
  }
}

}  // namespace
}  // namespace vmfix::test

// rtc-utc on the Windows fixture's SYSTEM hive: RealTimeIsUniversal 1 in every control set.
#include "registry/values.h"
#include "tests/unit/fixture_guest.h"
#include "tests/unit/windows_guest.h"

namespace vmfix::test {
namespace {

using RtcUtc = WindowsGuest;

TEST_F(RtcUtc, TheClockIsUtcInEveryControlSet) {
  const std::string key = "\\Control\\TimeZoneInformation";
  for (const char* set : {"ControlSet001", "ControlSet002"})
    EXPECT_NE(registry::as_dword(value("SYSTEM", set + key, "RealTimeIsUniversal")), 1u) << set << " before";
  auto fixer = fixer_named("rtc-utc");
  expect_fixed_once(*fixer);
  for (const char* set : {"ControlSet001", "ControlSet002"})  // Current and LastKnownGood
    EXPECT_EQ(registry::as_dword(value("SYSTEM", set + key, "RealTimeIsUniversal")), 1u) << set << " after";
}

}  // namespace
}  // namespace vmfix::test

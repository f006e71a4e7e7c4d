// autologon on the Windows fixture: AutoAdminLogon off, the stored password gone, never shown.
#include "registry/values.h"
#include "tests/unit/fixture_guest.h"
#include "tests/unit/windows_guest.h"

namespace vmfix::test {
namespace {

using Autologon = WindowsGuest;
constexpr const char* kWinlogon = "Microsoft\\Windows NT\\CurrentVersion\\Winlogon";

TEST_F(Autologon, OffAndThePasswordRemoved) {
  EXPECT_EQ(registry::as_string(value("SOFTWARE", kWinlogon, "AutoAdminLogon")), "1") << "before";
  EXPECT_NE(value("SOFTWARE", kWinlogon, "DefaultPassword").type, registry::kRegNone) << "before";
  auto fixer = fixer_named("autologon");
  for (const fixers::Finding& finding : fixer->check(guest_, facts_))
    EXPECT_EQ(finding.evidence.find("Fixture-Only-Passw0rd"), std::string::npos) << finding.evidence;
  for (const fixers::Change& change : fixer->fix(guest_, facts_))
    EXPECT_EQ(change.before.find("Fixture-Only-Passw0rd"), std::string::npos) << change.before;
  EXPECT_EQ(registry::as_string(value("SOFTWARE", kWinlogon, "AutoAdminLogon")), "0");
  EXPECT_EQ(value("SOFTWARE", kWinlogon, "DefaultPassword").type, registry::kRegNone);
  EXPECT_EQ(registry::as_string(value("SOFTWARE", kWinlogon, "DefaultUserName")), "Administrator") << "kept";
  EXPECT_TRUE(failing(*fixer).empty());
  EXPECT_TRUE(fixer->fix(guest_, facts_).empty());
}

}  // namespace
}  // namespace vmfix::test

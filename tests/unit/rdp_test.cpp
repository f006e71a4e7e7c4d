// rdp on the Windows fixture: connections allowed, the inbound rule active with the rest of it kept.
#include "registry/values.h"
#include "tests/unit/fixture_guest.h"
#include "tests/unit/windows_guest.h"

namespace vmfix::test {
namespace {

using Rdp = WindowsGuest;

TEST_F(Rdp, RemoteDesktopAllowedAndItsFirewallRuleActive) {
  const std::string rules = "\\Services\\SharedAccess\\Parameters\\FirewallPolicy\\FirewallRules";
  EXPECT_EQ(registry::as_dword(value("SYSTEM", "ControlSet001\\Control\\Terminal Server", "fDenyTSConnections")), 1u)
      << "before: denied";
  auto fixer = fixer_named("rdp");
  expect_fixed_once(*fixer);
  for (const char* set : {"ControlSet001", "ControlSet002"}) {
    EXPECT_EQ(
        registry::as_dword(value("SYSTEM", std::string(set) + "\\Control\\Terminal Server", "fDenyTSConnections")), 0u);
    auto rule = registry::as_string(value("SYSTEM", set + rules, "RemoteDesktop-UserMode-In-TCP"));
    ASSERT_TRUE(rule);
    EXPECT_NE(rule->find("|Active=TRUE|"), std::string::npos);
    EXPECT_NE(rule->find("|LPort=3389|"), std::string::npos) << "the rest of the rule is kept";
    EXPECT_EQ(registry::as_dword(value("SYSTEM", std::string(set) + "\\Services\\TermService", "Start")), 3u);
  }
}

}  // namespace
}  // namespace vmfix::test

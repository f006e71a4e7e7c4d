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

// A listener bound to one adapter (LanAdapter 3, an adapter EC2 will not have) listens on all of
// them afterwards; its port is left as it is (the windows-rdp-port rule reports it).
TEST_F(Rdp, AListenerBoundToOneAdapterListensOnAll) {
  const std::string listener = "ControlSet001\\Control\\Terminal Server\\WinStations\\RDP-Tcp";
  edit_hive("SYSTEM", "[HKEY_LOCAL_MACHINE\\SYSTEM\\" + listener +
                          "]\n\"LanAdapter\"=dword:00000003\n\"PortNumber\"=dword:00000d3e\n");
  auto fixer = fixer_named("rdp");
  bool reported = false;
  for (const std::string& evidence : failing(*fixer))
    reported = reported || evidence.find("LanAdapter is dword:3") != std::string::npos;
  EXPECT_TRUE(reported);
  expect_fixed_once(*fixer);
  EXPECT_EQ(registry::as_dword(value("SYSTEM", listener, "LanAdapter")), 0u);
  EXPECT_EQ(registry::as_dword(value("SYSTEM", listener, "PortNumber")), 3390u);
}

}  // namespace
}  // namespace vmfix::test

// network-dhcp on the Windows fixture's static NIC: DHCP, its address, gateway and DNS gone.
#include "registry/values.h"
#include "tests/unit/fixture_guest.h"
#include "tests/unit/windows_guest.h"

namespace vmfix::test {
namespace {

using NetworkDhcpWindows = WindowsGuest;

TEST_F(NetworkDhcpWindows, TheStaticInterfaceTakesDhcp) {
  const std::string nic = "\\Services\\Tcpip\\Parameters\\Interfaces\\{4F1E8A2C-6B3D-4C5E-9A7F-0D2E1B3C4A5F}";
  EXPECT_EQ(registry::as_dword(value("SYSTEM", "ControlSet001" + nic, "EnableDHCP")), 0u) << "before: static";
  EXPECT_NE(value("SYSTEM", "ControlSet001" + nic, "IPAddress").type, registry::kRegNone) << "before";
  auto fixer = fixer_named("network-dhcp");
  expect_fixed_once(*fixer);
  for (const char* set : {"ControlSet001", "ControlSet002"}) {
    EXPECT_EQ(registry::as_dword(value("SYSTEM", set + nic, "EnableDHCP")), 1u);
    EXPECT_EQ(value("SYSTEM", set + nic, "IPAddress").type, registry::kRegNone);
    EXPECT_EQ(value("SYSTEM", set + nic, "DefaultGateway").type, registry::kRegNone);
    EXPECT_EQ(registry::as_string(value("SYSTEM", set + nic, "NameServer")), "");
  }
}

}  // namespace
}  // namespace vmfix::test

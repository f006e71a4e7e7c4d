// vmware-tools on the Windows fixture: VMware's services off in both control sets, the drivers EC2
// and Windows need untouched, the MSI uninstall scheduled.
#include "registry/values.h"
#include "tests/unit/fixture_guest.h"
#include "tests/unit/windows_guest.h"

namespace vmfix::test {
namespace {

using VmwareToolsWindows = WindowsGuest;
constexpr const char* kVmware[] = {"VMTools", "VGAuthService", "vmci", "vmxnet3ndis6", "VMMemCtl", "vm3dmp", "vmhgfs"};

TEST_F(VmwareToolsWindows, VmwareServicesOffOthersUntouched) {
  for (const char* service : kVmware)
    EXPECT_NE(registry::as_dword(value("SYSTEM", std::string("ControlSet001\\Services\\") + service, "Start")), 4u)
        << service << " before";
  const std::string stornvme = value("SYSTEM", "ControlSet001\\Services\\stornvme", "Start").data;
  auto fixer = fixer_named("vmware-tools");
  expect_fixed_once(*fixer);
  for (const char* set : {"ControlSet001", "ControlSet002"}) {
    const std::string services = std::string(set) + "\\Services\\";
    for (const char* service : kVmware)
      EXPECT_EQ(registry::as_dword(value("SYSTEM", services + service, "Start")), 4u) << set << " " << service;
    EXPECT_EQ(registry::as_dword(value("SYSTEM", services + "stornvme", "Start")), 3u);
    EXPECT_EQ(registry::as_dword(value("SYSTEM", services + "vmbus", "Start")), 0u);
    EXPECT_EQ(registry::as_dword(value("SYSTEM", services + "disk", "Start")), 0u);
  }
  EXPECT_EQ(value("SYSTEM", "ControlSet001\\Services\\stornvme", "Start").data, stornvme);
  EXPECT_EQ(registry::as_string(
                value("SOFTWARE", "Microsoft\\Windows\\CurrentVersion\\RunOnce", "vmfix-uninstall-vmware-tools")),
            "msiexec.exe /x {9B6F1F2A-3C4D-4E5F-8A7B-6C5D4E3F2A1B} /qn /norestart REBOOT=ReallySuppress");
}

}  // namespace
}  // namespace vmfix::test

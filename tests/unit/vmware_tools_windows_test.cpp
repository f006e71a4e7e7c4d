// vmware-tools on the Windows fixture: VMware's services off in both control sets, the drivers EC2
// and Windows need untouched, the MSI uninstall scheduled for the next boot, before logon.
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
}

constexpr const char* kRunOnce = "Microsoft\\Windows\\CurrentVersion\\RunOnce";
constexpr const char* kProduct = "{9B6F1F2A-3C4D-4E5F-8A7B-6C5D4E3F2A1B}";

// The uninstall runs at the next boot, as SYSTEM before logon (Winlogon's SYSTEM\Setup\CmdLine):
// the command resets the hook first, so it runs once, then waits for msiexec, logging to Temp.
TEST_F(VmwareToolsWindows, UninstallRunsAtBootBeforeLogonOnce) {
  EXPECT_EQ(facts_.windows.vmware_tools_msi, std::vector<std::string>{kProduct}) << "inspection found the MSI";
  auto fixer = fixer_named("vmware-tools");
  expect_fixed_once(*fixer);
  EXPECT_EQ(registry::as_dword(value("SYSTEM", "Setup", "SetupType")), 2u);
  const std::string command = registry::as_string(value("SYSTEM", "Setup", "CmdLine")).value_or("");
  const size_t reset = command.find("reg add HKLM\\SYSTEM\\Setup /v SetupType /t REG_DWORD /d 0 /f");
  const size_t cleared = command.find("reg add HKLM\\SYSTEM\\Setup /v CmdLine /t REG_SZ /f");
  const size_t uninstall = command.find(std::string("start /wait msiexec.exe /x ") + kProduct + " /qn /norestart");
  EXPECT_TRUE(command.starts_with("cmd.exe /c ")) << command;
  ASSERT_NE(uninstall, std::string::npos) << command;
  EXPECT_LT(reset, cleared) << command;
  EXPECT_LT(cleared, uninstall) << "the hook is gone before the uninstall can fail or reboot: " << command;
  EXPECT_NE(command.find("/l*v %SystemRoot%\\Temp\\vmfix-uninstall-vmware-tools.log"), std::string::npos) << command;
  EXPECT_EQ(value("SOFTWARE", kRunOnce, "vmfix-uninstall-vmware-tools").type, 0u) << "nothing waits for a logon";
}

// A sysprepped image waits for OOBE on the same hook: vmfix leaves it alone and the uninstall
// waits for the first logon instead.
TEST_F(VmwareToolsWindows, PendingSetupKeepsItsHookAndTheUninstallWaitsForALogon) {
  edit_hive("SYSTEM",
            "[HKEY_LOCAL_MACHINE\\SYSTEM\\Setup]\n\"SetupType\"=dword:00000002\n"
            "\"CmdLine\"=\"oobe\\\\windeploy.exe\"\n");
  auto fixer = fixer_named("vmware-tools");
  expect_fixed_once(*fixer);
  EXPECT_EQ(registry::as_string(value("SYSTEM", "Setup", "CmdLine")), "oobe\\windeploy.exe");
  EXPECT_EQ(registry::as_string(value("SOFTWARE", kRunOnce, "vmfix-uninstall-vmware-tools")),
            std::string("msiexec.exe /x ") + kProduct + " /qn /norestart REBOOT=ReallySuppress");
}

// An image an earlier vmfix scheduled at logon gets the boot-time schedule and loses the old one.
TEST_F(VmwareToolsWindows, AnEarlierLogonScheduleIsReplaced) {
  edit_hive("SOFTWARE", std::string("[HKEY_LOCAL_MACHINE\\SOFTWARE\\") + kRunOnce +
                            "]\n\"vmfix-uninstall-vmware-tools\"=\"msiexec.exe /x " + kProduct + "\"\n");
  auto fixer = fixer_named("vmware-tools");
  expect_fixed_once(*fixer);
  EXPECT_EQ(value("SOFTWARE", kRunOnce, "vmfix-uninstall-vmware-tools").type, 0u);
  EXPECT_EQ(registry::as_dword(value("SYSTEM", "Setup", "SetupType")), 2u);
}

}  // namespace
}  // namespace vmfix::test

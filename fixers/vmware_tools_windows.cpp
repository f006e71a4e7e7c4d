// vmware-tools (Windows side): off VMware, VMware's services fail or spin at boot. Disabling them
// offline in every control set is the reliable part; the MSI uninstaller is then scheduled for the
// next boot, before logon (see boot_command). Drivers EC2 needs are never touched.
#include <fmt/core.h>

#include <array>

#include "fixers/hive_fixer.h"
#include "fixers/table.h"
#include "inspect/windows.h"
#include "registry/guest_hive.h"
#include "support/text.h"

namespace vmfix::fixers {

namespace {

constexpr const char* kRunOnce = "Microsoft\\Windows\\CurrentVersion\\RunOnce";
constexpr const char* kRunOnceValue = "vmfix-uninstall-vmware-tools";

// Belt and braces: whatever a name or path looks like, these stay as they are.
bool protected_service(std::string_view name) {
  static constexpr std::array<std::string_view, 6> kKeep{"stornvme", "storport", "disk", "vmbus", "storvsc", "netvsc"};
  for (std::string_view keep : kKeep)
    if (equals_icase(name, keep)) return true;
  return starts_with_icase(name, "vmic");  // Hyper-V integration services
}

std::vector<RegistryEdit> plan_services(registry::Hive& system, const inspect::Facts&) {
  std::vector<RegistryEdit> edits;
  for (const std::string& set : registry::selected_control_sets(system)) {
    const std::string services_key = set + "\\Services";
    auto services = system.find(services_key);
    if (!services) continue;
    for (registry::Node node : system.subkeys(*services)) {
      const std::string name = system.name(node);
      auto image = system.value(node, "ImagePath");
      std::string image_path = image ? registry::as_string(*image).value_or("") : "";
      if (protected_service(name) || !inspect::is_vmware_service(name, image_path)) continue;
      auto start = system.value(node, "Start");
      if (start && registry::as_dword(*start) == 4u) continue;
      plan_value(system, services_key + "\\" + name, registry::make_dword("Start", 4), edits);
    }
  }
  return edits;
}

// The uninstall runs once, at the next boot, as SYSTEM and before anyone logs on: Winlogon runs
// SYSTEM\Setup\CmdLine when SetupType is 2 and shows the logon screen after it (the hook
// Windows setup itself uses for its last script). RunOnce would wait for a logon that an EC2
// server may never see; a scheduled task needs the Task Scheduler's own binary records, a
// service needs a binary that speaks to the service manager (cmd.exe does not, and is killed
// after 30 s), and a startup script needs the local Group Policy's version bookkeeping, which
// domain policy overrides. The command first puts SetupType and CmdLine back (so it runs once,
// whatever msiexec does), then waits for each uninstall, logging under %SystemRoot%\Temp.
constexpr const char* kMarker = "vmfix-uninstall-vmware-tools";

std::string boot_command(const std::vector<std::string>& products) {
  std::string command =
      "cmd.exe /c reg add HKLM\\SYSTEM\\Setup /v SetupType /t REG_DWORD /d 0 /f"
      " & reg add HKLM\\SYSTEM\\Setup /v CmdLine /t REG_SZ /f";
  for (size_t i = 0; i < products.size(); ++i)
    command += fmt::format(
        " & start /wait msiexec.exe /x {} /qn /norestart REBOOT=ReallySuppress /l*v %SystemRoot%\\Temp\\{}{}.log",
        products[i], kMarker, i == 0 ? "" : fmt::format("-{}", i + 1));
  return command;
}

// Winlogon's hook is free: no setup is pending (a sysprepped image waits for OOBE there) and
// CmdLine holds nothing to keep, or it already holds this schedule.
bool boot_hook_free(const inspect::WindowsFacts& windows) {
  if (windows.setup_command.find(kMarker) != std::string::npos) return true;
  return windows.setup_type == 0 && trim(windows.setup_command).empty();
}

std::vector<RegistryEdit> plan_boot_uninstall(registry::Hive& system, const inspect::Facts& facts) {
  std::vector<RegistryEdit> edits = plan_services(system, facts);
  const auto& products = facts.windows.vmware_tools_msi;
  if (products.empty() || !boot_hook_free(facts.windows)) return edits;
  plan_value(system, "Setup", registry::make_dword("SetupType", 2), edits);
  plan_value(system, "Setup", registry::make_string("CmdLine", boot_command(products), registry::kRegSz), edits);
  return edits;
}

// With Winlogon's hook taken (setup pending), the uninstall waits for the first logon (RunOnce,
// which Windows deletes before running it); else a RunOnce entry of an earlier vmfix goes.
std::vector<RegistryEdit> plan_logon_uninstall(registry::Hive& software, const inspect::Facts& facts) {
  std::vector<RegistryEdit> edits;
  const auto& products = facts.windows.vmware_tools_msi;
  if (products.empty() || boot_hook_free(facts.windows)) {
    plan_delete(software, kRunOnce, kRunOnceValue, edits);
    return edits;
  }
  plan_value(software, kRunOnce,
             registry::make_string(
                 kRunOnceValue, fmt::format("msiexec.exe /x {} /qn /norestart REBOOT=ReallySuppress", products.front()),
                 registry::kRegSz),
             edits);
  return edits;
}

// The README's fixer table (scripts/fixer-table.sh).
constexpr const char* kChecks =
    "VMware services and drivers (VMTools, VGAuthService, vmci, vmhgfs, VMMemCtl, vmmouse, vm3dmp, "
    "vmxnet3ndis6, vsepflt, ...: by name or by an image path under `\\VMware\\`), the VMware Tools "
    "Uninstall entry";
constexpr const char* kChanges =
    "`Start` 4 (disabled) in every selected control set; never stornvme, storport, disk, the Hyper-V "
    "vmbus/storvsc/netvsc/vmic* services or anything not VMware's; schedules `msiexec.exe /x "
    "{PRODUCT} /qn /norestart` for the next boot, as SYSTEM before logon (`SYSTEM\\Setup\\CmdLine`, "
    "`SetupType` 2), which first resets both values so it runs once, logging to "
    "`%SystemRoot%\\Temp\\vmfix-uninstall-vmware-tools.log`; when Windows setup is pending there, "
    "at the first logon instead (`RunOnce`)";

}  // namespace

std::unique_ptr<Fixer> make_vmware_tools_windows() {
  return make_hive_fixer(
      {"vmware-tools",
       "Windows: disable VMware's services and drivers in every control set, uninstall at the next boot",
       "vmware-tools",
       "VMware Tools services are disabled and the uninstaller is scheduled",
       {{WindowsHive::system, plan_boot_uninstall}, {WindowsHive::software, plan_logon_uninstall}}},
      kChecks, kChanges);
}

}  // namespace vmfix::fixers

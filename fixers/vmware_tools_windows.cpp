// vmware-tools (Windows side): off VMware, VMware's services fail or spin at boot. Disabling them
// offline in every control set is the reliable part; the MSI uninstaller is then scheduled for the
// first logon through RunOnce, which Windows deletes before running (a failed or rebooting
// uninstall cannot loop). Drivers EC2 needs are never touched.
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

std::vector<RegistryEdit> plan_services(registry::Hive& system) {
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

// "MsiExec.exe /I{GUID}" or "/X{GUID}" -> "{GUID}"; "" when the entry is not an MSI product.
std::string msi_product_code(const std::string& uninstall) {
  if (!starts_with_icase(uninstall, "msiexec")) return "";
  size_t open = uninstall.find('{'), close = uninstall.find('}');
  if (open == std::string::npos || close == std::string::npos || close < open || close - open != 37) return "";
  return uninstall.substr(open, close - open + 1);
}

std::vector<RegistryEdit> plan_uninstall(registry::Hive& software) {
  std::vector<RegistryEdit> edits;
  std::vector<std::string> commands;
  for (const char* uninstall : {"Microsoft\\Windows\\CurrentVersion\\Uninstall",
                                "Wow6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall"}) {
    auto list = software.find(uninstall);
    if (!list) continue;
    for (registry::Node node : software.subkeys(*list)) {
      auto display = software.value(node, "DisplayName");
      if (!display || to_lower(registry::as_string(*display).value_or("")).find("vmware tools") == std::string::npos)
        continue;
      auto command = software.value(node, "UninstallString");
      std::string code = msi_product_code(command ? registry::as_string(*command).value_or("") : "");
      if (!code.empty())
        commands.push_back(fmt::format("msiexec.exe /x {} /qn /norestart REBOOT=ReallySuppress", code));
    }
  }
  if (commands.empty()) return edits;
  // Already uninstalled once by this schedule? RunOnce is gone then, and so is the Uninstall entry.
  plan_value(software, kRunOnce, registry::make_string(kRunOnceValue, commands.front(), registry::kRegSz), edits);
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
    "{PRODUCT} /qn /norestart` in `RunOnce`, which Windows deletes before running it, so a failing "
    "or rebooting uninstall cannot loop";

}  // namespace

std::unique_ptr<Fixer> make_vmware_tools_windows() {
  return make_hive_fixer(
      {"vmware-tools",
       "Windows: disable VMware's services and drivers in every control set, uninstall at first logon",
       "vmware-tools",
       "VMware Tools services are disabled and the uninstaller is scheduled",
       {{WindowsHive::system, plan_services}, {WindowsHive::software, plan_uninstall}}},
      kChecks, kChanges);
}

}  // namespace vmfix::fixers

#include "inspect/windows.h"

#include <fmt/core.h>

#include <array>

#include "support/text.h"

namespace vmfix::inspect {

using registry::as_dword;
using registry::as_multi_string;
using registry::as_string;

std::string resolve_current_control_set(registry::Hive& system) {
  auto select = system.find("Select");
  if (!select) throw registry::HiveError(fmt::format("{}: no Select key; not a SYSTEM hive", system.path().string()));
  auto current = system.value(*select, "Current");
  auto number = current ? as_dword(*current) : std::nullopt;
  if (!number || *number == 0 || *number > 999)
    throw registry::HiveError(fmt::format("{}: Select\\Current is missing or invalid", system.path().string()));
  return fmt::format("ControlSet{:03}", *number);
}

std::vector<NetworkConfig> read_windows_interfaces(registry::Hive& system, const std::string& control_set) {
  std::vector<NetworkConfig> configs;
  const std::string key = control_set + "\\Services\\Tcpip\\Parameters\\Interfaces";
  auto interfaces = system.find(key);
  if (!interfaces) return configs;
  for (registry::Node node : system.subkeys(*interfaces)) {
    std::string guid = system.name(node);
    auto enable_dhcp = system.value(node, "EnableDHCP");
    auto ip_address = system.value(node, "IPAddress");
    if (!enable_dhcp && !ip_address) continue;
    NetworkConfig config{"windows-tcpip", key + "\\" + guid, guid, "unknown", {}, ""};
    if (ip_address) {
      std::vector<std::string> addresses = as_multi_string(*ip_address);
      if (auto single = as_string(*ip_address)) addresses = {*single};  // some tools write REG_SZ
      for (const std::string& address : addresses)
        if (!address.empty() && address != "0.0.0.0") config.addresses.push_back(address);
    }
    auto dhcp = enable_dhcp ? as_dword(*enable_dhcp) : std::nullopt;
    if (dhcp) config.method = *dhcp ? "dhcp" : (config.addresses.empty() ? "manual" : "static");
    configs.push_back(std::move(config));
  }
  return configs;
}

bool is_vmware_service(std::string_view name, std::string_view image_path) {
  static constexpr std::array<std::string_view, 24> kNames{
      "VMTools", "VGAuthService", "vmvss", "vmci", "vsock", "vmhgfs", "VMMemCtl", "vmmouse", "VMUsbMouse",
      "vmrawdsk", "vm3dmp", "vm3dmp_loader", "vm3dmp-debug", "vm3dmp-stats", "vm3dservice", "vmxnet3ndis6",
      "vmxnet", "vmxnet3", "vsepflt", "vnetWFP", "vmusb", "VMwareCAF", "vmStatsProvider", "vmhgfs-fuse"};
  for (std::string_view known : kNames)
    if (equals_icase(known, name)) return true;
  std::string path = to_lower(image_path);
  return path.find("\\vmware\\") != std::string::npos || path.find("\\vmware tools\\") != std::string::npos;
}

std::vector<HypervisorTool> read_windows_vmware(registry::Hive& system, const std::string& control_set,
                                                registry::Hive* software) {
  std::vector<HypervisorTool> tools;
  const std::string services_key = control_set + "\\Services";
  if (auto services = system.find(services_key)) {
    for (registry::Node node : system.subkeys(*services)) {
      std::string name = system.name(node);
      auto image = system.value(node, "ImagePath");
      std::string image_path = image ? as_string(*image).value_or("") : "";
      if (is_vmware_service(name, image_path))
        tools.push_back({"vmware-tools", "windows-service", services_key + "\\" + name});
    }
  }
  if (software) {
    for (const char* uninstall : {"Microsoft\\Windows\\CurrentVersion\\Uninstall",
                                  "Wow6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall"}) {
      auto list = software->find(uninstall);
      if (!list) continue;
      for (registry::Node node : software->subkeys(*list)) {
        auto display = software->value(node, "DisplayName");
        std::string display_name = display ? as_string(*display).value_or("") : "";
        if (to_lower(display_name).find("vmware tools") != std::string::npos)
          tools.push_back({"vmware-tools", "windows-program",
                           fmt::format("{}\\{} ({})", uninstall, software->name(node), display_name)});
      }
    }
  }
  return tools;
}

}  // namespace vmfix::inspect

#include "inspect/windows.h"

#include <fmt/core.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>

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
      "VMTools",      "VGAuthService", "vmvss",       "vmci",         "vsock",           "vmhgfs",
      "VMMemCtl",     "vmmouse",       "VMUsbMouse",  "vmrawdsk",     "vm3dmp",          "vm3dmp_loader",
      "vm3dmp-debug", "vm3dmp-stats",  "vm3dservice", "vmxnet3ndis6", "vmxnet",          "vmxnet3",
      "vsepflt",      "vnetWFP",       "vmusb",       "VMwareCAF",    "vmStatsProvider", "vmhgfs-fuse"};
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

namespace {

std::string string_value(registry::Hive& hive, registry::Node node, std::string_view name) {
  auto value = hive.value(node, name);
  return value ? as_string(*value).value_or("") : "";
}

std::optional<uint32_t> dword_value(registry::Hive& hive, registry::Node node, std::string_view name) {
  auto value = hive.value(node, name);
  return value ? as_dword(*value) : std::nullopt;
}

// NDP\v2.0.50727, v3.0, v3.5 carry Install and SP; v4\Full carries Release (4.5 and later).
std::vector<std::string> read_dotnet(registry::Hive& software) {
  std::vector<std::string> versions;
  auto ndp = software.find("Microsoft\\NET Framework Setup\\NDP");
  if (!ndp) return versions;
  for (registry::Node node : software.subkeys(*ndp)) {
    std::string name = software.name(node);
    if (name.empty() || name[0] != 'v') continue;
    if (name == "v4") {
      for (const char* profile : {"Full", "Client"}) {
        auto key = software.find("Microsoft\\NET Framework Setup\\NDP\\v4\\" + std::string(profile));
        if (!key || dword_value(software, *key, "Install") != 1u) continue;
        auto release = dword_value(software, *key, "Release");
        versions.push_back(release ? fmt::format("v4 {} release {}", profile, *release)
                                   : fmt::format("v4 {}", profile));
      }
      continue;
    }
    if (dword_value(software, node, "Install") != 1u) continue;
    auto sp = dword_value(software, node, "SP");
    versions.push_back(sp && *sp > 0 ? fmt::format("{} SP{}", name, *sp) : name);
  }
  return versions;
}

}  // namespace

WindowsVersion read_windows_version(registry::Hive& system, const std::string& control_set, registry::Hive* software) {
  WindowsVersion version;
  if (auto tcpip = system.find(control_set + "\\Services\\Tcpip\\Parameters"))
    version.hostname = string_value(system, *tcpip, "Hostname");
  if (auto name = system.find(control_set + "\\Control\\ComputerName\\ComputerName"); name && version.hostname.empty())
    version.hostname = string_value(system, *name, "ComputerName");
  if (auto environment = system.find(control_set + "\\Control\\Session Manager\\Environment")) {
    const std::string machine = to_lower(string_value(system, *environment, "PROCESSOR_ARCHITECTURE"));
    version.arch = machine == "amd64"   ? "x86_64"
                   : machine == "x86"   ? "i386"
                   : machine == "arm64" ? "aarch64"
                   : machine == "arm"   ? "arm"
                                        : "";
  }
  if (!software) return version;
  auto current = software->find("Microsoft\\Windows NT\\CurrentVersion");
  if (!current) return version;
  version.product_name = string_value(*software, *current, "ProductName");
  version.product_variant = string_value(*software, *current, "InstallationType");
  auto major = dword_value(*software, *current, "CurrentMajorVersionNumber");
  auto minor = dword_value(*software, *current, "CurrentMinorVersionNumber");
  if (major) {  // Windows 10 and later; CurrentVersion stays "6.3" there
    version.major = static_cast<int>(*major);
    version.minor = static_cast<int>(minor.value_or(0));
  } else if (int a = 0, b = 0;
             std::sscanf(string_value(*software, *current, "CurrentVersion").c_str(), "%d.%d", &a, &b) == 2) {
    version.major = a;
    version.minor = b;
  }
  std::string build = string_value(*software, *current, "CurrentBuildNumber");
  if (build.empty()) build = string_value(*software, *current, "CurrentBuild");
  if (version.major == 10 && std::atoi(build.c_str()) >= 22000 && version.product_name.starts_with("Windows 10"))
    version.product_name.replace(0, 10, "Windows 11");
  return version;
}

std::string pe_architecture(std::string_view header) {
  auto u16 = [&](size_t at) {
    return static_cast<uint32_t>(static_cast<uint8_t>(header[at]) | static_cast<uint8_t>(header[at + 1]) << 8);
  };
  if (header.size() < 0x40 || header.substr(0, 2) != "MZ") return "";
  const size_t pe = u16(0x3c) | u16(0x3e) << 16;  // e_lfanew
  if (pe > header.size() || header.size() - pe < 6 || header.substr(pe, 4) != std::string_view("PE\0\0", 4)) return "";
  switch (u16(pe + 4)) {
    case 0x8664:
      return "x86_64";
    case 0x014c:
      return "i386";
    case 0xaa64:
      return "aarch64";
    case 0x01c4:
      return "arm";
    default:
      return "";
  }
}

namespace {

// "MsiExec.exe /I{GUID}" or "/X{GUID}" -> "{GUID}"; "" when the entry is not an MSI product.
std::string msi_product_code(const std::string& uninstall) {
  if (!starts_with_icase(uninstall, "msiexec")) return "";
  const size_t open = uninstall.find('{'), close = uninstall.find('}');
  if (open == std::string::npos || close == std::string::npos || close < open || close - open != 37) return "";
  return uninstall.substr(open, close - open + 1);
}

std::vector<std::string> read_vmware_tools_msi(registry::Hive& software) {
  std::vector<std::string> codes;
  for (const char* uninstall : {"Microsoft\\Windows\\CurrentVersion\\Uninstall",
                                "Wow6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall"}) {
    auto list = software.find(uninstall);
    if (!list) continue;
    for (registry::Node node : software.subkeys(*list)) {
      if (to_lower(string_value(software, node, "DisplayName")).find("vmware tools") == std::string::npos) continue;
      const std::string code = msi_product_code(string_value(software, node, "UninstallString"));
      if (!code.empty() && std::find(codes.begin(), codes.end(), code) == codes.end()) codes.push_back(code);
    }
  }
  return codes;
}

// Each profile's EnableFirewall and DoNotAllowExceptions; Group Policy's value wins where it sets one.
std::vector<FirewallProfile> read_firewall(registry::Hive& system, const std::string& control_set,
                                           registry::Hive* software) {
  const std::string local = control_set + "\\Services\\SharedAccess\\Parameters\\FirewallPolicy\\";
  struct Names {
    const char* shown;
    const char* local;
    const char* policy;
  };
  std::vector<FirewallProfile> profiles;
  for (const Names& names :
       {Names{"Domain", "DomainProfile", "DomainProfile"}, Names{"Private", "StandardProfile", "PrivateProfile"},
        Names{"Public", "PublicProfile", "PublicProfile"}}) {
    FirewallProfile profile{names.shown, true, false, ""};
    auto setting = [&](const char* value) -> std::optional<std::pair<uint32_t, std::string>> {
      const std::string policy = std::string("Policies\\Microsoft\\WindowsFirewall\\") + names.policy;
      if (software)
        if (auto node = software->find(policy))
          if (auto number = dword_value(*software, *node, value))
            return std::pair{*number, fmt::format("HKLM\\SOFTWARE\\{}\\{}={}", policy, value, *number)};
      if (auto node = system.find(local + names.local))
        if (auto number = dword_value(system, *node, value))
          return std::pair{*number, fmt::format("{}{}\\{}={}", local, names.local, value, *number)};
      return std::nullopt;
    };
    std::vector<std::string> said;
    if (auto enabled = setting("EnableFirewall")) {
      profile.enabled = enabled->first != 0;
      said.push_back(enabled->second);
    }
    if (auto exceptions = setting("DoNotAllowExceptions")) {
      profile.blocks_every_rule = profile.enabled && exceptions->first == 1;
      said.push_back(exceptions->second);
    }
    profile.evidence = fmt::format("{}: {}", names.shown,
                                   said.empty() ? "Windows defaults" : fmt::format("{}", fmt::join(said, ", ")));
    profiles.push_back(std::move(profile));
  }
  return profiles;
}

// The services that show the Hyper-V role and the EC2 agents.
void read_role_services(const std::vector<WindowsService>& services, WindowsFacts& windows) {
  for (const WindowsService& service : services) {
    if (equals_icase(service.name, "vmms"))
      windows.hyper_v.push_back("the Hyper-V Virtual Machine Management service (vmms) is installed");
    for (const char* agent : {"EC2Config", "Amazon EC2Launch", "AmazonSSMAgent"})
      if (equals_icase(service.name, agent)) windows.ec2_agents.push_back(service.name);
  }
}

uint64_t element_integer(const registry::Value& value) {
  uint64_t number = 0;
  for (size_t i = 0; i < std::min<size_t>(value.data.size(), 8); ++i)
    number |= static_cast<uint64_t>(static_cast<unsigned char>(value.data[i])) << (8 * i);
  return number;
}

}  // namespace

BootMenu read_boot_menu(registry::Hive& bcd) {
  constexpr const char* kBootManager = "{9dea862c-5cdd-4e70-acc1-f32b344d4795}";
  auto element = [&](const std::string& object, const char* type) -> std::optional<registry::Value> {
    auto node = bcd.find("Objects\\" + object + "\\Elements\\" + type);
    return node ? bcd.value(*node, "Element") : std::nullopt;
  };
  BootMenu menu;
  if (auto order = element(kBootManager, "24000001")) menu.entries = registry::as_multi_string(*order);
  if (auto timeout = element(kBootManager, "25000004")) menu.timeout = element_integer(*timeout);
  if (auto entry = element(kBootManager, "23000003")) menu.default_entry = registry::as_string(*entry).value_or("");
  if (!menu.default_entry.empty())
    if (auto launch = element(menu.default_entry, "250000f0")) menu.hypervisor_launch = element_integer(*launch);
  if (!bcd.find(std::string("Objects\\") + kBootManager)) menu.error = "no {bootmgr} object: not a BCD store";
  return menu;
}

WindowsFacts read_windows_facts(registry::Hive& system, const std::string& control_set, registry::Hive* software) {
  WindowsFacts windows;
  if (auto setup = system.find("Setup")) {
    windows.setup_type = dword_value(system, *setup, "SetupType").value_or(0);
    windows.setup_command = string_value(system, *setup, "CmdLine");
  }
  if (auto language = system.find(control_set + "\\Control\\Nls\\Language"))
    windows.install_language = string_value(system, *language, "InstallLanguage");
  if (auto power = system.find(control_set + "\\Control\\Session Manager\\Power"))
    windows.fast_startup = dword_value(system, *power, "HiberbootEnabled") == 1u;
  if (auto session = system.find(control_set + "\\Control\\Session Manager")) {
    auto renames = system.value(*session, "PendingFileRenameOperations");
    if (renames && !registry::as_multi_string(*renames).empty())
      windows.pending_reboot.push_back(control_set + "\\Control\\Session Manager\\PendingFileRenameOperations");
  }
  if (auto services = system.find(control_set + "\\Services")) {
    for (registry::Node node : system.subkeys(*services)) {
      auto start = dword_value(system, node, "Start");
      if (!start) continue;
      windows.services.push_back({system.name(node), *start, string_value(system, node, "ImagePath")});
    }
  }
  read_role_services(windows.services, windows);
  if (auto listener = system.find(control_set + "\\Control\\Terminal Server\\WinStations\\RDP-Tcp"))
    windows.rdp_port = dword_value(system, *listener, "PortNumber");
  windows.firewall_profiles = read_firewall(system, control_set, software);
  if (!software) return windows;
  if (auto version = software->find("Microsoft\\Windows NT\\CurrentVersion")) {
    windows.edition_id = string_value(*software, *version, "EditionID");
    windows.installation_type = string_value(*software, *version, "InstallationType");
    windows.current_build = string_value(*software, *version, "CurrentBuildNumber");
    if (windows.current_build.empty()) windows.current_build = string_value(*software, *version, "CurrentBuild");
  }
  windows.dotnet = read_dotnet(*software);
  windows.vmware_tools_msi = read_vmware_tools_msi(*software);
  for (const char* key : {"Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\RebootPending",
                          "Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\PackagesPending",
                          "Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Auto Update\\RebootRequired",
                          "Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Services\\Pending"})
    if (software->find(key)) windows.pending_reboot.push_back(std::string("HKLM\\SOFTWARE\\") + key);
  // AUOptions 4: download and install on a schedule, restarting as needed (policy first: it wins).
  for (const char* key : {"Policies\\Microsoft\\Windows\\WindowsUpdate\\AU",
                          "Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Auto Update"}) {
    auto node = software->find(key);
    if (!node) continue;
    if (dword_value(*software, *node, "NoAutoUpdate") == 1u) break;
    if (auto options = dword_value(*software, *node, "AUOptions")) {
      if (*options == 4u) windows.automatic_install = fmt::format("HKLM\\SOFTWARE\\{}\\AUOptions=4", key);
      break;
    }
  }
  return windows;
}

}  // namespace vmfix::inspect

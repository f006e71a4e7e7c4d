#pragma once
// Facts read from a Windows guest's SYSTEM and SOFTWARE hives (on the host, through hivex).
#include <string>
#include <string_view>
#include <vector>

#include "inspect/facts.h"
#include "registry/hive.h"

namespace vmfix::inspect {

// "ControlSet001" from SYSTEM\Select\Current. CurrentControlSet exists only on a running system.
std::string resolve_current_control_set(registry::Hive& system);

// TCP/IP interfaces of the control set: those with an EnableDHCP or IPAddress value.
std::vector<NetworkConfig> read_windows_interfaces(registry::Hive& system, const std::string& control_set);

// VMware services and drivers in the control set, and VMware Tools in the Uninstall list.
std::vector<HypervisorTool> read_windows_vmware(registry::Hive& system, const std::string& control_set,
                                                registry::Hive* software);

// Edition, language, .NET, pending reboot, Fast Startup and the services of the control set.
WindowsFacts read_windows_facts(registry::Hive& system, const std::string& control_set, registry::Hive* software);

// Product, version and host name as libguestfs's inspection names them: ProductName and the
// version under SOFTWARE\Microsoft\Windows NT\CurrentVersion, InstallationType as the variant,
// the control set's TCP/IP host name. Windows 11 still calls itself "Windows 10" in ProductName;
// its build number (22000 and later) tells.
struct WindowsVersion {
  std::string product_name;
  std::string product_variant;
  int major = 0;
  int minor = 0;
  std::string hostname;
  std::string arch;  // from the control set's PROCESSOR_ARCHITECTURE, "" if absent
};
WindowsVersion read_windows_version(registry::Hive& system, const std::string& control_set, registry::Hive* software);

// The machine a PE executable (cmd.exe) is built for, as libguestfs names it: "x86_64", "i386",
// "aarch64", "arm"; "" when `header` (the file's first bytes) is not a PE image.
std::string pe_architecture(std::string_view header);

// The boot menu a BCD store describes: the boot manager's entries, timeout and default, and the
// default entry's hypervisor launch type. `store` and `location` are left to the caller.
BootMenu read_boot_menu(registry::Hive& bcd);

// True for the service names VMware Tools installs (VMTools, vmci, vmxnet3ndis6, vm3dmp...).
bool is_vmware_service(std::string_view name, std::string_view image_path);

}  // namespace vmfix::inspect

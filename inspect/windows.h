#pragma once
// Facts read from a Windows guest's SYSTEM and SOFTWARE hives (on the host, through hivex).
#include <string>
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

// True for the service names VMware Tools installs (VMTools, vmci, vmxnet3ndis6, vm3dmp...).
bool is_vmware_service(std::string_view name, std::string_view image_path);

}  // namespace vmfix::inspect

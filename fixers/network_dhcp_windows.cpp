// network-dhcp (Windows side): EC2 hands out the address by DHCP; a static address from the old
// network leaves the instance unreachable.
#include "fixers/hive_fixer.h"
#include "fixers/table.h"
#include "registry/guest_hive.h"

namespace vmfix::fixers {

namespace {

std::vector<RegistryEdit> plan(registry::Hive& system, const inspect::Facts&) {
  std::vector<RegistryEdit> edits;
  for (const std::string& set : registry::selected_control_sets(system)) {
    const std::string interfaces = set + "\\Services\\Tcpip\\Parameters\\Interfaces";
    auto parent = system.find(interfaces);
    if (!parent) continue;
    for (const std::string& name : system.subkey_names(*parent)) {
      const std::string key = interfaces + "\\" + name;
      auto node = system.find(key);
      auto dhcp = system.value(*node, "EnableDHCP");
      if (!dhcp || registry::as_dword(*dhcp) != 0u) continue;  // already DHCP, or not an IP interface
      plan_value(system, key, registry::make_dword("EnableDHCP", 1), edits);
      for (const char* stale : {"IPAddress", "SubnetMask", "DefaultGateway", "DefaultGatewayMetric"})
        plan_delete(system, key, stale, edits);
      auto servers = system.value(*node, "NameServer");
      if (servers && registry::as_string(*servers).value_or("") != "")
        plan_value(system, key, registry::make_string("NameServer", ""), edits);
    }
  }
  return edits;
}

// The README's fixer table (scripts/fixer-table.sh).
constexpr const char* kChecks = "`Tcpip\\Parameters\\Interfaces\\{...}\\EnableDHCP`";
constexpr const char* kChanges =
    "every interface with `EnableDHCP=0` gets `EnableDHCP=1`; its `IPAddress`, `SubnetMask`, "
    "`DefaultGateway`, `DefaultGatewayMetric` are deleted and `NameServer` emptied, in every "
    "selected control set";

}  // namespace

std::unique_ptr<Fixer> make_network_dhcp_windows() {
  return make_hive_fixer({"network-dhcp",
                          "Windows: static TCP/IP interfaces switch to DHCP",
                          "network-dhcp",
                          "every network interface gets its address by DHCP",
                          {{WindowsHive::system, plan}}},
                         kChecks, kChanges);
}

}  // namespace vmfix::fixers

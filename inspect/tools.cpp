#include "inspect/tools.h"

#include <algorithm>

#include "support/text.h"

namespace vmfix::inspect {

std::vector<HypervisorTool> detect_linux_tools(guest::Guest& guest, const std::vector<std::string>& packages) {
  std::vector<HypervisorTool> tools;
  for (const std::string& package : packages) {
    std::string name = to_lower(package);
    if (name.starts_with("open-vm-tools"))
      tools.push_back({"open-vm-tools", "package", package});
    else if (name.starts_with("vmware-tools") || name.starts_with("kmod-vmware-tools") || name == "vmwaretools")
      tools.push_back({"vmware-tools", "package", package});
    else if (name.starts_with("virtualbox-guest") || name.starts_with("virtualbox-ose-guest"))
      tools.push_back({"virtualbox-guest-additions", "package", package});
  }
  // The tarball installer leaves its own database and uninstaller behind.
  for (const char* evidence : {"/etc/vmware-tools/locations", "/usr/bin/vmware-uninstall-tools.pl",
                               "/usr/lib/vmware-tools", "/etc/init.d/vmware-tools"}) {
    if (guest.exists(evidence)) {
      tools.push_back({"vmware-tools", "tarball", evidence});
      break;
    }
  }
  // Without a readable package database, open-vm-tools still shows by its daemon.
  const bool have_vmware = std::any_of(tools.begin(), tools.end(), [](const HypervisorTool& tool) {
    return tool.name == "vmware-tools" || tool.name == "open-vm-tools";
  });
  if (!have_vmware && guest.exists("/usr/bin/vmtoolsd"))
    tools.push_back({"open-vm-tools", "files", "/usr/bin/vmtoolsd"});
  if (guest.is_dir("/opt")) {
    for (const std::string& name : guest.ls("/opt"))
      if (name.starts_with("VBoxGuestAdditions-"))
        tools.push_back({"virtualbox-guest-additions", "tarball", "/opt/" + name});
  }
  return tools;
}

}  // namespace vmfix::inspect

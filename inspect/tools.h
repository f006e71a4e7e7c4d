#pragma once
// Hypervisor guest tools installed in a Linux guest: packages and tarball installs.
#include <vector>

#include "guest/guest.h"
#include "inspect/facts.h"

namespace vmfix::inspect {

std::vector<HypervisorTool> detect_linux_tools(guest::Guest& guest, const std::vector<std::string>& packages);

}  // namespace vmfix::inspect

#pragma once
// The network configurations a Linux guest has, stack by stack. Read-only; the fixers that
// change them live in fixers/.
#include <string_view>
#include <vector>

#include "guest/guest.h"
#include "inspect/facts.h"

namespace vmfix::inspect {

std::vector<NetworkConfig> detect_linux_network(guest::Guest& guest);

// Per-format readers, exposed for tests on real third-party files.
std::vector<NetworkConfig> read_ifcfg(std::string_view file, std::string_view text);
std::vector<NetworkConfig> read_ifupdown_stanzas(std::string_view file, std::string_view text);
std::vector<NetworkConfig> read_netplan(std::string_view file, std::string_view text);
std::vector<NetworkConfig> read_nm_keyfile(std::string_view file, std::string_view text);
std::vector<NetworkConfig> read_networkd(std::string_view file, std::string_view text);

}  // namespace vmfix::inspect

#pragma once
// Rewriters that turn a static network configuration into DHCP, one per Linux network stack. Each
// takes a file's text and returns the new text: only the lines that pin an address, a gateway,
// static DNS or a MAC address change; comments, order and every other setting stay as they were.
// Loopback and static IPv6 are left alone (the rules report IPv6); bond and bridge members only
// lose their MAC binding.
#include <string>
#include <string_view>
#include <vector>

namespace vmfix::fixers {

std::string dhcp_ifcfg(std::string_view text);  // RHEL/SUSE ifcfg-*
// /etc/network/interfaces and its includes. The primary NIC is brought up by a name pattern
// ("auto /e*/1=ens192", ifupdown 0.8 and later) unless `primary_by_pattern` is false.
std::string dhcp_ifupdown(std::string_view text, bool primary_by_pattern);
std::string dhcp_ifupdown(std::string_view text);          // with the pattern
std::string dhcp_ifupdown_by_name(std::string_view text);  // without it (ifupdown 0.7)
std::string dhcp_netplan(std::string_view text);           // /etc/netplan/*.yaml
// The interface blocks of a netplan file that are no YAML mapping (a key shallower than the
// block's first one, or a list item among its keys: netplan refuses the whole file), as
// "NAME (line N): why". dhcp_netplan leaves them as they are.
std::vector<std::string> netplan_malformed_interfaces(std::string_view text);
std::string dhcp_nm_keyfile(std::string_view text);  // NetworkManager *.nmconnection / keyfiles
std::string dhcp_networkd(std::string_view text);    // systemd-networkd *.network

// udev rules that pin interface names to MAC addresses (70-persistent-net.rules): the lines that
// match ATTR{address} and set NAME are dropped.
std::string without_mac_name_rules(std::string_view text);

}  // namespace vmfix::fixers

#include "inspect/network.h"

#include <fnmatch.h>

#include <algorithm>
#include <functional>
#include <set>

#include "inspect/netplan.h"
#include "support/text.h"

namespace vmfix::inspect {

using guest::join_path;

namespace {

// Calls `on_entry(section, key, value)` for each key=value of an INI-style file.
void for_each_ini_entry(std::string_view text,
                        const std::function<void(std::string_view, std::string_view, std::string_view)>& on_entry) {
  std::string section;
  for (std::string_view line : split_lines(text)) {
    line = trim(line);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      section = std::string(line.substr(1, line.size() - 2));
      continue;
    }
    size_t equals = line.find('=');
    if (equals == std::string_view::npos) continue;
    on_entry(section, trim(line.substr(0, equals)), trim(line.substr(equals + 1)));
  }
}

bool is_true(std::string_view value) {
  std::string v = to_lower(value);
  return v == "yes" || v == "true" || v == "on" || v == "1";
}

}  // namespace

std::vector<NetworkConfig> read_ifcfg(std::string_view file, std::string_view text) {
  NetworkConfig config{"ifcfg", std::string(file), "", "unknown", {}, ""};
  std::string name(file.substr(file.rfind('/') + 1));
  config.interface = name.starts_with("ifcfg-") ? name.substr(6) : name;
  std::string bootproto;
  for (const auto& [key, value] : parse_shell_assignments(text)) {
    if (key == "DEVICE" || key == "INTERFACENAME")
      config.interface = value;
    else if (key == "BOOTPROTO")
      bootproto = to_lower(value);
    else if ((key.starts_with("IPADDR") || key.starts_with("IPV6ADDR")) && !value.empty())
      config.addresses.push_back(value);
    else if ((key == "HWADDR" || key == "MACADDR" || key == "LLADDR") && !value.empty())
      config.mac_binding = value;
  }
  if (bootproto == "dhcp" || bootproto == "bootp" || bootproto == "dhcp4")
    config.method = "dhcp";
  else if (bootproto == "static" || bootproto == "none" || (bootproto.empty() && !config.addresses.empty()))
    config.method = config.addresses.empty() ? "manual" : "static";
  return {config};
}

std::vector<NetworkConfig> read_ifupdown_stanzas(std::string_view file, std::string_view text) {
  std::vector<NetworkConfig> configs;
  NetworkConfig* current = nullptr;
  for (std::string_view line : split_lines(text)) {
    line = trim(line);
    if (line.empty() || line.front() == '#') continue;
    const std::vector<std::string> words = split_words(line);
    if (words[0] == "iface" && words.size() >= 4) {
      current = nullptr;
      if (words[1] == "lo") continue;
      std::string method = words[3] == "dhcp"     ? "dhcp"
                           : words[3] == "static" ? "static"
                           : words[3] == "manual" ? "manual"
                                                  : words[3];
      configs.push_back({"ifupdown", std::string(file), words[1], method, {}, ""});
      current = &configs.back();
    } else if (words[0] == "auto" || words[0] == "allow-hotplug" || words[0] == "mapping" || words[0] == "source" ||
               words[0] == "source-directory") {
      current = nullptr;
    } else if (current && words.size() >= 2) {
      if (words[0] == "address")
        current->addresses.push_back(words[1]);
      else if (words[0] == "hwaddress")
        current->mac_binding = words.back();
    }
  }
  return configs;
}

// netplan: per interface block, its dhcp4/dhcp6 and addresses (inline or as a list) and a
// match.macaddress binding.
std::vector<NetworkConfig> read_netplan(std::string_view file, std::string_view text) {
  std::vector<std::string> lines;
  for (std::string_view line : split_lines(text)) lines.emplace_back(line);
  std::vector<NetworkConfig> configs;
  for (const netplan::Interface& block : netplan::interfaces(lines)) {
    NetworkConfig config{"netplan", std::string(file), block.name, "manual", {}, ""};
    const size_t indent = netplan::child_indent(lines, block.header, block.end);
    for (size_t k = block.header + 1; k < block.end; ++k) {
      if (netplan::indent_of(lines[k]) != indent || netplan::blank_or_comment(lines[k])) continue;
      const std::string key = netplan::key_of(lines[k]), value = unquote(netplan::value_of(lines[k]));
      if ((key == "dhcp4" || key == "dhcp6") && is_true(value)) {
        config.method = "dhcp";
      } else if (key == "match") {
        for (size_t m = k + 1, stop = netplan::subtree_end(lines, k); m < stop; ++m)
          if (netplan::key_of(lines[m]) == "macaddress") config.mac_binding = unquote(netplan::value_of(lines[m]));
      } else if (key == "addresses") {
        for (std::string& address : netplan::flow_list(netplan::value_of(lines[k])))
          config.addresses.push_back(std::move(address));
        for (size_t m = k + 1, stop = netplan::subtree_end(lines, k); m < stop; ++m)
          if (std::string item = netplan::list_item(lines[m]); !item.empty()) config.addresses.push_back(item);
      }
    }
    if (!config.addresses.empty() && config.method == "manual") config.method = "static";
    configs.push_back(std::move(config));
  }
  return configs;
}

std::vector<NetworkConfig> read_nm_keyfile(std::string_view file, std::string_view text) {
  NetworkConfig config{"networkmanager", std::string(file), "", "unknown", {}, ""};
  std::string type;
  for_each_ini_entry(text, [&](std::string_view section, std::string_view key, std::string_view value) {
    if (section == "connection" && key == "interface-name")
      config.interface = value;
    else if (section == "connection" && key == "type")
      type = value;
    else if ((section == "ethernet" || section == "802-3-ethernet") && key == "mac-address")
      config.mac_binding = value;
    else if (section == "ipv4" && key == "method")
      config.method = value == "auto" ? "dhcp" : value == "manual" ? "static" : std::string(value);
    else if (section == "ipv4" && (key.starts_with("address")))
      config.addresses.emplace_back(value.substr(0, value.find(',')));
  });
  if (type == "loopback") return {};
  if (config.interface.empty()) config.interface = std::string(file.substr(file.rfind('/') + 1));
  return {config};
}

std::vector<NetworkConfig> read_networkd(std::string_view file, std::string_view text) {
  NetworkConfig config{"systemd-networkd", std::string(file), "", "unknown", {}, ""};
  bool dhcp = false;
  for_each_ini_entry(text, [&](std::string_view section, std::string_view key, std::string_view value) {
    if (section == "Match" && key == "Name")
      config.interface = value;
    else if (section == "Match" && (key == "MACAddress" || key == "PermanentMACAddress"))
      config.mac_binding = value;
    else if (section == "Network" && key == "DHCP")
      dhcp = is_true(value) || value == "ipv4" || value == "both";
    else if ((section == "Network" || section == "Address") && key == "Address")
      config.addresses.emplace_back(value);
  });
  config.method = dhcp ? "dhcp" : config.addresses.empty() ? "manual" : "static";
  return {config};
}

namespace {

// The names source-directory reads, as run-parts picks them (ifupdown uses its rules): ASCII
// letters, digits, '_' and '-' only, so "eth0.bak~" and "eth0.dpkg-old" are skipped.
bool run_parts_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) { return is_word_char(c) || c == '-'; });
}

// /etc/network/interfaces and everything it pulls in with source / source-directory.
void read_ifupdown(guest::Guest& guest, const std::string& file, std::set<std::string>& seen,
                   std::vector<NetworkConfig>& out) {
  if (!seen.insert(file).second || seen.size() > 64) return;  // include loops and floods
  auto text = guest.read_if_exists(file);
  if (!text) return;
  for (NetworkConfig& config : read_ifupdown_stanzas(file, *text)) out.push_back(std::move(config));
  for (std::string_view line : split_lines(*text)) {
    line = trim(line);
    bool directory = line.starts_with("source-directory ");
    if (!directory && !line.starts_with("source ")) continue;
    std::string target(trim(line.substr(directory ? 17 : 7)));
    if (!target.starts_with('/')) target = join_path("/etc/network", target);
    if (directory) {
      if (!guest.is_dir(target)) continue;
      for (const std::string& name : guest.ls(target))
        if (run_parts_name(name)) read_ifupdown(guest, join_path(target, name), seen, out);
      continue;
    }
    std::string directory_part = target.substr(0, target.rfind('/'));
    std::string pattern = target.substr(target.rfind('/') + 1);
    if (directory_part.empty() || !guest.is_dir(directory_part)) continue;
    for (const std::string& name : guest.ls(directory_part))
      if (::fnmatch(pattern.c_str(), name.c_str(), FNM_PERIOD) == 0)
        read_ifupdown(guest, join_path(directory_part, name), seen, out);
  }
}

}  // namespace

std::vector<NetworkConfig> detect_linux_network(guest::Guest& guest) {
  std::vector<NetworkConfig> configs;
  auto add = [&](std::vector<NetworkConfig> found) {
    for (NetworkConfig& config : found) configs.push_back(std::move(config));
  };
  for (const char* directory : {"/etc/sysconfig/network-scripts", "/etc/sysconfig/network"}) {
    for (const std::string& file : guest.files_in(directory)) {
      std::string name = file.substr(file.rfind('/') + 1);
      if (!name.starts_with("ifcfg-") || name == "ifcfg-lo" || name.ends_with(".bak") || name.ends_with('~')) continue;
      add(read_ifcfg(file, guest.read(file)));
    }
  }
  std::set<std::string> seen;
  read_ifupdown(guest, "/etc/network/interfaces", seen, configs);
  for (const std::string& file : guest.files_in("/etc/netplan"))
    if (file.ends_with(".yaml") || file.ends_with(".yml")) add(read_netplan(file, guest.read(file)));
  for (const std::string& file : guest.files_in("/etc/NetworkManager/system-connections"))
    add(read_nm_keyfile(file, guest.read(file)));
  for (const std::string& file : guest.files_in("/etc/systemd/network", ".network"))
    add(read_networkd(file, guest.read(file)));
  return configs;
}

}  // namespace vmfix::inspect

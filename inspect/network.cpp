#include "inspect/network.h"

#include <fnmatch.h>

#include <algorithm>
#include <functional>
#include <regex>
#include <set>

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

// A small indentation-driven reader for the part of netplan YAML that matters here:
// network.{ethernets,bonds,vlans,bridges,wifis}.NAME.{dhcp4,addresses,match.macaddress}.
std::vector<NetworkConfig> read_netplan(std::string_view file, std::string_view text) {
  std::vector<NetworkConfig> configs;
  std::vector<std::pair<size_t, std::string>> path;  // (indent, key) of the enclosing mappings
  bool in_addresses = false;
  size_t addresses_indent = 0;
  for (std::string_view raw : split_lines(text)) {
    std::string_view line = raw.substr(0, raw.find(" #"));
    if (trim(line).empty() || trim(line).front() == '#') continue;
    size_t indent = line.find_first_not_of(' ');
    std::string_view body = trim(line);
    if (in_addresses && indent > addresses_indent && body.front() == '-') {
      if (!configs.empty()) configs.back().addresses.push_back(unquote(trim(body.substr(1))));
      continue;
    }
    in_addresses = false;
    while (!path.empty() && path.back().first >= indent) path.pop_back();
    size_t colon = body.find(':');
    if (colon == std::string_view::npos) continue;
    std::string key(trim(body.substr(0, colon)));
    std::string value(trim(body.substr(colon + 1)));
    value = unquote(value);
    // Depth 2 under network.<kind>: an interface.
    if (path.size() == 2 && path[0].second == "network" &&
        (path[1].second == "ethernets" || path[1].second == "bonds" || path[1].second == "vlans" ||
         path[1].second == "bridges" || path[1].second == "wifis")) {
      configs.push_back({"netplan", std::string(file), key, "manual", {}, ""});
    } else if (path.size() >= 3 && path[0].second == "network" && !configs.empty()) {
      NetworkConfig& config = configs.back();
      std::string_view parent = path.back().second;
      if (key == "dhcp4" && is_true(value))
        config.method = "dhcp";
      else if (key == "dhcp6" && is_true(value) && config.method != "dhcp")
        config.method = "dhcp";
      else if (key == "macaddress" && parent == "match")
        config.mac_binding = value;
      else if (key == "addresses" && path.size() == 3) {
        if (config.method != "dhcp") config.method = "static";
        if (!value.empty() && value.front() == '[') {
          std::string_view list = std::string_view(value).substr(1, value.size() - 2);
          for (size_t at = 0; at <= list.size();) {
            size_t comma = list.find(',', at);
            if (comma == std::string_view::npos) comma = list.size();
            std::string item = unquote(trim(list.substr(at, comma - at)));
            if (!item.empty()) config.addresses.push_back(item);
            at = comma + 1;
          }
        } else {
          in_addresses = true;
          addresses_indent = indent;
        }
      }
    }
    if (value.empty()) path.emplace_back(indent, key);
  }
  for (NetworkConfig& config : configs)
    if (!config.addresses.empty() && config.method == "manual") config.method = "static";
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
      static const std::regex valid_name("^[a-zA-Z0-9_-]+$");  // run-parts rules, as ifupdown uses
      if (!guest.is_dir(target)) continue;
      for (const std::string& name : guest.ls(target))
        if (std::regex_match(name, valid_name)) read_ifupdown(guest, join_path(target, name), seen, out);
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

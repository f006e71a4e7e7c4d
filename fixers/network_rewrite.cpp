#include "fixers/network_rewrite.h"

#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <vector>

#include "inspect/netplan.h"
#include "support/text.h"

namespace vmfix::fixers {

using inspect::netplan::blank_or_comment;
using inspect::netplan::child_indent;
using inspect::netplan::indent_of;
using inspect::netplan::key_of;
using inspect::netplan::subtree_end;
using inspect::netplan::value_of;

namespace {

// Lines without their '\n' (a '\r' stays part of its line), and whether the text ended in one.
struct Lines {
  std::vector<std::string> lines;
  bool final_newline = true;
};

Lines lines_of(std::string_view text) {
  Lines result;
  result.final_newline = text.empty() || text.back() == '\n';
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    result.lines.emplace_back(text.substr(at, end - at));
    at = end + 1;
  }
  return result;
}

std::string joined(const Lines& lines) {
  std::string out;
  for (size_t i = 0; i < lines.lines.size(); ++i) {
    out += lines.lines[i];
    // An empty last line is ended even so: without its '\n' it would vanish.
    if (i + 1 < lines.lines.size() || lines.final_newline || lines.lines[i].empty()) out += '\n';
  }
  return out;
}

bool is_ipv4(std::string_view address) {
  return address.find(':') == std::string_view::npos && !address.empty() &&
         std::isdigit(static_cast<unsigned char>(address[0]));
}

// KEY of a "KEY=VALUE" line ("" for comments and other lines); `export KEY=` too.
std::string assignment_key(std::string_view line) {
  std::string_view body = trim(line);
  if (body.empty() || body.front() == '#' || body.front() == ';') return "";
  if (body.starts_with("export ")) body = trim(body.substr(7));
  size_t eq = body.find('=');
  if (eq == std::string_view::npos) return "";
  return std::string(trim(body.substr(0, eq)));
}

// KEY is NAME and then only decimal digits, at least `min_digits` of them ("IPADDR1", "DNS2").
// Written out rather than as a regular expression: std::regex recurses once per repeated digit,
// and a guest's "IPADDR" followed by a hundred thousand digits overflowed the stack.
bool is_numbered(std::string_view key, std::string_view name, size_t min_digits = 0) {
  if (!key.starts_with(name)) return false;
  const std::string_view digits = key.substr(name.size());
  return digits.size() >= min_digits && std::all_of(digits.begin(), digits.end(), is_ascii_digit);
}

// ifcfg keys of a static IPv4 configuration: IPADDR, PREFIX, NETMASK and GATEWAY (numbered or
// not), DNS1.., BROADCAST, NETWORK.
bool is_ifcfg_addressing(std::string_view key) {
  for (std::string_view name : {"IPADDR", "PREFIX", "NETMASK", "GATEWAY"})
    if (is_numbered(key, name)) return true;
  return is_numbered(key, "DNS", 1) || key == "BROADCAST" || key == "NETWORK";
}

// NetworkManager keyfile keys of a manual [ipv4]: address, addresses (numbered or not), gateway,
// dns, route and route1...
bool is_keyfile_addressing(std::string_view key) {
  return is_numbered(key, "address") || is_numbered(key, "addresses") || key == "gateway" || key == "dns" ||
         is_numbered(key, "route");
}

// Where the word numbered `index` (from 0) of a line starts; words are split at blanks.
size_t word_offset(std::string_view line, size_t index) {
  size_t at = line.find_first_not_of(" \t");
  for (size_t word = 0; word < index && at != std::string_view::npos; ++word)
    at = line.find_first_not_of(" \t", line.find_first_of(" \t", at));
  return at == std::string_view::npos ? line.size() : at;
}

}  // namespace

std::string dhcp_ifcfg(std::string_view text) {
  std::string device, bootproto;
  bool has_ipv4 = false, member = false, has_bootproto = false;
  for (const auto& [key, value] : parse_shell_assignments(text)) {
    if (key == "DEVICE")
      device = value;
    else if (key == "BOOTPROTO")
      bootproto = to_lower(value), has_bootproto = true;
    else if (key.starts_with("IPADDR") && !value.empty())
      has_ipv4 = true;
    else if (key == "MASTER" || key == "BRIDGE" || (key == "SLAVE" && to_lower(value) == "yes"))
      member = true;
  }
  if (device == "lo") return std::string(text);
  const bool to_dhcp = !member && has_ipv4 && (bootproto.empty() || bootproto == "static" || bootproto == "none");
  Lines lines = lines_of(text);
  std::vector<std::string> kept;
  for (std::string& line : lines.lines) {
    const std::string key = assignment_key(line);
    if (key == "HWADDR" || key == "MACADDR") continue;
    if (to_dhcp && is_ifcfg_addressing(key)) continue;
    if (to_dhcp && key == "BOOTPROTO") {
      size_t eq = line.find('=');
      std::string value(trim(std::string_view(line).substr(eq + 1)));
      char quote = !value.empty() && (value.front() == '"' || value.front() == '\'') ? value.front() : '\0';
      line = line.substr(0, eq + 1) + (quote ? std::string(1, quote) + "dhcp" + quote : std::string("dhcp"));
    }
    kept.push_back(std::move(line));
  }
  if (to_dhcp && !has_bootproto) kept.push_back("BOOTPROTO=dhcp");
  lines.lines = std::move(kept);
  return joined(lines);
}

namespace {

// The primary NIC is brought up at boot through a name pattern mapped to its stanza ("auto
// /e*/1=ens192"): EC2 calls it ens5 (Nitro) or eth0 (Xen), not what VMware called it. The auto
// and allow- lines that named it lose it; `ifup -a` expands patterns, udev hotplug events do
// not, hence auto. Patterns need ifupdown 0.8 or later (Debian 9+).
void name_primary_by_pattern(std::vector<std::string>& lines) {
  std::string primary;
  for (const std::string& line : lines) {
    const std::vector<std::string> words = split_words(trim(line));
    if (words.size() >= 4 && words[0] == "iface" && words[2] == "inet" && words[3] == "dhcp" &&
        words[1].starts_with("e") && words[1].find_first_of(".:") == std::string::npos) {
      primary = words[1];
      break;
    }
  }
  if (primary.empty()) return;
  std::vector<std::string> out;
  bool placed = false;
  for (std::string& line : lines) {
    std::vector<std::string> words = split_words(trim(line));
    if (words.empty() || (words[0] != "auto" && !words[0].starts_with("allow-")) ||
        std::find(words.begin() + 1, words.end(), primary) == words.end()) {
      out.push_back(std::move(line));
      continue;
    }
    const std::string indent = line.substr(0, line.find(words[0]));
    if (!placed) out.push_back(indent + "auto /e*/1=" + primary);
    placed = true;
    std::string rest;
    for (size_t k = 1; k < words.size(); ++k)
      if (words[k] != primary) rest += " " + words[k];
    if (!rest.empty()) out.push_back(indent + words[0] + rest);
  }
  lines = std::move(out);
}

}  // namespace

std::string dhcp_ifupdown(std::string_view text) { return dhcp_ifupdown(text, true); }
std::string dhcp_ifupdown_by_name(std::string_view text) { return dhcp_ifupdown(text, false); }

std::string dhcp_ifupdown(std::string_view text, bool primary_by_pattern) {
  static const std::vector<std::string> kStaticOptions{"address",   "netmask",         "gateway",   "network",
                                                       "broadcast", "dns-nameservers", "hwaddress", "pointopoint"};
  Lines lines = lines_of(text);
  std::vector<std::string> kept;
  bool in_static = false;
  for (std::string& line : lines.lines) {
    std::string_view body = trim(line);
    std::string word(body.substr(0, body.find_first_of(" \t")));
    if (word == "iface") {
      const std::vector<std::string> words = split_words(body);
      in_static = words.size() >= 4 && words[1] != "lo" && words[2] == "inet" && words[3] == "static";
      if (in_static) {  // the method word itself, whatever follows it on the line
        const size_t at = static_cast<size_t>(body.data() - line.data()) + word_offset(body, 3);
        line = line.substr(0, at) + "dhcp" + line.substr(at + 6);
      }
    } else if (word == "auto" || word.starts_with("allow-") || word == "mapping" || word == "source" ||
               word == "source-directory" || word == "no-auto-down" || word == "no-scripts") {
      in_static = false;
    } else if (in_static && std::find(kStaticOptions.begin(), kStaticOptions.end(), word) != kStaticOptions.end()) {
      continue;
    }
    kept.push_back(std::move(line));
  }
  if (primary_by_pattern) name_primary_by_pattern(kept);
  lines.lines = std::move(kept);
  return joined(lines);
}

namespace {

struct NetplanState {
  bool static_v4 = false;   // it has IPv4 addresses
  bool dhcp4_line = false;  // it has a dhcp4 key
};

NetplanState netplan_state(const std::vector<std::string>& lines, size_t header, size_t end, size_t indent) {
  NetplanState state;
  for (size_t k = header + 1; k < end; ++k) {
    if (indent_of(lines[k]) != indent) continue;
    const std::string key = key_of(lines[k]);
    if (key == "dhcp4") state.dhcp4_line = true;
    if (key != "addresses") continue;
    for (const std::string& address : inspect::netplan::flow_list(value_of(lines[k])))
      state.static_v4 = state.static_v4 || is_ipv4(address);
    for (size_t item = k + 1, stop = subtree_end(lines, k); item < stop; ++item)
      if (is_ipv4(inspect::netplan::list_item(lines[item]))) state.static_v4 = true;
  }
  return state;
}

// A MAC match stops matching on EC2: match any e* interface instead. Other matches stay.
void rewrite_match(const std::vector<std::string>& lines, size_t k, size_t stop, const std::string& pad,
                   std::vector<std::string>& out) {
  bool by_mac = false;
  for (size_t m = k + 1; m < stop; ++m) by_mac = by_mac || key_of(lines[m]) == "macaddress";
  if (!by_mac && value_of(lines[k]).find("macaddress") == std::string::npos) {
    for (size_t m = k; m < stop; ++m) out.push_back(lines[m]);
    return;
  }
  out.push_back(pad + "match:");
  out.push_back(pad + "  name: \"e*\"");
}

// The addresses key [k, stop) with its IPv4 addresses taken out; nothing when none remain.
void keep_ipv6_addresses(const std::vector<std::string>& lines, size_t k, size_t stop, const std::string& pad,
                         std::vector<std::string>& out) {
  const std::string value = value_of(lines[k]);
  if (!value.empty() && value.front() == '[') {
    std::string kept;
    for (const std::string& item : inspect::netplan::flow_list(value))
      if (!is_ipv4(item)) kept += (kept.empty() ? "\"" : ", \"") + item + "\"";
    if (!kept.empty()) out.push_back(pad + "addresses: [" + kept + "]");
    return;
  }
  std::vector<std::string> items;
  for (size_t item = k + 1; item < stop; ++item)
    if (!is_ipv4(inspect::netplan::list_item(lines[item]))) items.push_back(lines[item]);
  if (std::none_of(items.begin(), items.end(), [](const std::string& l) { return !blank_or_comment(l); })) return;
  out.push_back(lines[k]);
  for (const std::string& item : items) out.push_back(item);
}

// Why an interface block is no YAML mapping, so that netplan refuses the file; "" when it is one.
std::string malformation(const std::vector<std::string>& lines, size_t header, size_t end) {
  const size_t depth = child_indent(lines, header, end);
  for (size_t k = header + 1; k < end;) {
    if (blank_or_comment(lines[k])) {
      ++k;
    } else if (indent_of(lines[k]) < depth) {
      return "a key is less indented than the interface's first";
    } else if (inspect::netplan::is_list_item(lines[k])) {  // not one of the lists its keys hold
      return fmt::format("a list item (line {}) among its keys", k + 1);
    } else {
      k = subtree_end(lines, k);
    }
  }
  return "";
}

void netplan_interface_to_dhcp(std::vector<std::string>& lines, size_t header, size_t end) {
  const size_t depth = child_indent(lines, header, end);
  // In a malformed block which lines are the interface's own is not known: dropping its first key
  // (set-name) can make a shallower one the first, or dropping a key can give the list item after
  // it to the key before, so a second rewrite would read the block otherwise. Such a block is left
  // as it is (and reported: netplan_malformed_interfaces).
  if (depth == 0 || !malformation(lines, header, end).empty()) return;
  const std::string pad(depth, ' ');
  const NetplanState state = netplan_state(lines, header, end, depth);

  std::vector<std::string> out(lines.begin(), lines.begin() + static_cast<long>(header) + 1);
  if (state.static_v4 && !state.dhcp4_line) out.push_back(pad + "dhcp4: true");
  for (size_t k = header + 1; k < end;) {
    const bool child = indent_of(lines[k]) == depth && !blank_or_comment(lines[k]);
    const std::string key = child ? key_of(lines[k]) : "";
    const size_t stop = child ? subtree_end(lines, k) : k + 1;
    if (child && key == "set-name") {
      // dropped: EC2 names the NIC
    } else if (child && key == "match") {
      rewrite_match(lines, k, stop, pad, out);
    } else if (child && state.static_v4 && (key == "gateway4" || key == "routes" || key == "nameservers")) {
      // dropped: DHCP gives them
    } else if (child && state.static_v4 && key == "dhcp4") {
      out.push_back(pad + "dhcp4: true");
    } else if (child && state.static_v4 && key == "addresses") {
      keep_ipv6_addresses(lines, k, stop, pad, out);
    } else {
      for (size_t m = k; m < stop; ++m) out.push_back(lines[m]);
    }
    k = stop;
  }
  for (size_t k = end; k < lines.size(); ++k) out.push_back(lines[k]);
  lines = std::move(out);
}

}  // namespace

std::string dhcp_netplan(std::string_view text) {
  Lines lines = lines_of(text);
  // Walk the interfaces from the end, so that edits do not shift the blocks still to visit. In a
  // malformed file a block can lie inside another (a key deeper than a scalar before it): only the
  // outer one is rewritten, once.
  std::vector<inspect::netplan::Interface> interfaces;
  for (const auto& block : inspect::netplan::interfaces(lines.lines))
    if (interfaces.empty() || block.header >= interfaces.back().end) interfaces.push_back(block);
  for (auto it = interfaces.rbegin(); it != interfaces.rend(); ++it)
    netplan_interface_to_dhcp(lines.lines, it->header, it->end);
  return joined(lines);
}

std::vector<std::string> netplan_malformed_interfaces(std::string_view text) {
  const Lines lines = lines_of(text);
  std::vector<std::string> found;
  for (const auto& block : inspect::netplan::interfaces(lines.lines))
    if (const std::string why = malformation(lines.lines, block.header, block.end); !why.empty())
      found.push_back(fmt::format("{} (line {}): {}", block.name, block.header + 1, why));
  return found;
}

std::string dhcp_nm_keyfile(std::string_view text) {
  bool manual = false, loopback = false;
  std::string section;
  for (std::string_view line : split_lines(text)) {
    std::string_view body = trim(line);
    if (body.starts_with('[') && body.ends_with(']'))
      section = std::string(body.substr(1, body.size() - 2));
    else if (section == "ipv4" && assignment_key(body) == "method")
      manual = unquote(body.substr(body.find('=') + 1)) == "manual";
    else if (section == "connection" && assignment_key(body) == "type")
      loopback = unquote(body.substr(body.find('=') + 1)) == "loopback";
  }
  if (loopback) return std::string(text);
  Lines lines = lines_of(text);
  std::vector<std::string> kept;
  section.clear();
  for (std::string& line : lines.lines) {
    std::string_view body = trim(line);
    if (body.starts_with('[') && body.ends_with(']')) section = std::string(body.substr(1, body.size() - 2));
    const std::string key = assignment_key(line);
    if ((section == "ethernet" || section == "802-3-ethernet") && key == "mac-address") continue;
    if (section == "ipv4" && manual) {
      if (is_keyfile_addressing(key)) continue;
      if (key == "method") line = line.substr(0, line.find('=') + 1) + "auto";
    }
    kept.push_back(std::move(line));
  }
  lines.lines = std::move(kept);
  return joined(lines);
}

std::string dhcp_networkd(std::string_view text) {
  // First pass: is IPv4 static, and is DHCP already asked for?
  bool static_v4 = false, dhcp_v4 = false, has_dhcp_key = false;
  std::string section;
  for (std::string_view line : split_lines(text)) {
    std::string_view body = trim(line);
    if (body.starts_with('[') && body.ends_with(']')) section = std::string(body.substr(1, body.size() - 2));
    const std::string key = assignment_key(body);
    std::string value = key.empty() ? "" : unquote(body.substr(body.find('=') + 1));
    if ((section == "Network" || section == "Address") && key == "Address" && is_ipv4(value)) static_v4 = true;
    if (section == "Network" && key == "DHCP") {
      has_dhcp_key = true;
      dhcp_v4 = value == "yes" || value == "ipv4" || value == "both" || value == "true";
    }
  }
  Lines lines = lines_of(text);
  std::vector<std::string> kept;
  section.clear();
  bool match_had_mac = false, match_has_other = false, dropping_section = false;
  size_t match_header = std::string::npos;
  for (std::string& line : lines.lines) {
    std::string_view body = trim(line);
    if (body.starts_with('[') && body.ends_with(']')) {
      section = std::string(body.substr(1, body.size() - 2));
      dropping_section = static_v4 && (section == "Address" || section == "Route");
      if (dropping_section) continue;
      kept.push_back(line);
      if (section == "Match") match_header = kept.size() - 1;
      if (section == "Network" && static_v4 && !has_dhcp_key) kept.push_back("DHCP=ipv4");
      continue;
    }
    if (dropping_section) continue;
    const std::string key = assignment_key(line);
    if (section == "Match" && (key == "MACAddress" || key == "PermanentMACAddress")) {
      match_had_mac = true;
      continue;
    }
    if (section == "Match" && !key.empty()) match_has_other = true;
    if (section == "Network" && static_v4) {
      if (key == "Gateway" || key == "DNS") continue;
      if (key == "Address" && is_ipv4(unquote(std::string_view(line).substr(line.find('=') + 1)))) continue;
      if (key == "DHCP" && !dhcp_v4) {
        line = line.substr(0, line.find('=') + 1) + "yes";
      }
    }
    kept.push_back(std::move(line));
  }
  if (match_had_mac && !match_has_other && match_header != std::string::npos)
    kept.insert(kept.begin() + static_cast<long>(match_header) + 1, "Name=en* eth*");
  lines.lines = std::move(kept);
  return joined(lines);
}

std::string without_mac_name_rules(std::string_view text) {
  Lines lines = lines_of(text);
  std::erase_if(lines.lines, [](const std::string& line) {
    return !blank_or_comment(line) && line.find("ATTR{address}") != std::string::npos &&
           line.find("NAME") != std::string::npos;
  });
  return joined(lines);
}

}  // namespace vmfix::fixers

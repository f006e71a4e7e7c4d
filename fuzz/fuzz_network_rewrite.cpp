// The Linux network rewriters (ifcfg, ifupdown with and without name patterns, netplan,
// NetworkManager keyfiles, systemd-networkd, udev persistent-net rules) on guest text. Beyond not
// crashing: what a rewriter writes its reader reads, a second rewrite changes nothing, and every
// line the rewriter does not own comes out byte for byte. The first byte picks the rewriter.
#include <algorithm>
#include <initializer_list>
#include <iterator>
#include <set>
#include <string>

#include "fixers/network_rewrite.h"
#include "fuzz/properties.h"
#include "inspect/netplan.h"
#include "inspect/network.h"
#include "support/error.h"

namespace {

using vmfix::fuzz::lines_of;
using Owned = std::function<bool(size_t, std::string_view)>;

// The whitespace the rewriters strip, as systemd's parser does (its WHITESPACE is " \t\n\r"): a
// form feed or a vertical tab is part of the line.
std::string_view trimmed(std::string_view line) {
  const char* space = " \t\r\n";
  const size_t first = line.find_first_not_of(space);
  if (first == std::string_view::npos) return {};
  return line.substr(first, line.find_last_not_of(space) - first + 1);
}

// KEY of "KEY=VALUE" or "export KEY=VALUE"; "" for anything else.
std::string key_of_assignment(std::string_view line) {
  std::string_view body = trimmed(line);
  if (body.starts_with("export ")) body = trimmed(body.substr(7));
  const size_t eq = body.find('=');
  return eq == std::string_view::npos ? std::string() : std::string(trimmed(body.substr(0, eq)));
}

std::string first_word(std::string_view line) {
  std::string_view body = trimmed(line);
  return std::string(body.substr(0, body.find_first_of(" \t")));
}

// KEY without its trailing digits, and how many digits there were: "IPADDR12" is ("IPADDR", 2).
std::pair<std::string, size_t> stem_of(const std::string& key) {
  const size_t end = key.find_last_not_of("0123456789") + 1;  // npos + 1 is 0: all digits
  return {key.substr(0, end), key.size() - end};
}

bool one_of(const std::string& word, std::initializer_list<std::string_view> words) {
  return std::find(words.begin(), words.end(), word) != words.end();
}

Owned ifcfg_owned() {
  return [](size_t, std::string_view line) {
    const std::string key = key_of_assignment(line);
    const auto [stem, digits] = stem_of(key);
    return one_of(stem, {"IPADDR", "PREFIX", "NETMASK", "GATEWAY"}) || (stem == "DNS" && digits > 0) ||
           one_of(key, {"BROADCAST", "NETWORK", "HWADDR", "MACADDR", "BOOTPROTO"});
  };
}

Owned ifupdown_owned() {
  static const std::set<std::string> words{"iface",   "auto",      "address",         "netmask",   "gateway",
                                           "network", "broadcast", "dns-nameservers", "hwaddress", "pointopoint"};
  return [](size_t, std::string_view line) {
    const std::string word = first_word(line);
    return words.count(word) > 0 || word.starts_with("allow-");
  };
}

// Lines inside a well-formed network.ethernets/bonds/... block; everything around the blocks is
// not netplan's interface configuration, and a block the rewriter reports as no YAML it must leave
// as it is.
Owned netplan_owned(std::string_view text) {
  std::vector<std::string> lines;
  for (std::string_view line : lines_of(text)) lines.emplace_back(line);
  const std::vector<std::string> malformed = vmfix::fixers::netplan_malformed_interfaces(text);
  std::vector<bool> inside(lines.size(), false);
  for (const auto& block : vmfix::inspect::netplan::interfaces(lines)) {
    const std::string report = block.name + " (line " + std::to_string(block.header + 1) + "): ";
    if (std::any_of(malformed.begin(), malformed.end(), [&](const std::string& m) { return m.starts_with(report); }))
      continue;
    for (size_t i = block.header; i < block.end && i < inside.size(); ++i) inside[i] = true;
  }
  return [inside](size_t index, std::string_view) { return index < inside.size() && inside[index]; };
}

Owned keyfile_owned() {
  return [](size_t, std::string_view line) {
    const std::string key = key_of_assignment(line);
    return one_of(stem_of(key).first, {"address", "addresses", "route"}) ||
           one_of(key, {"mac-address", "method", "gateway", "dns"});
  };
}

// Keys of [Match] and [Network] the rewriter may change, and whole [Address] and [Route] sections.
Owned networkd_owned(std::string_view text) {
  std::vector<bool> owned;
  bool dropping = false;
  for (std::string_view line : lines_of(text)) {
    const std::string_view body = trimmed(line);
    if (body.size() >= 2 && body.front() == '[' && body.back() == ']')
      dropping = body == "[Address]" || body == "[Route]";
    owned.push_back(dropping || one_of(key_of_assignment(line),
                                       {"MACAddress", "PermanentMACAddress", "Gateway", "DNS", "Address", "DHCP"}));
  }
  return [owned](size_t index, std::string_view) { return index < owned.size() && owned[index]; };
}

Owned udev_owned() {
  return [](size_t, std::string_view line) { return line.find("ATTR{address}") != std::string_view::npos; };
}

struct Rewriter {
  const char* name;
  std::string (*rewrite)(std::string_view);
  std::vector<vmfix::inspect::NetworkConfig> (*read)(std::string_view, std::string_view);  // null: no reader
  Owned (*owned)(std::string_view);
};

std::vector<vmfix::inspect::NetworkConfig> no_reader(std::string_view, std::string_view) { return {}; }

const Rewriter kRewriters[] = {
    {"ifcfg", vmfix::fixers::dhcp_ifcfg, vmfix::inspect::read_ifcfg, [](std::string_view) { return ifcfg_owned(); }},
    {"ifupdown", vmfix::fixers::dhcp_ifupdown, vmfix::inspect::read_ifupdown_stanzas,
     [](std::string_view) { return ifupdown_owned(); }},
    {"ifupdown-by-name", vmfix::fixers::dhcp_ifupdown_by_name, vmfix::inspect::read_ifupdown_stanzas,
     [](std::string_view) { return ifupdown_owned(); }},
    {"netplan", vmfix::fixers::dhcp_netplan, vmfix::inspect::read_netplan, netplan_owned},
    {"keyfile", vmfix::fixers::dhcp_nm_keyfile, vmfix::inspect::read_nm_keyfile,
     [](std::string_view) { return keyfile_owned(); }},
    {"networkd", vmfix::fixers::dhcp_networkd, vmfix::inspect::read_networkd, networkd_owned},
    {"udev", vmfix::fixers::without_mac_name_rules, no_reader, [](std::string_view) { return udev_owned(); }},
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const Rewriter& rewriter = kRewriters[data[0] % std::size(kRewriters)];
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  bool input_reads = true;
  try {
    rewriter.read("fuzz", text);
  } catch (const vmfix::Error&) {
    input_reads = false;
  }
  std::string out;
  try {
    out = rewriter.rewrite(text);
  } catch (const vmfix::Error&) {
    return 0;
  }
  const std::string what = std::string(rewriter.name) + " rewrite";
  if (input_reads) {
    try {
      rewriter.read("fuzz", out);
    } catch (const vmfix::Error& error) {
      vmfix::fuzz::broken(what + ": its output no longer reads", error.what());
    }
  }
  vmfix::fuzz::require_idempotent(rewriter.rewrite, text, what);
  vmfix::fuzz::require_unowned_lines_kept(text, out, rewriter.owned(text), what);
  return 0;
}

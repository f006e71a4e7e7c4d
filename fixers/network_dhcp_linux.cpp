// network-dhcp (Linux side): every configured stack (ifcfg, ifupdown with its includes, netplan,
// NetworkManager keyfiles, systemd-networkd) gets its static IPv4 addresses replaced by DHCP and
// its MAC bindings dropped, and udev rules that pin names to MAC addresses go: on EC2 the NIC is
// new, gets its address by DHCP, and has another MAC. Files keep their mode and everything else.
#include <fmt/core.h>
#include <fmt/ranges.h>

#include <map>
#include <optional>
#include <set>

#include "bootloader/kernels.h"
#include "fixers/network_rewrite.h"
#include "fixers/table.h"
#include "support/diff.h"

namespace vmfix::fixers {

namespace {

using Rewrite = std::string (*)(std::string_view);

// ifupdown 0.8 (Debian 9, Ubuntu 16.04) and later read interface name patterns; 0.7 does not.
bool ifupdown_reads_patterns(guest::Guest& guest) {
  auto status = guest.read_if_exists("/var/lib/dpkg/status");
  if (!status) return false;
  size_t stanza = status->find("Package: ifupdown\n");
  if (stanza == std::string::npos) return false;
  size_t end = status->find("\n\n", stanza);
  std::string_view fields =
      std::string_view(*status).substr(stanza, end == std::string::npos ? std::string::npos : end - stanza);
  size_t version = fields.find("\nVersion: ");
  if (version == std::string_view::npos) return false;
  std::string value(fields.substr(version + 10, fields.find('\n', version + 1) - version - 10));
  return !bootloader::version_less(value, "0.8");
}

Rewrite rewriter_for(const std::string& stack, bool ifupdown_patterns) {
  if (stack == "ifcfg") return dhcp_ifcfg;
  if (stack == "ifupdown") return ifupdown_patterns ? static_cast<Rewrite>(dhcp_ifupdown) : dhcp_ifupdown_by_name;
  if (stack == "netplan") return dhcp_netplan;
  if (stack == "networkmanager") return dhcp_nm_keyfile;
  if (stack == "systemd-networkd") return dhcp_networkd;
  return nullptr;
}

constexpr const char* kSettleDropIn = "/etc/systemd/system/ifupdown-pre.service.d/50-vmfix-settle.conf";

struct Plan {
  std::string file;
  std::string before_text, after_text;
  std::string before, after;  // one-line summaries
};

std::vector<Plan> plan(guest::Guest& guest, const inspect::Facts& facts) {
  std::map<std::string, std::pair<Rewrite, std::string>> files;  // file -> rewriter, what it holds
  std::optional<bool> patterns;
  for (const inspect::NetworkConfig& config : facts.network) {
    if (config.stack == "ifupdown" && !patterns) patterns = ifupdown_reads_patterns(guest);
    Rewrite rewrite = rewriter_for(config.stack, patterns.value_or(false));
    if (!rewrite) continue;
    auto& [function, summary] = files[config.file];
    function = rewrite;
    std::string addresses;
    for (const std::string& address : config.addresses) addresses += (addresses.empty() ? " " : ",") + address;
    summary += fmt::format("{}{} {}{}{}", summary.empty() ? "" : "; ", config.interface, config.method, addresses,
                           config.mac_binding.empty() ? "" : " mac " + config.mac_binding);
  }
  std::vector<Plan> plans;
  bool primary_by_pattern = false;
  for (const auto& [file, entry] : files) {
    auto text = guest.read_if_exists(file);
    if (!text) continue;
    std::string rewritten = entry.first(*text);
    if (rewritten != *text) plans.push_back({file, *text, rewritten, entry.second, "DHCP, no MAC binding"});
    primary_by_pattern = primary_by_pattern || (entry.first == static_cast<Rewrite>(dhcp_ifupdown) &&
                                                rewritten.find(" /e*/1=") != std::string::npos);
  }
  // `ifup -a` matches "auto /e*/1=NAME" against the interfaces that exist when it runs. Debian's
  // ifupdown-pre waits for udev only when ifquery lists an interface, which a pattern does not
  // before the NIC's driver has loaded: without this wait a driver loaded from the root
  // filesystem (not the initramfs) loses the race and the NIC stays down.
  for (const char* unit :
       {"/lib/systemd/system/ifupdown-pre.service", "/usr/lib/systemd/system/ifupdown-pre.service"}) {
    if (!primary_by_pattern || !guest.exists(unit)) continue;
    const std::string content =
        "# Written by vmfix: networking waits for udev to create the NIC that \"auto /e*/1=...\" names.\n"
        "[Service]\nExecStart=\nExecStart=/bin/udevadm settle\n";
    auto existing = guest.read_if_exists(kSettleDropIn);
    if (existing != content)
      plans.push_back({kSettleDropIn, existing.value_or(""), content, "ifup -a may run before the NIC exists",
                       "networking waits for udev"});
    break;
  }
  for (const std::string& file : guest.files_in("/etc/udev/rules.d", ".rules")) {
    if (file.find("persistent-net") == std::string::npos) continue;
    std::string text = guest.read(file);
    std::string rewritten = without_mac_name_rules(text);
    if (rewritten != text) plans.push_back({file, text, rewritten, "names pinned to MAC addresses", "rules removed"});
  }
  return plans;
}

// The README's fixer table (scripts/fixer-table.sh).
constexpr const char* kChecks =
    "ifcfg, ifupdown (with `source` and `source-directory`), netplan, NetworkManager keyfiles, "
    "systemd-networkd; MAC-pinning udev rules";
constexpr const char* kChanges =
    "static IPv4 becomes DHCP, MAC bindings dropped, comments and other settings kept; the primary "
    "ifupdown NIC is brought up by pattern (`auto /e*/1=ens192`, with a drop-in that makes Debian's "
    "ifupdown-pre wait for udev, so a NIC driver loaded after the initramfs is not missed), netplan "
    "matches `name: \"e*\"`: EC2 names the NIC ens5 or eth0; `70-persistent-net.rules` lines that pin "
    "names go";

class NetworkDhcpLinux : public Fixer {
 public:
  std::string_view id() const override { return "network-dhcp"; }
  std::string_view summary() const override {
    return "Linux: static IPv4 and MAC bindings become DHCP in every network stack";
  }
  std::vector<FixerDoc> documentation() const override { return {{std::string(id()), "", kChecks, kChanges}}; }
  std::vector<std::string> rules() const override { return {"network-dhcp"}; }
  bool applies(const inspect::Facts& facts) const override { return facts.os_type == "linux"; }

  std::vector<Finding> check(guest::Guest& guest, const inspect::Facts& facts) override {
    std::vector<Finding> findings = malformed_netplan(guest, facts);
    for (const Plan& p : plan(guest, facts))
      findings.push_back({"network-dhcp", Status::fail, "every network interface gets its address by DHCP",
                          fmt::format("{}: {}", p.file, p.before)});
    if (findings.empty())
      findings.push_back({"network-dhcp", Status::pass, "every network interface gets its address by DHCP", ""});
    return findings;
  }

 private:
  // A netplan file that is no YAML brings up no interface at all, and vmfix does not guess what
  // its author meant.
  static std::vector<Finding> malformed_netplan(guest::Guest& guest, const inspect::Facts& facts) {
    std::set<std::string> files;
    for (const inspect::NetworkConfig& config : facts.network)
      if (config.stack == "netplan") files.insert(config.file);
    std::vector<Finding> findings;
    for (const std::string& file : files) {
      const auto text = guest.read_if_exists(file);
      const auto blocks = text ? netplan_malformed_interfaces(*text) : std::vector<std::string>{};
      if (blocks.empty()) continue;
      findings.push_back({"network-dhcp", Status::fail,
                          "a netplan file is no YAML: netplan refuses it, and the instance would have no network",
                          fmt::format("{}: {}; fix the file in the guest", file, fmt::join(blocks, ", ")), false});
    }
    return findings;
  }

  std::vector<Change> fix(guest::Guest& guest, const inspect::Facts& facts) override {
    std::vector<Change> changes;
    for (const Plan& p : plan(guest, facts)) {
      if (!guest.exists(p.file)) guest.mkdir_p(p.file.substr(0, p.file.rfind('/')));
      guest.replace_file(p.file, p.after_text);
      changes.push_back({"network-dhcp", p.file, p.before, p.after, unified_diff(p.before_text, p.after_text, p.file)});
    }
    return changes;
  }
};

}  // namespace

std::unique_ptr<Fixer> make_network_dhcp_linux() { return std::make_unique<NetworkDhcpLinux>(); }

}  // namespace vmfix::fixers

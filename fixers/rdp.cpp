// rdp: the only way into a Windows instance is Remote Desktop: allowed, its firewall rules
// enabled, its service startable.
#include "fixers/hive_fixer.h"
#include "fixers/table.h"
#include "registry/guest_hive.h"
#include "support/text.h"

namespace vmfix::fixers {

namespace {

// Firewall rules are "v2.x|Action=Allow|Active=FALSE|Dir=In|..." strings; flip Active only.
std::optional<std::string> activated(const std::string& rule) {
  const std::string inactive = "|Active=FALSE|";
  size_t at = rule.find(inactive);
  if (at == std::string::npos) return std::nullopt;
  return rule.substr(0, at) + "|Active=TRUE|" + rule.substr(at + inactive.size());
}

std::vector<RegistryEdit> plan(registry::Hive& system, const inspect::Facts&) {
  std::vector<RegistryEdit> edits;
  for (const std::string& set : registry::selected_control_sets(system)) {
    plan_value(system, set + "\\Control\\Terminal Server", registry::make_dword("fDenyTSConnections", 0), edits);
    const std::string rules_key = set + "\\Services\\SharedAccess\\Parameters\\FirewallPolicy\\FirewallRules";
    if (auto rules = system.find(rules_key)) {
      for (const registry::Value& rule : system.values(*rules)) {
        if (!starts_with_icase(rule.name, "RemoteDesktop-")) continue;
        auto text = registry::as_string(rule);
        auto enabled = text ? activated(*text) : std::nullopt;
        if (enabled) plan_value(system, rules_key, registry::make_string(rule.name, *enabled, rule.type), edits);
      }
    }
    // A listener bound to one adapter (LanAdapter N) never listens on EC2, whose adapter is new.
    const std::string listener = set + "\\Control\\Terminal Server\\WinStations\\RDP-Tcp";
    if (auto node = system.find(listener)) {
      auto adapter = system.value(*node, "LanAdapter");
      if (adapter && registry::as_dword(*adapter).value_or(0) != 0)
        plan_value(system, listener, registry::make_dword("LanAdapter", 0), edits);
    }
    const std::string service = set + "\\Services\\TermService";
    if (auto node = system.find(service)) {
      auto start = system.value(*node, "Start");
      if (start && registry::as_dword(*start) == 4u)
        plan_value(system, service, registry::make_dword("Start", 3), edits);
    }
  }
  return edits;
}

// The README's fixer table (scripts/fixer-table.sh).
constexpr const char* kChecks =
    "`Control\\Terminal Server\\fDenyTSConnections`, the `RemoteDesktop-*` firewall rules, "
    "`TermService`, the `RDP-Tcp` listener's `LanAdapter`";
constexpr const char* kChanges =
    "allows RDP (0), sets `Active=TRUE` in the rules (the rest of each rule kept), `Start` 4 becomes "
    "3, a listener bound to one adapter listens on all (`LanAdapter` 0)";

}  // namespace

std::unique_ptr<Fixer> make_rdp() {
  return make_hive_fixer(
      {"rdp",
       "Windows: allow Remote Desktop, enable its inbound firewall rules, do not leave TermService disabled",
       "windows-rdp",
       "Remote Desktop is allowed and reachable through the firewall",
       {{WindowsHive::system, plan}}},
      kChecks, kChanges);
}

}  // namespace vmfix::fixers

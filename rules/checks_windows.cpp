// The causes of AWS's FirstBootFailure ("the Windows instance failed to boot and establish network
// connectivity") that an offline look can see: a boot menu that waits for a choice, the Hyper-V
// role, the DHCP client off, a firewall that ignores every inbound rule; and the RDP port and the
// EC2 agents, for information.
#include <fmt/core.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "rules/checks.h"
#include "support/text.h"

namespace vmfix::rules {

namespace {

std::string where(const inspect::BootMenu& menu) {
  return menu.location.empty() ? menu.store : fmt::format("{} on {}", menu.store, menu.location);
}

Outcome check_boot_menu(const Context& c) {
  const auto& menus = c.facts.boot_menus;
  if (menus.empty()) return unknown("no BCD store was found to read the boot menu from");
  std::vector<std::string> evidence, waiting;
  for (const inspect::BootMenu& menu : menus) {
    if (!menu.error.empty()) {
      evidence.push_back(fmt::format("{}: {}", where(menu), menu.error));
      continue;
    }
    const std::string timeout = menu.timeout ? fmt::format("{} s", *menu.timeout) : "no timeout set";
    const std::string line =
        fmt::format("{}: {} entr{} ({}), {}", where(menu), menu.entries.size(), menu.entries.size() == 1 ? "y" : "ies",
                    fmt::join(menu.entries, ", "), timeout);
    evidence.push_back(line);
    if (menu.entries.size() > 1) waiting.push_back(line);
  }
  if (!waiting.empty())
    return fail(
        "the boot menu offers more than one entry: the first boot on EC2 can stop at it (delete the other "
        "entries with bcdedit /delete, or set bcdedit /timeout 0)",
        evidence);
  if (std::all_of(menus.begin(), menus.end(), [](const auto& menu) { return !menu.error.empty(); }))
    return unknown("the boot menu could not be read", evidence);
  return pass("no more than one boot entry: Windows starts without a menu", evidence);
}

Outcome check_hyper_v(const Context& c) {
  std::vector<std::string> evidence = c.facts.windows.hyper_v;
  for (const inspect::BootMenu& menu : c.facts.boot_menus)
    if (menu.hypervisor_launch == 1u)
      evidence.push_back(fmt::format("{}: the default entry {} starts the hypervisor (hypervisorlaunchtype Auto)",
                                     where(menu), menu.default_entry));
  if (evidence.empty()) return pass("the Hyper-V role is not installed");
  return fail(
      "the Hyper-V role is installed: remove it before export, or run 'bcdedit /set hypervisorlaunchtype off'; "
      "an EC2 instance that is not bare metal cannot run the hypervisor",
      evidence);
}

Outcome check_dhcp_service(const Context& c) {
  const auto& services = c.facts.windows.services;
  if (services.empty()) return unknown("the services of the control set were not read");
  auto dhcp =
      std::find_if(services.begin(), services.end(), [](const auto& s) { return equals_icase(s.name, "Dhcp"); });
  const std::string key = fmt::format("{}\\Services\\Dhcp", c.facts.windows_current_control_set);
  if (dhcp == services.end()) return fail("there is no DHCP client service: EC2 gives the address by DHCP", {key});
  const std::string evidence = fmt::format("{}\\Start={}", key, dhcp->start);
  if (dhcp->start == 4) return fail("the DHCP client service is disabled: EC2 gives the address by DHCP", {evidence});
  return pass("the DHCP client service is not disabled", {evidence});
}

Outcome check_firewall(const Context& c) {
  const auto& profiles = c.facts.windows.firewall_profiles;
  if (profiles.empty()) return unknown("the firewall settings were not read");
  std::vector<std::string> evidence;
  for (const inspect::FirewallProfile& profile : profiles) evidence.push_back(profile.evidence);
  if (std::all_of(profiles.begin(), profiles.end(), [](const auto& p) { return p.blocks_every_rule; }))
    return fail(
        "every firewall profile ignores its inbound rules (DoNotAllowExceptions): Remote Desktop cannot get "
        "in; AWS asks that firewalls be off for the import",
        evidence);
  return pass("at least one firewall profile lets its inbound rules (RDP's) apply", evidence);
}

Outcome check_rdp_port(const Context& c) {
  const auto& port = c.facts.windows.rdp_port;
  if (!port || *port == 3389) return pass("Remote Desktop listens on port 3389");
  return fail(fmt::format("Remote Desktop listens on port {}: open it in the instance's security group (3389 is "
                          "what EC2's tools expect)",
                          *port),
              {fmt::format("{}\\Control\\Terminal Server\\WinStations\\RDP-Tcp\\PortNumber={}",
                           c.facts.windows_current_control_set, *port)});
}

Outcome check_ec2_agents(const Context& c) {
  const auto& agents = c.facts.windows.ec2_agents;
  if (agents.empty()) return pass("no EC2 agent is installed: the import installs EC2Launch");
  return pass(fmt::format("EC2 agents already installed: {}", fmt::join(agents, ", ")), agents);
}

}  // namespace

void add_windows_checks(std::map<std::string, Evaluator>& table) {
  table["windows-boot-menu"] = check_boot_menu;
  table["windows-hyper-v"] = check_hyper_v;
  table["windows-dhcp-service"] = check_dhcp_service;
  table["windows-firewall"] = check_firewall;
  table["windows-rdp-port"] = check_rdp_port;
  table["windows-ec2-agents"] = check_ec2_agents;
}

}  // namespace vmfix::rules

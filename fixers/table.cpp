#include "fixers/table.h"

#include <fmt/core.h>

#include <algorithm>

#include "fixers/by_os.h"
#include "support/error.h"
#include "support/text.h"

namespace vmfix::fixers {

std::vector<std::unique_ptr<Fixer>> all_fixers(const FixerSettings& settings) {
  std::vector<std::unique_ptr<Fixer>> fixers;
  fixers.push_back(
      make_by_os(make_vmware_tools_windows(), make_vmware_tools_linux(),
                 "VMware Tools: Windows services disabled and uninstalled at the next boot; Linux packages "
                 "and tarball installs removed, VMware repositories disabled"));
  fixers.push_back(make_rtc_utc());
  fixers.push_back(make_rdp());
  fixers.push_back(make_autologon());
  fixers.push_back(make_pagefile());
  fixers.push_back(make_san_policy());
  fixers.push_back(make_fast_startup());
  fixers.push_back(
      make_by_os(make_network_dhcp_windows(), make_network_dhcp_linux(),
                 "static addresses become DHCP: Windows TCP/IP interfaces; Linux ifcfg, ifupdown, netplan, "
                 "NetworkManager, networkd; MAC bindings dropped"));
  fixers.push_back(make_unattend(settings));
  fixers.push_back(make_gpt_to_mbr());  // before grub: a regenerated grub.cfg then names msdos partitions
  fixers.push_back(make_efi_fallback());
  fixers.push_back(make_fstab());
  fixers.push_back(make_grub());
  fixers.push_back(make_initramfs());  // last: it reads the menu the grub fixer leaves
  return fixers;
}

nlohmann::ordered_json fixer_list_json() {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const auto& fixer : all_fixers())
    list.push_back({{"id", fixer->id()}, {"summary", fixer->summary()}, {"rules", fixer->rules()}});
  return {{"schema", "vmfix.fixers/1"}, {"fixers", list}};
}

void require_known(const std::vector<std::string>& ids) {
  const auto all = all_fixers();
  for (const std::string& id : ids)
    if (std::none_of(all.begin(), all.end(), [&](auto& fixer) { return fixer->id() == id; }))
      throw UsageError(fmt::format("no fixer named '{}' (see --list-fixers)", one_line(id)));
}

std::vector<std::unique_ptr<Fixer>> select_fixers(const std::vector<std::string>& ids, const FixerSettings& settings) {
  require_known(ids);
  std::vector<std::unique_ptr<Fixer>> selected;
  auto all = all_fixers(settings);
  for (auto& fixer : all)
    if (std::find(ids.begin(), ids.end(), fixer->id()) != ids.end()) selected.push_back(std::move(fixer));
  return selected;
}

std::string readme_fixer_table() {
  auto cell = [](std::string text) {
    for (size_t at = text.find('|'); at != std::string::npos; at = text.find('|', at + 2)) text.insert(at, "\\");
    return text;
  };
  std::string table = "| id | what it checks | what it changes |\n|---|---|---|\n";
  for (const auto& fixer : all_fixers())
    for (const FixerDoc& row : fixer->documentation())
      table += fmt::format("| `{}`{} | {} | {} |\n", row.id, row.os.empty() ? "" : " (" + row.os + ")",
                           cell(row.checks), cell(row.changes));
  return table;
}

}  // namespace vmfix::fixers

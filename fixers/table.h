#pragma once
// The table of fixers, in the order they run. Adding one: a file here, a make_ line, a line below.
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "fixers/fixer.h"

namespace vmfix::fixers {

// What the user tells the fixers (command-line options they read).
struct FixerSettings {
  std::optional<std::string> unattend_xml;  // --unattend FILE, already checked to be XML
  std::string unattend_source;              // that FILE's name, for reports
};

std::vector<std::unique_ptr<Fixer>> all_fixers(const FixerSettings& settings = {});

// The README's fixer table (Markdown), a row per fixer (per half of a Windows/Linux pair), in
// table order, from each fixer's documentation(). scripts/fixer-table.sh writes it into the README.
std::string readme_fixer_table();

// `vmfix --list-fixers --json`: {schema vmfix.fixers/1, fixers: [{id, summary, rules}]} in table order.
nlohmann::ordered_json fixer_list_json();

// Throws UsageError naming the first of `ids` that no fixer has.
void require_known(const std::vector<std::string>& ids);

// The fixers named in `ids`, in table order; an unknown id is a UsageError.
std::vector<std::unique_ptr<Fixer>> select_fixers(const std::vector<std::string>& ids,
                                                  const FixerSettings& settings = {});

std::unique_ptr<Fixer> make_rtc_utc();
std::unique_ptr<Fixer> make_rdp();
std::unique_ptr<Fixer> make_autologon();
std::unique_ptr<Fixer> make_pagefile();
std::unique_ptr<Fixer> make_network_dhcp_windows();
std::unique_ptr<Fixer> make_network_dhcp_linux();
std::unique_ptr<Fixer> make_vmware_tools_windows();
std::unique_ptr<Fixer> make_vmware_tools_linux();
std::unique_ptr<Fixer> make_unattend(const FixerSettings& settings);
std::unique_ptr<Fixer> make_gpt_to_mbr();
std::unique_ptr<Fixer> make_efi_fallback();
std::unique_ptr<Fixer> make_fstab();
std::unique_ptr<Fixer> make_grub();
std::unique_ptr<Fixer> make_initramfs();
std::unique_ptr<Fixer> make_san_policy();
std::unique_ptr<Fixer> make_fast_startup();

}  // namespace vmfix::fixers

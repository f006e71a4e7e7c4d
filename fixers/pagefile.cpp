// pagefile: a system-managed pagefile can grow to 16 GB during the AWS import; give it a fixed
// size on C: instead. An explicit size the user chose is kept.
#include <fmt/core.h>

#include <algorithm>
#include <cstdlib>

#include "fixers/hive_fixer.h"
#include "fixers/table.h"
#include "registry/guest_hive.h"
#include "support/text.h"

namespace vmfix::fixers {

namespace {

constexpr int kFixedMiB = 2048;

// "C:\pagefile.sys 1024 4096" has an explicit size; "?:\pagefile.sys", "C:\pagefile.sys" and
// "C:\pagefile.sys 0 0" are managed by the system.
bool system_managed(const std::string& entry) {
  std::string_view text = trim(entry);
  if (text.starts_with("?:")) return true;
  size_t space = text.find(' ');
  if (space == std::string_view::npos) return true;
  std::string sizes(trim(text.substr(space + 1)));
  char* end = nullptr;
  long initial = std::strtol(sizes.c_str(), &end, 10);
  long maximum = std::strtol(end, nullptr, 10);
  return initial == 0 && maximum == 0;
}

std::vector<RegistryEdit> plan(registry::Hive& system, const inspect::Facts&) {
  std::vector<RegistryEdit> edits;
  for (const std::string& set : registry::selected_control_sets(system)) {
    const std::string key = set + "\\Control\\Session Manager\\Memory Management";
    auto node = system.find(key);
    if (!node) continue;
    auto paging = system.value(*node, "PagingFiles");
    if (!paging) continue;
    auto entries = registry::as_multi_string(*paging);
    if (entries.empty() || std::none_of(entries.begin(), entries.end(), system_managed)) continue;
    plan_value(
        system, key,
        registry::make_multi_string("PagingFiles", {fmt::format("C:\\pagefile.sys {} {}", kFixedMiB, kFixedMiB)}),
        edits);
  }
  return edits;
}

// The README's fixer table (scripts/fixer-table.sh).
constexpr const char* kChecks = "`Memory Management\\PagingFiles`";
constexpr const char* kChanges =
    "a system-managed pagefile (`?:\\pagefile.sys`, `C:\\pagefile.sys 0 0`) becomes `C:\\pagefile.sys "
    "2048 2048` in every selected control set; an explicit size is kept";

}  // namespace

std::unique_ptr<Fixer> make_pagefile() {
  return make_hive_fixer({"pagefile",
                          "Windows: a system-managed pagefile becomes a fixed 2 GiB one on C:",
                          "windows-pagefile",
                          "the pagefile has a fixed size (a system-managed one can grow to 16 GB on import)",
                          {{WindowsHive::system, plan}}},
                         kChecks, kChanges);
}

}  // namespace vmfix::fixers

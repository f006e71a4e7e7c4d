// autologon: an image that logs itself on, with a password stored in clear, must not become an
// instance anyone can reach.
#include "fixers/hive_fixer.h"
#include "fixers/table.h"

namespace vmfix::fixers {

namespace {

constexpr const char* kWinlogon = "Microsoft\\Windows NT\\CurrentVersion\\Winlogon";

std::vector<RegistryEdit> plan(registry::Hive& software, const inspect::Facts&) {
  std::vector<RegistryEdit> edits;
  auto node = software.find(kWinlogon);
  if (!node) return edits;
  auto current = software.value(*node, "AutoAdminLogon");
  auto text = current ? registry::as_string(*current) : std::nullopt;
  if (text && *text != "0") plan_value(software, kWinlogon, registry::make_string("AutoAdminLogon", "0"), edits);
  plan_delete(software, kWinlogon, "DefaultPassword", edits);
  return edits;
}

// The README's fixer table (scripts/fixer-table.sh).
constexpr const char* kChecks = "`Winlogon\\AutoAdminLogon`, `DefaultPassword`";
constexpr const char* kChanges = "`AutoAdminLogon` \"0\", `DefaultPassword` deleted";

}  // namespace

std::unique_ptr<Fixer> make_autologon() {
  return make_hive_fixer({"autologon",
                          "Windows: turn automatic logon off and remove the stored password",
                          "windows-autologon",
                          "automatic logon is off and no password is stored in the registry",
                          {{WindowsHive::software, plan}}},
                         kChecks, kChanges);
}

}  // namespace vmfix::fixers

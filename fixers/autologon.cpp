// autologon: an image that logs itself on, with a password stored in clear, must not become an
// instance anyone can reach.
#include "fixers/registry.h"
#include "fixers/registry_edits.h"

namespace vmfix::fixers {

namespace {

constexpr const char* kWinlogon = "Microsoft\\Windows NT\\CurrentVersion\\Winlogon";

std::vector<RegistryEdit> plan(registry::Hive& software) {
  std::vector<RegistryEdit> edits;
  auto node = software.find(kWinlogon);
  if (!node) return edits;
  auto current = software.value(*node, "AutoAdminLogon");
  auto text = current ? registry::as_string(*current) : std::nullopt;
  if (text && *text != "0") plan_value(software, kWinlogon, registry::make_string("AutoAdminLogon", "0"), edits);
  plan_delete(software, kWinlogon, "DefaultPassword", edits);
  return edits;
}

class Autologon : public Fixer {
 public:
  std::string_view id() const override { return "autologon"; }
  std::string_view summary() const override { return "Windows: turn automatic logon off and remove the stored password"; }
  bool applies(const inspect::Facts& facts) const override { return facts.os_type == "windows"; }
  std::vector<Finding> check(guest::Guest& guest, const inspect::Facts& facts) override {
    return check_registry(guest, facts, WindowsHive::software, "windows-autologon", "warning",
                          "automatic logon is off and no password is stored in the registry", plan);
  }
  std::vector<Change> fix(guest::Guest& guest, const inspect::Facts& facts) override {
    return fix_registry(guest, facts, WindowsHive::software, std::string(id()), plan);
  }
};

}  // namespace

std::unique_ptr<Fixer> make_autologon() { return std::make_unique<Autologon>(); }

}  // namespace vmfix::fixers

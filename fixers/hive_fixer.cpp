#include "fixers/hive_fixer.h"

#include <fmt/core.h>

#include "registry/guest_hive.h"

namespace vmfix::fixers {

using registry::describe;

namespace {
// Reports and logs never carry a password, even the one being removed.
std::string shown(const std::string& name, const std::optional<registry::Value>& value) {
  if (value && name.find("Password") != std::string::npos) return "(a password, hidden)";
  return describe(value);
}
}  // namespace

void plan_value(registry::Hive& hive, const std::string& key, const registry::Value& value,
                std::vector<RegistryEdit>& edits) {
  std::optional<registry::Value> before;
  if (auto node = hive.find(key)) before = hive.value(*node, value.name);
  if (before && before->type == value.type && before->data == value.data) return;
  edits.push_back({key, value.name, before, value});
}

void plan_delete(registry::Hive& hive, const std::string& key, const std::string& name,
                 std::vector<RegistryEdit>& edits) {
  auto node = hive.find(key);
  if (!node) return;
  if (auto before = hive.value(*node, name)) edits.push_back({key, name, before, std::nullopt});
}

std::string hive_path(guest::Guest& guest, const inspect::Facts& facts, WindowsHive which) {
  return guest.resolve_case(facts.windows_systemroot + "/System32/config/" +
                            (which == WindowsHive::system ? "SYSTEM" : "SOFTWARE"));
}

std::string full_key(WindowsHive which, const std::string& key, const std::string& name) {
  return fmt::format("HKLM\\{}\\{}\\{}", which == WindowsHive::system ? "SYSTEM" : "SOFTWARE", key, name);
}

namespace {

class HiveFixer : public Fixer {
 public:
  HiveFixer(HiveFixerSpec spec, std::string checks, std::string changes)
      : spec_(std::move(spec)), checks_(std::move(checks)), changes_(std::move(changes)) {}
  std::string_view id() const override { return spec_.id; }
  std::string_view summary() const override { return spec_.summary; }
  std::vector<FixerDoc> documentation() const override { return {{spec_.id, "", checks_, changes_}}; }
  std::vector<std::string> rules() const override { return {spec_.rule}; }
  bool applies(const inspect::Facts& facts) const override { return facts.os_type == "windows"; }

  std::vector<Finding> check(guest::Guest& guest, const inspect::Facts& facts) override {
    std::vector<Finding> findings;
    for (const HivePlan& plan : spec_.plans) {
      registry::GuestHive hive(guest, hive_path(guest, facts, plan.hive), true);  // reading a dirty hive is fine
      for (const RegistryEdit& edit : plan.plan(hive.hive(), facts))
        findings.push_back({spec_.rule, Status::fail, spec_.message,
                            fmt::format("{} is {}, should be {}", full_key(plan.hive, edit.key, edit.name),
                                        shown(edit.name, edit.before), shown(edit.name, edit.after))});
    }
    if (findings.empty()) findings.push_back({spec_.rule, Status::pass, spec_.message, ""});
    return findings;
  }

  std::vector<Change> fix(guest::Guest& guest, const inspect::Facts& facts) override {
    std::vector<Change> changes;
    for (const HivePlan& plan : spec_.plans) {
      registry::GuestHive hive(guest, hive_path(guest, facts, plan.hive));
      auto edits = plan.plan(hive.hive(), facts);
      for (const RegistryEdit& edit : edits) {
        registry::Node node = hive.hive().create(edit.key);
        if (edit.after)
          hive.hive().set_value(node, *edit.after);
        else
          hive.hive().delete_value(node, edit.name);
        changes.push_back({spec_.id, full_key(plan.hive, edit.key, edit.name), shown(edit.name, edit.before),
                           shown(edit.name, edit.after), ""});
      }
      if (!edits.empty()) hive.save();
    }
    return changes;
  }

 private:
  HiveFixerSpec spec_;
  std::string checks_, changes_;
};

}  // namespace

std::unique_ptr<Fixer> make_hive_fixer(HiveFixerSpec spec, std::string checks, std::string changes) {
  return std::make_unique<HiveFixer>(std::move(spec), std::move(checks), std::move(changes));
}

}  // namespace vmfix::fixers

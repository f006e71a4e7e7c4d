#pragma once
// The one mechanism every registry fixer uses: a fixer plans edits against an open hive (pure,
// testable), check() reports the plan as findings, fix() applies it and saves the hive once.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fixers/fixer.h"
#include "registry/hive.h"

namespace vmfix::fixers {

struct RegistryEdit {
  std::string key;                        // relative to the hive root
  std::string name;                       // value name
  std::optional<registry::Value> before;  // what is there now
  std::optional<registry::Value> after;   // nullopt: delete the value
};

enum class WindowsHive { system, software };

// Plans against the live hive; the facts are the inspection's (what the other hive said, say).
using Planner = std::function<std::vector<RegistryEdit>(registry::Hive&, const inspect::Facts&)>;

// Sets `value` under `key` unless it is already there, byte for byte.
void plan_value(registry::Hive& hive, const std::string& key, const registry::Value& value,
                std::vector<RegistryEdit>& edits);
void plan_delete(registry::Hive& hive, const std::string& key, const std::string& name,
                 std::vector<RegistryEdit>& edits);

std::string hive_path(guest::Guest& guest, const inspect::Facts& facts, WindowsHive which);
std::string full_key(WindowsHive which, const std::string& key, const std::string& name);

// A Windows registry fixer is its plan and a few words: check() reports the plan as findings
// (one failing finding per edit, or one passing), fix() applies it and saves the hive once.
struct HivePlan {
  WindowsHive hive;
  Planner plan;
};

struct HiveFixerSpec {
  std::string id;
  std::string summary;
  std::string rule;
  std::string message;
  std::vector<HivePlan> plans;  // one per hive it edits, each hive saved once
};
// `checks` and `changes`: its row of the README's fixer table.
std::unique_ptr<Fixer> make_hive_fixer(HiveFixerSpec spec, std::string checks, std::string changes);

}  // namespace vmfix::fixers

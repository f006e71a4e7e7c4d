#include "registry/guest_hive.h"

#include <fmt/core.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstring>

#include "support/error.h"

namespace vmfix::registry {

HiveHealth hive_health(std::string_view base_block, guest::Guest& guest, const std::string& hive_path) {
  HiveHealth health;
  if (base_block.size() >= 12) {
    uint32_t primary, secondary;
    std::memcpy(&primary, base_block.data() + 4, 4);
    std::memcpy(&secondary, base_block.data() + 8, 4);
    health.dirty = primary != secondary;
  }
  for (const char* suffix : {".LOG", ".LOG1", ".LOG2"}) {
    const std::string log = guest.resolve_case(hive_path + suffix);
    auto info = guest.stat(log);
    if (info && info->kind == guest::FileInfo::Kind::file && info->size > 0) health.logs.push_back(log);
  }
  return health;
}

GuestHive::GuestHive(guest::Guest& guest, std::string path, bool allow_dirty) : guest_(guest), path_(std::move(path)) {
  const auto local = scratch_.path() / "hive";
  guest_.download(path_, local.string());
  HiveHealth health = hive_health(read_host_bytes(local, 0, 512), guest_, path_);
  if (health.dirty && !health.logs.empty() && !allow_dirty)
    throw BadInput(
        fmt::format("{}: the hive is dirty and Windows would replay {} at boot, undoing offline edits; "
                    "shut the VM down cleanly (not hibernate/fast startup) and export again, or force",
                    path_, fmt::join(health.logs, " and ")));
  hive_ = std::make_unique<Hive>(local, Hive::Mode::writable);
}

void GuestHive::save() {
  const auto committed = scratch_.path() / "hive.new";
  hive_->commit(committed);
  {
    Hive verify(committed, Hive::Mode::read_only);
    verify.root();
  }  // reopen: hivex must accept what it wrote
  guest_.upload(committed.string(), path_);
}

std::vector<std::string> selected_control_sets(Hive& system) {
  std::vector<std::string> sets;
  auto select = system.find("Select");
  if (!select) throw HiveError(fmt::format("{}: no Select key; not a SYSTEM hive", system.path().string()));
  for (const char* name : {"Current", "Default", "LastKnownGood"}) {
    auto value = system.value(*select, name);
    auto number = value ? as_dword(*value) : std::nullopt;
    if (!number || *number == 0 || *number > 999) continue;
    std::string set = fmt::format("ControlSet{:03}", *number);
    if (std::find(sets.begin(), sets.end(), set) == sets.end() && system.find(set)) sets.push_back(set);
  }
  if (sets.empty()) throw HiveError(fmt::format("{}: Select names no existing control set", system.path().string()));
  return sets;
}

std::string describe(const std::optional<Value>& value) {
  if (!value) return "(absent)";
  if (auto number = as_dword(*value)) return fmt::format("dword:{}", *number);
  if (auto number = as_qword(*value)) return fmt::format("qword:{}", *number);
  if (auto text = as_string(*value))
    return fmt::format("{}:\"{}\"", value->type == kRegExpandSz ? "expand_sz" : "sz", *text);
  if (value->type == kRegMultiSz) return fmt::format("multi_sz:[{}]", fmt::join(as_multi_string(*value), ", "));
  return fmt::format("type {}, {} bytes", value->type, value->data.size());
}

}  // namespace vmfix::registry

// san-policy: Windows Server keeps disks it has not seen before offline ("offline shared", the
// server default SAN policy), so the data disks of a multi-disk import come up offline on EC2 and
// their drive letters are missing. SanPolicy 1 (OnlineAll) brings every disk online.
#include "fixers/hive_fixer.h"
#include "fixers/table.h"
#include "registry/guest_hive.h"

namespace vmfix::fixers {

namespace {

constexpr uint32_t kOnlineAll = 1;

std::vector<RegistryEdit> plan(registry::Hive& system, const inspect::Facts&) {
  std::vector<RegistryEdit> edits;
  for (const std::string& set : registry::selected_control_sets(system))
    plan_value(system, set + "\\Services\\partmgr\\Parameters", registry::make_dword("SanPolicy", kOnlineAll), edits);
  return edits;
}

// The README's fixer table (scripts/fixer-table.sh).
constexpr const char* kChecks =
    "`Services\\partmgr\\Parameters\\SanPolicy` (1 OnlineAll, 2 OfflineShared, 3 OfflineAll, 4 OfflineInternal; "
    "absent is the edition's default, OfflineShared on servers)";
constexpr const char* kChanges = "sets DWORD 1 (OnlineAll) in every selected control set";

}  // namespace

std::unique_ptr<Fixer> make_san_policy() {
  return make_hive_fixer({"san-policy",
                          "Windows: SanPolicy 1 (OnlineAll), so every disk comes online on EC2",
                          "windows-san-policy",
                          "every disk comes online at boot (SAN policy OnlineAll)",
                          {{WindowsHive::system, plan}}},
                         kChecks, kChanges);
}

}  // namespace vmfix::fixers

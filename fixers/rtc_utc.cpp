// rtc-utc: EC2 presents the hardware clock in UTC; Windows assumes local time unless told.
#include "fixers/hive_fixer.h"
#include "fixers/table.h"
#include "registry/guest_hive.h"

namespace vmfix::fixers {

namespace {

std::vector<RegistryEdit> plan(registry::Hive& system, const inspect::Facts&) {
  std::vector<RegistryEdit> edits;
  for (const std::string& set : registry::selected_control_sets(system))
    plan_value(system, set + "\\Control\\TimeZoneInformation", registry::make_dword("RealTimeIsUniversal", 1), edits);
  return edits;
}

// The README's fixer table (scripts/fixer-table.sh).
constexpr const char* kChecks = "`Control\\TimeZoneInformation\\RealTimeIsUniversal`";
constexpr const char* kChanges = "sets DWORD 1 in every selected control set";

}  // namespace

std::unique_ptr<Fixer> make_rtc_utc() {
  return make_hive_fixer({"rtc-utc",
                          "Windows: RealTimeIsUniversal=1, the clock EC2 gives is UTC",
                          "windows-rtc-utc",
                          "the hardware clock is read as UTC (RealTimeIsUniversal)",
                          {{WindowsHive::system, plan}}},
                         kChecks, kChanges);
}

}  // namespace vmfix::fixers

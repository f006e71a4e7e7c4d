// rtc-utc: EC2 presents the hardware clock in UTC; Windows assumes local time unless told.
#include "fixers/registry.h"
#include "fixers/registry_edits.h"
#include "registry/guest_hive.h"

namespace vmfix::fixers {

namespace {

std::vector<RegistryEdit> plan(registry::Hive& system) {
  std::vector<RegistryEdit> edits;
  for (const std::string& set : registry::selected_control_sets(system))
    plan_value(system, set + "\\Control\\TimeZoneInformation", registry::make_dword("RealTimeIsUniversal", 1), edits);
  return edits;
}

class RtcUtc : public Fixer {
 public:
  std::string_view id() const override { return "rtc-utc"; }
  std::string_view summary() const override { return "Windows: RealTimeIsUniversal=1, the clock EC2 gives is UTC"; }
  bool applies(const inspect::Facts& facts) const override { return facts.os_type == "windows"; }
  std::vector<Finding> check(guest::Guest& guest, const inspect::Facts& facts) override {
    return check_registry(guest, facts, WindowsHive::system, "windows-rtc-utc", "warning",
                          "the hardware clock is read as UTC (RealTimeIsUniversal)", plan);
  }
  std::vector<Change> fix(guest::Guest& guest, const inspect::Facts& facts) override {
    return fix_registry(guest, facts, WindowsHive::system, std::string(id()), plan);
  }
};

}  // namespace

std::unique_ptr<Fixer> make_rtc_utc() { return std::make_unique<RtcUtc>(); }

}  // namespace vmfix::fixers

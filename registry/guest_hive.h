#pragma once
// Editing a hive that lives inside the guest: downloaded, checked, edited on the host with hivex,
// committed to a temporary file, reopened to verify, then uploaded over the original. The guest's
// hive is never left half written.
#include <memory>
#include <string>
#include <vector>

#include "guest/guest.h"
#include "registry/hive.h"
#include "support/files.h"

namespace vmfix::registry {

// The base block's two sequence numbers differ when Windows did not finish writing the hive;
// it then replays the transaction logs (.LOG1/.LOG2) at boot, which can undo offline edits.
struct HiveHealth {
  bool dirty = false;
  std::vector<std::string> logs;  // non-empty log files beside the hive (guest paths)
};
HiveHealth hive_health(std::string_view base_block, guest::Guest& guest, const std::string& hive_path);

class GuestHive {
 public:
  // Throws BadInput when the hive is dirty with logs beside it, unless `allow_dirty`.
  GuestHive(guest::Guest& guest, std::string path, bool allow_dirty = false);
  const std::string& path() const { return path_; }
  Hive& hive() { return *hive_; }
  // Commits, verifies by reopening, uploads. Call only when something changed.
  void save();

 private:
  guest::Guest& guest_;
  std::string path_;
  TempDir scratch_{"vmfix-hive"};
  std::unique_ptr<Hive> hive_;
};

// The control sets Select names (Current, Default, LastKnownGood), each once, those that exist:
// a service edit must land in all of them or a fallback boot undoes it.
std::vector<std::string> selected_control_sets(Hive& system);

// "dword:1", "sz:\"text\"", "multi_sz:[a, b]", "(absent)": how values appear in change lists.
std::string describe(const std::optional<Value>& value);

}  // namespace vmfix::registry

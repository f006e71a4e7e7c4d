// fast-startup: with Fast Startup (HiberbootEnabled) a Windows "shutdown" hibernates the kernel
// session and leaves NTFS marked in use: the next export of this VM is a hibernated volume that
// neither vmfix nor the importer may write. Fast Startup and hibernation off make every shutdown
// a full one. A volume that is hibernated now is the shut-down rule's blocker, not this fixer's.
#include "fixers/hive_fixer.h"
#include "fixers/table.h"
#include "registry/guest_hive.h"

namespace vmfix::fixers {

namespace {

std::vector<RegistryEdit> plan(registry::Hive& system, const inspect::Facts&) {
  std::vector<RegistryEdit> edits;
  for (const std::string& set : registry::selected_control_sets(system)) {
    plan_value(system, set + "\\Control\\Session Manager\\Power", registry::make_dword("HiberbootEnabled", 0), edits);
    // What `powercfg /hibernate off` sets; Windows removes hiberfil.sys at the next boot.
    plan_value(system, set + "\\Control\\Power", registry::make_dword("HibernateEnabled", 0), edits);
  }
  return edits;
}

// The README's fixer table (scripts/fixer-table.sh).
constexpr const char* kChecks =
    "`Control\\Session Manager\\Power\\HiberbootEnabled`, `Control\\Power\\HibernateEnabled`";
constexpr const char* kChanges = "sets both DWORDs to 0 in every selected control set (as `powercfg /h off`)";

}  // namespace

std::unique_ptr<Fixer> make_fast_startup() {
  return make_hive_fixer({"fast-startup",
                          "Windows: Fast Startup and hibernation off, so the next shutdown leaves NTFS clean",
                          "windows-fast-startup",
                          "Fast Startup and hibernation are off: a shutdown leaves the volume clean",
                          {{WindowsHive::system, plan}}},
                         kChecks, kChanges);
}

}  // namespace vmfix::fixers

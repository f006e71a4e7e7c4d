#include "tests/unit/windows_guest.h"

#include "fixtures/fixture.h"
#include "inspect/windows.h"
#include "registry/empty_hive.h"
#include "registry/reg_text.h"

namespace vmfix::test {

namespace fs = std::filesystem;

void WindowsGuest::SetUp() {
  for (const auto& spec : fixtures::find_fixture("win2012r2-vmware").hives) {
    const fs::path file = scratch_.path() / "hive";
    write_host_file_atomic(file, registry::empty_hive());
    {
      registry::Hive hive(file, registry::Hive::Mode::writable);
      registry::merge_reg(hive, spec.reg, spec.prefix);
      hive.commit(file);
    }
    guest_.add_file(spec.path, read_host_file(file));
  }
  facts_.os_type = "windows";
  facts_.windows_systemroot = "/Windows";
  facts_.arch = "x86_64";
  inspect_hives();
}

void WindowsGuest::inspect_hives() {
  const fs::path system_file = scratch_.path() / "system", software_file = scratch_.path() / "software";
  guest_.download("/Windows/System32/config/SYSTEM", system_file.string());
  guest_.download("/Windows/System32/config/SOFTWARE", software_file.string());
  registry::Hive system(system_file, registry::Hive::Mode::read_only);
  registry::Hive software(software_file, registry::Hive::Mode::read_only);
  facts_.windows = inspect::read_windows_facts(system, inspect::resolve_current_control_set(system), &software);
}

void WindowsGuest::edit_hive(const std::string& hive_name, const std::string& reg) {
  const std::string path = "/Windows/System32/config/" + hive_name;
  const fs::path file = scratch_.path() / "edit";
  guest_.download(path, file.string());
  {
    registry::Hive hive(file, registry::Hive::Mode::writable);
    registry::merge_reg(hive, reg, "HKEY_LOCAL_MACHINE\\" + hive_name);
    hive.commit(file);
  }
  guest_.add_file(path, read_host_file(file));
  inspect_hives();
}

registry::Value WindowsGuest::value(const std::string& hive_name, const std::string& key, const std::string& name) {
  const fs::path file = scratch_.path() / "read";
  guest_.download("/Windows/System32/config/" + hive_name, file.string());
  registry::Hive hive(file, registry::Hive::Mode::read_only);
  auto node = hive.find(key);
  if (!node) return {};
  return hive.value(*node, name).value_or(registry::Value{});
}

std::vector<std::string> WindowsGuest::failing(fixers::Fixer& fixer) {
  std::vector<std::string> evidence;
  for (const fixers::Finding& finding : fixer.check(guest_, facts_))
    if (finding.status == fixers::Status::fail) evidence.push_back(finding.evidence);
  return evidence;
}

void WindowsGuest::expect_fixed_once(fixers::Fixer& fixer) {
  SCOPED_TRACE(std::string(fixer.id()));
  ASSERT_TRUE(fixer.applies(facts_));
  EXPECT_FALSE(failing(fixer).empty()) << "the fixture was built with this problem";
  const auto changes = fixer.fix(guest_, facts_);
  EXPECT_FALSE(changes.empty());
  for (const fixers::Change& change : changes) EXPECT_EQ(change.fixer, fixer.id());
  EXPECT_TRUE(failing(fixer).empty());
  EXPECT_TRUE(fixer.fix(guest_, facts_).empty()) << "a second run changed something";
}

}  // namespace vmfix::test

// The Windows registry fixers on the corpus's real hives (virt-v2v's test data: a SYSTEM hive and
// the SOFTWARE hives of Windows 7, 10, 11, Server 2022 and 2025): each fixer's check fails, its fix
// writes what it says, the check passes, and a second fix changes nothing, on every release.
#include <gtest/gtest.h>

#include "fixers/table.h"
#include "guest/fake_guest.h"
#include "inspect/windows.h"
#include "registry/empty_hive.h"
#include "registry/reg_text.h"
#include "registry/values.h"
#include "support/files.h"
#include "tests/test_support.h"

namespace vmfix::fixers {
namespace {

namespace fs = std::filesystem;
using registry::Hive;

class CorpusWindows : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    auto corpus = test::corpus_dir();
    if (!corpus) GTEST_SKIP() << "../shared/corpus is absent";
    const fs::path phony = *corpus / "hives/virt-v2v-phony";
    add_hive("SYSTEM", read_host_file(phony / "windows-system.reg"));
    add_hive("SOFTWARE", read_host_file(phony / GetParam()));
    facts_.os_type = "windows";
    facts_.windows_systemroot = "/Windows";
    const fs::path system = scratch_.path() / "read-system", software = scratch_.path() / "read-software";
    guest_.download("/Windows/System32/config/SYSTEM", system.string());
    guest_.download("/Windows/System32/config/SOFTWARE", software.string());
    Hive system_hive(system, Hive::Mode::read_only), software_hive(software, Hive::Mode::read_only);
    facts_.windows = inspect::read_windows_facts(system_hive, "ControlSet001", &software_hive);
  }
  void add_hive(const std::string& name, const std::string& reg) {
    const fs::path file = scratch_.path() / name;
    write_host_file_atomic(file, registry::empty_hive(name));
    {
      Hive hive(file, Hive::Mode::writable);
      registry::merge_reg(hive, reg, "HKEY_LOCAL_MACHINE\\" + name);
      hive.commit(file);
    }
    guest_.add_file("/Windows/System32/config/" + name, read_host_file(file));
  }
  std::optional<uint32_t> dword(const std::string& key, const std::string& name) {
    const fs::path file = scratch_.path() / "check";
    guest_.download("/Windows/System32/config/SYSTEM", file.string());
    Hive hive(file, Hive::Mode::read_only);
    auto node = hive.find(key);
    auto value = node ? hive.value(*node, name) : std::nullopt;
    return value ? registry::as_dword(*value) : std::nullopt;
  }
  // The contract, with the changes' targets returned for the caller to look at.
  std::vector<std::string> fixed_once(const char* id) {
    std::unique_ptr<Fixer> fixer;
    for (auto& candidate : all_fixers())
      if (candidate->id() == id) fixer = std::move(candidate);
    EXPECT_TRUE(fixer && fixer->applies(facts_)) << id;
    if (!fixer) return {};
    EXPECT_EQ(fixer->check(guest_, facts_).front().status, Status::fail) << id << " before";
    std::vector<std::string> targets;
    for (const Change& change : fixer->fix(guest_, facts_)) targets.push_back(change.target);
    EXPECT_FALSE(targets.empty()) << id;
    for (const Finding& finding : fixer->check(guest_, facts_)) EXPECT_EQ(finding.status, Status::pass) << id;
    EXPECT_TRUE(fixer->fix(guest_, facts_).empty()) << id << ": a second run changed something";
    return targets;
  }

  TempDir scratch_{"vmfix-corpus-windows"};
  guest::FakeGuest guest_;
  inspect::Facts facts_;
};

TEST_P(CorpusWindows, SanPolicyFastStartupAndTheClockOnARealHive) {
  // The real SYSTEM hive says nothing of any of them: the edition's defaults apply.
  EXPECT_FALSE(dword("ControlSet001\\Services\\partmgr\\Parameters", "SanPolicy"));
  EXPECT_EQ(fixed_once("san-policy"),
            std::vector<std::string>{"HKLM\\SYSTEM\\ControlSet001\\Services\\partmgr\\Parameters\\SanPolicy"});
  EXPECT_EQ(dword("ControlSet001\\Services\\partmgr\\Parameters", "SanPolicy"), 1u);
  EXPECT_EQ(fixed_once("fast-startup").size(), 2u);
  EXPECT_EQ(dword("ControlSet001\\Control\\Session Manager\\Power", "HiberbootEnabled"), 0u);
  EXPECT_EQ(dword("ControlSet001\\Control\\Power", "HibernateEnabled"), 0u);
  EXPECT_EQ(fixed_once("rtc-utc").size(), 1u);
  EXPECT_EQ(dword("ControlSet001\\Control\\TimeZoneInformation", "RealTimeIsUniversal"), 1u);
  // The untouched rest of the hive reads as before.
  EXPECT_EQ(dword("Select", "Current"), 1u);
}

INSTANTIATE_TEST_SUITE_P(Releases, CorpusWindows,
                         ::testing::Values("win7-32-software.reg", "win10-software.reg", "win11-software.reg",
                                           "win2k22-software.reg", "win2k25-software.reg"));

}  // namespace
}  // namespace vmfix::fixers

// The Windows registry fixers together on the Windows fixture's real hives: each fails its check,
// fixes, passes and then changes nothing; a dirty hive is refused; none of them is for Linux.
// What each one writes is in its own test file.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "fixers/table.h"
#include "fixtures/fixture.h"
#include "guest/fake_guest.h"
#include "image/ovf.h"
#include "registry/empty_hive.h"
#include "registry/guest_hive.h"
#include "registry/reg_text.h"
#include "rules/profile.h"
#include "support/files.h"
#include "tests/unit/windows_guest.h"

namespace vmfix::fixers {
namespace fs = std::filesystem;

namespace {

// Whether a fixer works on Windows guests, from what it declares: a Windows half of an OS pair
// (by_os.h), or a rule it answers that the default profile gives to Windows guests.
bool for_windows(const Fixer& fixer) {
  for (const FixerDoc& row : fixer.documentation())
    if (row.os == "Windows") return true;
  const auto answered = fixer.rules();
  for (const rules::Rule& rule : rules::load_profile("aws-current").rules)
    if (rule.os == "windows" && std::find(answered.begin(), answered.end(), rule.id) != answered.end()) return true;
  return false;
}

// ... and on Linux guests: the Linux half of a pair.
bool paired_with_linux(const Fixer& fixer) {
  for (const FixerDoc& row : fixer.documentation())
    if (row.os == "Linux") return true;
  return false;
}

using WindowsFixers = test::WindowsGuest;

}  // namespace

TEST_F(WindowsFixers, EveryFixerChecksFixesAndIsIdempotent) {
  const std::string before_stornvme = value("SYSTEM", "ControlSet001\\Services\\stornvme", "Start").data;
  for (auto& fixer : all_fixers()) {
    SCOPED_TRACE(std::string(fixer->id()));
    if (!for_windows(*fixer)) {  // Linux only, or for a disk this is not (gpt-to-mbr: the fixture is MBR)
      EXPECT_FALSE(fixer->applies(facts_));
      continue;
    }
    ASSERT_TRUE(fixer->applies(facts_));
    EXPECT_FALSE(failing(*fixer).empty()) << "the fixture was built with this problem";
    auto changes = fixer->fix(guest_, facts_);
    EXPECT_FALSE(changes.empty());
    for (const Change& change : changes) EXPECT_EQ(change.fixer, fixer->id());
    EXPECT_TRUE(failing(*fixer).empty());
    EXPECT_TRUE(fixer->fix(guest_, facts_).empty()) << "a second run changed something";
  }
  // What each fixer writes is shown in its own test (rtc_utc_test.cpp, rdp_test.cpp, ...); here,
  // that together they leave the storage driver EC2 boots from alone.
  EXPECT_EQ(value("SYSTEM", "ControlSet001\\Services\\stornvme", "Start").data, before_stornvme);
}

TEST_F(WindowsFixers, DirtyHiveWithLogsIsRefusedForEditing) {
  std::string system = guest_.read("/Windows/System32/config/SYSTEM");
  system[8] = static_cast<char>(system[8] + 1);  // secondary sequence number differs from the primary
  uint32_t checksum = 0;                         // and the base block checksum is made right again
  for (size_t at = 0; at < 508; at += 4) {
    uint32_t word;
    std::memcpy(&word, system.data() + at, 4);
    checksum ^= word;
  }
  std::memcpy(system.data() + 508, &checksum, 4);
  guest_.write("/Windows/System32/config/SYSTEM", system);
  guest_.add_file("/Windows/System32/config/SYSTEM.LOG1", std::string(512, 'x'));
  auto rtc = select_fixers({"rtc-utc"});
  EXPECT_FALSE(rtc[0]->check(guest_, facts_).empty());  // reading is fine
  try {
    rtc[0]->fix(guest_, facts_);
    FAIL() << "edited a dirty hive";
  } catch (const BadInput& e) {
    EXPECT_NE(std::string(e.what()).find("SYSTEM.LOG1"), std::string::npos) << e.what();
  }
}

TEST_F(WindowsFixers, NotForLinux) {
  facts_.os_type = "linux";
  int windows_only = 0, pairs = 0;
  for (auto& fixer : all_fixers()) {
    if (paired_with_linux(*fixer)) {
      EXPECT_TRUE(fixer->applies(facts_)) << fixer->id() << ": its Linux half does the work";
      ++pairs;
    } else if (for_windows(*fixer)) {
      EXPECT_FALSE(fixer->applies(facts_)) << fixer->id();
      ++windows_only;
    }
  }
  EXPECT_GE(windows_only, 1);
  EXPECT_GE(pairs, 1);
  EXPECT_THROW(select_fixers({"rtc-utc", "no-such-fixer"}), UsageError);
}

}  // namespace vmfix::fixers

// The Windows registry fixers on a fake guest holding real hives (built by hivex from the
// Windows fixture's .reg text): check, fix, check again, fix again.
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

class WindowsFixers : public ::testing::Test {
 protected:
  void SetUp() override {
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
  }

  registry::Value value(const std::string& hive_name, const std::string& key, const std::string& name) {
    const fs::path file = scratch_.path() / "read";
    guest_.download("/Windows/System32/config/" + hive_name, file.string());
    registry::Hive hive(file, registry::Hive::Mode::read_only);
    auto node = hive.find(key);
    if (!node) return {};
    return hive.value(*node, name).value_or(registry::Value{});
  }

  std::vector<std::string> failing(Fixer& fixer) {
    std::vector<std::string> evidence;
    for (const Finding& finding : fixer.check(guest_, facts_))
      if (finding.status == Status::fail) evidence.push_back(finding.evidence);
    return evidence;
  }

  TempDir scratch_{"vmfix-winfix-test"};
  guest::FakeGuest guest_;
  inspect::Facts facts_;
};

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
  for (const char* set : {"ControlSet001", "ControlSet002"}) {  // Current and LastKnownGood
    EXPECT_EQ(
        registry::as_dword(value("SYSTEM", std::string(set) + "\\Control\\TimeZoneInformation", "RealTimeIsUniversal")),
        1u);
    EXPECT_EQ(
        registry::as_dword(value("SYSTEM", std::string(set) + "\\Control\\Terminal Server", "fDenyTSConnections")), 0u);
    auto rule = registry::as_string(
        value("SYSTEM", std::string(set) + "\\Services\\SharedAccess\\Parameters\\FirewallPolicy\\FirewallRules",
              "RemoteDesktop-UserMode-In-TCP"));
    ASSERT_TRUE(rule);
    EXPECT_NE(rule->find("|Active=TRUE|"), std::string::npos);
    EXPECT_NE(rule->find("|LPort=3389|"), std::string::npos);  // the rest of the rule is kept
  }
  EXPECT_EQ(registry::as_string(value("SOFTWARE", "Microsoft\\Windows NT\\CurrentVersion\\Winlogon", "AutoAdminLogon")),
            "0");
  EXPECT_EQ(value("SOFTWARE", "Microsoft\\Windows NT\\CurrentVersion\\Winlogon", "DefaultPassword").type,
            registry::kRegNone);
  EXPECT_EQ(
      registry::as_string(value("SOFTWARE", "Microsoft\\Windows NT\\CurrentVersion\\Winlogon", "DefaultUserName")),
      "Administrator");
  EXPECT_EQ(value("SYSTEM", "ControlSet001\\Services\\stornvme", "Start").data, before_stornvme);
  for (const char* set : {"ControlSet001", "ControlSet002"}) {
    const std::string key =
        std::string(set) + "\\Services\\Tcpip\\Parameters\\Interfaces\\{4F1E8A2C-6B3D-4C5E-9A7F-0D2E1B3C4A5F}";
    EXPECT_EQ(registry::as_dword(value("SYSTEM", key, "EnableDHCP")), 1u);
    EXPECT_EQ(value("SYSTEM", key, "IPAddress").type, registry::kRegNone);
    EXPECT_EQ(value("SYSTEM", key, "DefaultGateway").type, registry::kRegNone);
    EXPECT_EQ(registry::as_string(value("SYSTEM", key, "NameServer")), "");
  }
  EXPECT_EQ(registry::as_multi_string(
                value("SYSTEM", "ControlSet002\\Control\\Session Manager\\Memory Management", "PagingFiles")),
            (std::vector<std::string>{"C:\\pagefile.sys 2048 2048"}));
  // vmware-tools: VMware's services off in both control sets, EC2's and Windows' own untouched.
  for (const char* set : {"ControlSet001", "ControlSet002"}) {
    const std::string services = std::string(set) + "\\Services\\";
    for (const char* vmware : {"VMTools", "VGAuthService", "vmci", "vmxnet3ndis6", "VMMemCtl", "vm3dmp", "vmhgfs"})
      EXPECT_EQ(registry::as_dword(value("SYSTEM", services + vmware, "Start")), 4u) << set << " " << vmware;
    EXPECT_EQ(registry::as_dword(value("SYSTEM", services + "stornvme", "Start")), 3u);
    EXPECT_EQ(registry::as_dword(value("SYSTEM", services + "vmbus", "Start")), 0u);
    EXPECT_EQ(registry::as_dword(value("SYSTEM", services + "disk", "Start")), 0u);
    EXPECT_EQ(registry::as_dword(value("SYSTEM", services + "TermService", "Start")), 3u);
  }
  EXPECT_EQ(registry::as_string(
                value("SOFTWARE", "Microsoft\\Windows\\CurrentVersion\\RunOnce", "vmfix-uninstall-vmware-tools")),
            "msiexec.exe /x {9B6F1F2A-3C4D-4E5F-8A7B-6C5D4E3F2A1B} /qn /norestart REBOOT=ReallySuppress");
  // unattend: AWS's answer file for an x64 guest, well-formed.
  const std::string answer = guest_.read("/Windows/Panther/unattend.xml");
  EXPECT_NO_THROW(image::check_answer_file(answer, "unattend.xml"));
  EXPECT_NE(answer.find("processorArchitecture=\"amd64\""), std::string::npos);
  EXPECT_NE(answer.find("<SkipMachineOOBE>true</SkipMachineOOBE>"), std::string::npos);
}

TEST_F(WindowsFixers, UnattendKeepsAnExistingFileUnlessTheUserGivesOneAndThenBacksItUp) {
  guest_.add_file("/Windows/Panther/unattend.xml", "<unattend>the admin's own</unattend>");
  auto keep = make_unattend({});
  EXPECT_TRUE(failing(*keep).empty());
  EXPECT_TRUE(keep->fix(guest_, facts_).empty());
  EXPECT_EQ(guest_.read("/Windows/Panther/unattend.xml"), "<unattend>the admin's own</unattend>");

  FixerSettings settings{std::string("<unattend xmlns=\"urn:schemas-microsoft-com:unattend\"/>"), "mine.xml"};
  auto replace = make_unattend(settings);
  EXPECT_FALSE(failing(*replace).empty());
  auto changes = replace->fix(guest_, facts_);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(guest_.read("/Windows/Panther/unattend.xml"), *settings.unattend_xml);
  EXPECT_EQ(guest_.read("/Windows/Panther/unattend.xml.vmfix-backup"), "<unattend>the admin's own</unattend>");
  EXPECT_TRUE(replace->fix(guest_, facts_).empty());
}

TEST(AnswerFile, MalformedOrHostileFilesAreRefused) {
  EXPECT_THROW(image::check_answer_file("<unattend>", "a.xml"), BadInput);
  EXPECT_THROW(image::check_answer_file("<settings/>", "a.xml"), BadInput);
  EXPECT_THROW(image::check_answer_file(
                   "<!DOCTYPE u [<!ENTITY x SYSTEM \"file:///etc/shadow\">]><unattend>&x;</unattend>", "a.xml"),
               BadInput);
  EXPECT_NO_THROW(image::check_answer_file("<?xml version=\"1.0\"?><unattend/>", "a.xml"));
}

TEST_F(WindowsFixers, PagefileKeepsAnExplicitSizeAndFixesManagedOnes) {
  auto pagefile = select_fixers({"pagefile"});
  auto set_paging = [&](const std::vector<std::string>& entries) {
    const fs::path file = scratch_.path() / "sys";
    guest_.download("/Windows/System32/config/SYSTEM", file.string());
    {
      registry::Hive hive(file, registry::Hive::Mode::writable);
      for (const char* set : {"ControlSet001", "ControlSet002"})
        hive.set_value(hive.create(std::string(set) + "\\Control\\Session Manager\\Memory Management"),
                       registry::make_multi_string("PagingFiles", entries));
      hive.commit(file);
    }
    guest_.upload(file.string(), "/Windows/System32/config/SYSTEM");
  };
  set_paging({"D:\\pagefile.sys 4096 8192"});
  EXPECT_TRUE(pagefile[0]->fix(guest_, facts_).empty()) << "an explicit size was replaced";
  set_paging({"C:\\pagefile.sys 0 0"});
  EXPECT_EQ(pagefile[0]->fix(guest_, facts_).size(), 2u);  // both control sets
  set_paging({"C:\\pagefile.sys"});
  EXPECT_EQ(pagefile[0]->fix(guest_, facts_).size(), 2u);
}

TEST_F(WindowsFixers, PasswordsNeverAppearInChangesOrFindings) {
  auto fixer = select_fixers({"autologon"});
  for (const Finding& finding : fixer[0]->check(guest_, facts_))
    EXPECT_EQ(finding.evidence.find("Fixture-Only-Passw0rd"), std::string::npos) << finding.evidence;
  for (const Change& change : fixer[0]->fix(guest_, facts_)) {
    EXPECT_EQ(change.before.find("Fixture-Only-Passw0rd"), std::string::npos) << change.before;
  }
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

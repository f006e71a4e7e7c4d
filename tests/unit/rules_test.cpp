// The profiles and the rule engine on facts shaped like real guests: no appliance.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>

#include "fixers/table.h"
#include "guest/fake_guest.h"
#include "rules/engine.h"
#include "rules/profile.h"
#include "support/error.h"
#include "tests/test_support.h"

namespace vmfix::rules {
namespace {

Result find(const Evaluation& evaluation, const std::string& id) {  // a copy: evaluations are often temporaries
  for (const Result& result : evaluation.results)
    if (result.rule->id == id) return result;
  throw std::runtime_error("no rule " + id);
}

inspect::Facts linux_facts(const std::string& distro, int major, int minor, const std::string& kernel) {
  inspect::Facts facts;
  facts.os_type = "linux";
  facts.distro = distro;
  facts.major_version = major;
  facts.minor_version = minor;
  facts.arch = "x86_64";
  facts.product_name = distro;
  facts.root_device = "/dev/sda1";
  facts.boot_mode = bootloader::BootMode::bios;
  facts.disks.push_back({"/dev/sda",
                         "disk.img",
                         8ULL << 30,
                         "mbr",
                         {{1, "/dev/sda1", 1 << 20, 8ULL << 30, 8ULL << 30, "0x83", "linux", "", true, "00000000-01"}},
                         {}});
  facts.filesystems.push_back({"/dev/sda1", "ext4", "", "", "/", 8ULL << 30, 4ULL << 30, true});
  facts.mountpoints.push_back({"/", "/dev/sda1"});
  facts.linux.kernels.push_back({kernel, "/boot/vmlinuz-" + kernel, "/boot/initrd.img-" + kernel, true});
  facts.bootloaders.push_back({"grub2", bootloader::BootMode::bios, "/boot/grub/grub.cfg", ""});
  return facts;
}

inspect::Facts windows_facts(const std::string& product, const std::string& edition_id, const std::string& build) {
  inspect::Facts facts;
  facts.os_type = "windows";
  facts.distro = "windows";
  facts.product_name = product;
  facts.arch = "x86_64";
  facts.windows.edition_id = edition_id;
  facts.windows.current_build = build;
  facts.windows.install_language = "0409";
  facts.boot_mode = bootloader::BootMode::bios;
  facts.root_device = "/dev/sda2";
  facts.disks.push_back({"/dev/sda", "disk.vhd", 60ULL << 30, "mbr", {}, {}});
  facts.filesystems.push_back({"/dev/sda2", "ntfs", "", "", "/", 60ULL << 30, 20ULL << 30, std::nullopt});
  return facts;
}

Evaluation run(const std::string& profile, const inspect::Facts& facts,
               ImageFacts image = {"raw", "", "", 1, -1, -1, -1}) {
  return evaluate({load_profile(profile), facts, image, nullptr, {}});
}

std::vector<fixers::Fixer*> pointers(const std::vector<std::unique_ptr<fixers::Fixer>>& owned) {
  std::vector<fixers::Fixer*> list;
  for (const auto& fixer : owned) list.push_back(fixer.get());
  return list;
}

// The GRUB menu linux_facts() names.
void add_menu(guest::FakeGuest& guest) {
  guest.add_file("/boot/grub/grub.cfg", "menuentry 'Debian' {\n  linux /boot/vmlinuz root=UUID=1 ro\n}\n");
}

// The rules on a guest's files, every fixer's check answering the rules it owns; no fixer runs.
Evaluation run_on(const std::string& profile, const inspect::Facts& facts, guest::Guest& guest) {
  static const auto all = fixers::all_fixers();
  return evaluate({load_profile(profile), facts, {"raw", "", "", 1, -1, -1, -1}, &guest, {}, pointers(all)});
}

TEST(Profiles, BothLoadAndEveryRuleIsCheckedFixedOrExplained) {
  EXPECT_EQ(default_profile_name(), "aws-current");
  for (const std::string& name : profile_names()) {
    const Profile& profile = load_profile(name);
    EXPECT_EQ(profile.id, name);
    EXPECT_GE(profile.rules.size(), 50u);
    for (const Rule& rule : profile.rules) {
      SCOPED_TRACE(name + " " + rule.id);
      switch (rule.checker) {
        case Checker::evaluator:
          EXPECT_TRUE(evaluators().count(rule.id));
          break;
        case Checker::fixer:
          EXPECT_FALSE(rule.fixer.empty());
          break;
        case Checker::offline:
          EXPECT_FALSE(rule.offline.empty());
          break;
      }
      EXPECT_FALSE(rule.covers.empty());
      EXPECT_TRUE(!rule.offline.empty() || !rule.reads.empty());
    }
  }
  EXPECT_THROW(load_profile("aws-1999"), UsageError);
}

TEST(Profiles, ParserRefusesRulesThatWouldSilentlyNotRun) {
  const std::string head = R"({"id": "p", "title": "t", "source": "s", "rules": [)";
  auto rule = [](const std::string& id, const std::string& extra) {
    return R"({"id": ")" + id +
           R"(", "area": "os", "title": "t", "severity": "blocker", "os": "any", "covers": "c", "reads": ["f"])" +
           (extra.find("checker") == std::string::npos ? R"(, "checker": "evaluator")" : "") + extra + "}";
  };
  EXPECT_NO_THROW(parse_profile(head + rule("os-single", "") + "]}"));
  EXPECT_THROW(parse_profile(head + rule("no-such-check", "") + "]}"), Error);
  EXPECT_NO_THROW(parse_profile(head + rule("no-such-check", R"(, "checker": "offline", "offline": "why")") + "]}"));
  EXPECT_THROW(parse_profile(head + rule("no-such-check", R"(, "checker": "offline")") + "]}"), Error)
      << "an offline rule gives its reason";
  EXPECT_THROW(parse_profile(head + rule("os-single", R"(, "offline": "why")") + "]}"), Error)
      << "a rule with an evaluator is not offline";
  EXPECT_THROW(parse_profile(head + rule("os-single", R"(, "checker": "somebody")") + "]}"), Error);
  EXPECT_NO_THROW(parse_profile(head + rule("windows-rdp", R"(, "fixer": "rdp", "checker": "fixer")") + "]}"));
  EXPECT_THROW(parse_profile(head + rule("windows-rdp", R"(, "checker": "fixer")") + "]}"), Error)
      << "checked by a fixer it does not name";
  EXPECT_THROW(parse_profile(head + rule("os-single", R"(, "fixer": "rdp", "checker": "fixer")") + "]}"), Error)
      << "rdp does not declare os-single";
  EXPECT_THROW(parse_profile(head + rule("windows-rdp", R"(, "fixer": "rdp")") + "]}"), Error)
      << "no evaluator checks windows-rdp";
  EXPECT_THROW(parse_profile(head + rule("os-single", R"(, "fixer": "no-such-fixer")") + "]}"), Error);
  EXPECT_THROW(parse_profile(head + rule("os-single", "") + "," + rule("os-single", "") + "]}"), Error);
  EXPECT_THROW(
      parse_profile(head + rule("os-single", "").replace(rule("os-single", "").find("blocker"), 7, "fatal") + "]}"),
      Error);
  EXPECT_THROW(parse_profile("{not json"), Error);
}

// aws-2017 is written as aws-current and its differences; a profile may extend a built-in one.
TEST(Profiles, AProfileExtendsABuiltInOneWithItsDifferences) {
  const Profile& current = load_profile("aws-current");
  const Profile& old = load_profile("aws-2017");
  EXPECT_EQ(old.rules.size() + 2, current.rules.size()) << "2017 has no os-deprecated, no linux-efi-fallback";
  std::map<std::string, const Rule*> by_id;
  for (const Rule& rule : current.rules) by_id[rule.id] = &rule;
  for (const Rule& rule : old.rules) {
    ASSERT_TRUE(by_id.count(rule.id)) << rule.id;
    EXPECT_EQ(rule.area, by_id[rule.id]->area) << rule.id;
    EXPECT_EQ(rule.reads, by_id[rule.id]->reads) << rule.id;
  }
  EXPECT_EQ(find(run("aws-2017", linux_facts("debian", 10, 0, "4.19.0-27-amd64")), "linux-fstab").rule->severity,
            Severity::warning);
  EXPECT_EQ(by_id["linux-fstab"]->severity, Severity::blocker);
  EXPECT_EQ(old.limits.value("boot_partitioning", ""), "mbr");
  EXPECT_EQ(old.limits.value("windows_min_free_bytes", 0ULL), current.limits.value("windows_min_free_bytes", 1ULL))
      << "limits are changed key by key";

  const Profile mine = parse_profile(R"({"extends": "aws-current", "id": "mine", "title": "t", "source": "s",
      "limits": {"max_volumes": 3}, "without_rules": ["os-single"], "rules": [{"id": "cdrom", "severity": "info"}]})");
  EXPECT_EQ(mine.id, "mine");
  EXPECT_EQ(mine.rules.size() + 1, current.rules.size());
  EXPECT_EQ(mine.limits.value("max_volumes", 0), 3);
  EXPECT_EQ(mine.limits.value("boot_partitioning", ""), "mbr-or-gpt");
  for (const Rule& rule : mine.rules) {
    EXPECT_NE(rule.id, "os-single");
    if (rule.id != "cdrom") continue;
    EXPECT_EQ(rule.severity, Severity::info);
    EXPECT_EQ(rule.title, by_id["cdrom"]->title);
  }
  EXPECT_THROW(parse_profile(R"({"extends": "aws-1999", "id": "x", "title": "t", "source": "s"})"), Error);
  EXPECT_THROW(parse_profile(R"({"extends": "aws-current", "id": "x", "title": "t", "source": "s",
      "without_rules": ["no-such-rule"]})"),
               Error);
  EXPECT_THROW(parse_profile(R"({"extends": "aws-current", "id": "x", "title": "t", "source": "s",
      "rules": [{"id": "cdrom", "checker": "fixer"}]})"),
               Error)
      << "a change is validated like a rule";
}

// Profile text nesting 100,000 arrays is refused as it is read (the profiles are built in today,
// but parse_profile takes any text): nlohmann::json copies values recursively, and copying such
// a value into the extended profile overflowed the stack.
TEST(Profiles, DeeplyNestedValuesAreRefusedNotCopied) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  try {
    parse_profile(R"({"extends": "aws-current", "id": "x", "title": "t", "source": "s", "notes": )" + deep + "}");
    ADD_FAILURE() << "accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("nested more than 100 levels deep"), std::string::npos) << e.what();
  }
  const std::string fine = std::string(20, '[') + std::string(20, ']');
  EXPECT_NO_THROW(
      parse_profile(R"({"extends": "aws-current", "id": "x", "title": "t", "source": "s", "notes": )" + fine + "}"));
}

// The seed page, item by item, is covered: each "Prepare your VM" and "Limitations" line maps to a rule.
TEST(Profiles, Aws2017CoversTheSeedPage) {
  std::set<std::string> ids;
  for (const Rule& rule : load_profile("aws-2017").rules) ids.insert(rule.id);
  for (const char* id : {"os-supported",
                         "image-format",
                         "instance-type",
                         "boot-partitioning",
                         "root-filesystem",
                         "licensing",
                         "boot-mode",
                         "boot-disk-size",
                         "data-disk-size",
                         "root-on-boot-disk",
                         "volume-count",
                         "ebs-encryption",
                         "image-rdm",
                         "os-architecture",
                         "linux-default-kernel",
                         "free-space",
                         "windows-pagefile",
                         "network-single-nic",
                         "public-ip",
                         "network-ipv6",
                         "image-p2v",
                         "sr-iov",
                         "iam-permissions",
                         "aws-cli",
                         "antivirus",
                         "vmware-tools",
                         "cdrom",
                         "network-dhcp",
                         "shut-down",
                         "windows-rdp",
                         "windows-passwords",
                         "windows-dotnet",
                         "windows-unattend",
                         "windows-autologon",
                         "windows-updates",
                         "windows-hotfixes",
                         "windows-rtc-utc",
                         "linux-ssh",
                         "linux-firewall-ssh",
                         "linux-ssh-user",
                         "linux-grub"})
    EXPECT_TRUE(ids.count(id)) << id;
}

TEST(Versions, RangesAndKernelSeries) {
  EXPECT_TRUE(version_in_range(12, 4, "12.04", "12.04"));
  EXPECT_FALSE(version_in_range(12, 10, "12.04", "12.04"));
  EXPECT_TRUE(version_in_range(7, 9, "7.0", "7.9"));
  EXPECT_FALSE(version_in_range(7, 10, "7.0", "7.9"));
  EXPECT_TRUE(kernel_matches("3.10.0-1160.el7.x86_64", "3.10.0"));
  EXPECT_TRUE(kernel_matches("4.4.73-5-default", "4.4"));
  EXPECT_FALSE(kernel_matches("4.40.1", "4.4"));
  EXPECT_TRUE(kernel_matches("2.6.32-71.el6.x86_64", "2.6.32-71"));
  EXPECT_FALSE(kernel_matches("2.6.32-710.el6", "2.6.32-71"));
}

TEST(LinuxRules, KernelAllowListDependsOnTheProfile) {
  auto ubuntu = linux_facts("ubuntu", 18, 4, "4.15.0-213-generic");
  EXPECT_EQ(find(run("aws-current", ubuntu), "linux-kernel-supported").outcome.status, Status::pass);
  EXPECT_EQ(find(run("aws-current", ubuntu), "os-supported").outcome.status, Status::pass);
  EXPECT_EQ(find(run("aws-2017", ubuntu), "os-supported").outcome.status, Status::fail)
      << "18.04 came after the 2017 page";

  auto hwe = linux_facts("ubuntu", 18, 4, "5.15.0-50-generic");
  const Result kernel = find(run("aws-current", hwe), "linux-kernel-supported");
  EXPECT_EQ(kernel.outcome.status, Status::fail);
  EXPECT_NE(kernel.outcome.message.find("Unsupported kernel version 5.15.0-50-generic"), std::string::npos)
      << kernel.outcome.message;

  auto rhel6 = linux_facts("rhel", 6, 0, "2.6.32-71.el6.x86_64");
  EXPECT_EQ(find(run("aws-current", rhel6), "linux-kernel-supported").outcome.status, Status::fail)
      << "2.6.32-71 is excluded";

  auto sles = linux_facts("sles", 12, 1, "3.12.49-11-default");
  EXPECT_EQ(find(run("aws-2017", sles), "linux-kernel-supported").outcome.status, Status::pass);
  sles.linux.kernels[0].version = "3.12.51-60-default";
  EXPECT_EQ(find(run("aws-2017", sles), "linux-kernel-supported").outcome.status, Status::fail);

  auto centos = linux_facts("centos", 7, 9, "3.10.0-1160.el7.x86_64");
  EXPECT_EQ(find(run("aws-2017", centos), "os-supported").outcome.status, Status::fail) << "the 2017 page stops at 7.3";
  EXPECT_EQ(find(run("aws-current", centos), "os-supported").outcome.status, Status::pass);
  EXPECT_EQ(find(run("aws-current", centos), "os-deprecated").outcome.status, Status::fail);
}

TEST(LinuxRules, ThirtyTwoBitAndUnknownDistros) {
  auto i386 = linux_facts("debian", 8, 0, "3.16.0-4-586");
  i386.arch = "i386";
  EXPECT_EQ(find(run("aws-2017", i386), "os-architecture").outcome.status, Status::fail);
  auto arch = linux_facts("archlinux", 0, 0, "6.6.1-arch1-1");
  EXPECT_EQ(find(run("aws-current", arch), "os-supported").outcome.status, Status::fail);
  EXPECT_EQ(find(run("aws-current", arch), "linux-kernel-supported").outcome.status, Status::unknown);
  EXPECT_EQ(run("aws-current", arch).verdict, Verdict::blocked);
}

TEST(LinuxRules, DiskLimitsAndBootMode) {
  auto facts = linux_facts("debian", 12, 5, "6.1.0-18-amd64");
  EXPECT_EQ(find(run("aws-current", facts), "linux-kernel-supported").outcome.status, Status::pass);
  facts.disks[0].partition_table = "gpt";
  const Rule& partitioning_2017 = *find(run("aws-2017", facts), "boot-partitioning").rule;
  EXPECT_EQ(partitioning_2017.checker, Checker::fixer) << "2017: the gpt-to-mbr fixer checks the partition table";
  EXPECT_EQ(partitioning_2017.fixer, "gpt-to-mbr");
  EXPECT_EQ(find(run("aws-current", facts), "boot-partitioning").outcome.status, Status::pass);
  facts.boot_mode = bootloader::BootMode::uefi;
  EXPECT_EQ(find(run("aws-2017", facts), "boot-mode").outcome.status, Status::fail);
  EXPECT_EQ(find(run("aws-current", facts), "boot-mode").outcome.status, Status::pass);
  guest::FakeGuest esp;
  add_menu(esp);
  facts.mountpoints.push_back({"/boot/efi", "/dev/sda2"});
  esp.add_file("/boot/efi/EFI/debian/shimx64.efi", "MZ shim");
  EXPECT_EQ(find(run_on("aws-current", facts, esp), "linux-efi-fallback").outcome.status, Status::fail)
      << "no BOOTX64.EFI";
  esp.add_file("/boot/efi/EFI/BOOT/BOOTX64.EFI", "MZ shim");
  EXPECT_EQ(find(run_on("aws-current", facts, esp), "linux-efi-fallback").outcome.status, Status::pass);

  EXPECT_EQ(find(run("aws-current", facts), "disk-partition-table").outcome.status, Status::pass);
  facts.disks[0].table_problems = {"GPT entry array CRC32 is wrong"};
  for (const char* profile : {"aws-2017", "aws-current"}) {
    auto result = find(run(profile, facts), "disk-partition-table").outcome;
    EXPECT_EQ(result.status, Status::fail);
    EXPECT_EQ(result.evidence, (std::vector<std::string>{"/dev/sda: GPT entry array CRC32 is wrong"}));
  }
  facts.disks[0].table_problems.clear();

  facts.filesystems[0].free = 100ULL << 20;
  EXPECT_EQ(find(run("aws-current", facts), "free-space").outcome.status, Status::fail);
  facts.filesystems[0].type = "reiserfs";
  EXPECT_EQ(find(run("aws-current", facts), "root-filesystem").outcome.status, Status::fail);
  for (int i = 0; i < 21; ++i)
    facts.disks.push_back({"/dev/sd" + std::string(1, static_cast<char>('b' + i)), "", 1 << 30, "none", {}, {}});
  EXPECT_EQ(find(run("aws-2017", facts), "volume-count").outcome.status, Status::pass) << "22 volumes";
  EXPECT_EQ(find(run("aws-current", facts), "volume-count").outcome.status, Status::fail) << "21 at most";
}

TEST(LinuxRules, NetworkAndAccess) {
  auto facts = linux_facts("ubuntu", 20, 4, "5.4.0-150-generic");
  facts.network.push_back({"netplan", "/etc/netplan/01.yaml", "ens160", "static", {"10.0.0.5/24", "fd00::5/64"}, ""});
  facts.network.push_back({"netplan", "/etc/netplan/01.yaml", "ens192", "dhcp", {}, ""});
  guest::FakeGuest guest;
  add_menu(guest);
  guest.add_file("/etc/netplan/01.yaml",
                 "network:\n  version: 2\n  ethernets:\n    ens160:\n      addresses: [10.0.0.5/24, \"fd00::5/64\"]\n"
                 "    ens192:\n      dhcp4: true\n");
  Evaluation evaluation = run_on("aws-current", facts, guest);
  EXPECT_EQ(find(evaluation, "network-dhcp").outcome.status, Status::fail);
  EXPECT_FALSE(find(evaluation, "network-dhcp").fixable) << "no fixer runs here";
  EXPECT_EQ(find(evaluation, "network-ipv6").outcome.status, Status::fail);
  EXPECT_EQ(find(evaluation, "network-single-nic").outcome.status, Status::fail);
  EXPECT_EQ(find(evaluation, "linux-ssh").outcome.status, Status::fail);
  EXPECT_EQ(find(evaluation, "linux-ssh-user").outcome.status, Status::fail);
  EXPECT_EQ(find(evaluation, "linux-firewall-ssh").outcome.status, Status::pass);
  EXPECT_EQ(find(evaluation, "windows-rdp").outcome.status, Status::skipped);
  EXPECT_EQ(find(evaluation, "iam-permissions").outcome.status, Status::skipped);
  EXPECT_EQ(evaluation.verdict, Verdict::blocked) << "a static address nobody fixes is a blocker";
  EXPECT_EQ(find(evaluation, "network-dhcp").rule->severity, Severity::blocker);
}

TEST(WindowsRules, ProductsEditionsAndTheWindows11Quirk) {
  auto server = windows_facts("Windows Server 2012 R2 Standard", "ServerStandard", "9600");
  EXPECT_EQ(find(run("aws-2017", server), "os-supported").outcome.status, Status::pass);
  auto nano = server;
  nano.windows.installation_type = "Nano Server";
  EXPECT_EQ(find(run("aws-current", nano), "os-supported").outcome.status, Status::fail);
  auto essentials = windows_facts("Windows Server 2012 R2 Essentials", "ServerSolution", "9600");
  EXPECT_EQ(find(run("aws-current", essentials), "os-supported").outcome.status, Status::fail);
  auto server2019 = windows_facts("Windows Server 2019 Datacenter", "ServerDatacenter", "17763");
  EXPECT_EQ(find(run("aws-2017", server2019), "os-supported").outcome.status, Status::fail);
  EXPECT_EQ(find(run("aws-current", server2019), "os-supported").outcome.status, Status::pass);

  auto home10 = windows_facts("Windows 10 Home", "Core", "19045");
  EXPECT_EQ(find(run("aws-2017", home10), "os-supported").outcome.status, Status::fail);
  EXPECT_EQ(find(run("aws-current", home10), "os-supported").outcome.status, Status::pass);
  auto pro10 = windows_facts("Windows 10 Pro", "Professional", "19045");
  EXPECT_EQ(find(run("aws-2017", pro10), "os-supported").outcome.status, Status::pass);

  // Windows 11 still calls itself "Windows 10" in ProductName; the build tells, and it needs UEFI.
  auto eleven = windows_facts("Windows 10 Pro", "Professional", "22631");
  EXPECT_EQ(find(run("aws-current", eleven), "boot-mode").outcome.status, Status::fail);
  eleven.boot_mode = bootloader::BootMode::uefi;
  eleven.disks[0].partition_table = "gpt";
  EXPECT_EQ(find(run("aws-current", eleven), "boot-mode").outcome.status, Status::pass);
  EXPECT_EQ(find(run("aws-current", eleven), "boot-partitioning").outcome.status, Status::pass);
  EXPECT_EQ(find(run("aws-2017", eleven), "os-supported").outcome.status, Status::fail);

  auto german = server;
  german.windows.install_language = "0407";
  EXPECT_EQ(find(run("aws-2017", german), "windows-language").outcome.status, Status::pass)
      << "2017: US English for clients only";
  EXPECT_EQ(find(run("aws-current", german), "windows-language").outcome.status, Status::fail);
  auto x86 = windows_facts("Windows 7 Professional", "Professional", "7601");
  x86.arch = "i386";
  EXPECT_EQ(find(run("aws-2017", x86), "os-supported").outcome.status, Status::pass);
  EXPECT_EQ(find(run("aws-current", x86), "os-deprecated").outcome.status, Status::fail);
}

TEST(WindowsRules, DotNetFreeSpaceHibernationAntivirusAndVerdicts) {
  auto facts = windows_facts("Windows Server 2008 R2 Standard", "ServerStandard", "7601");
  EXPECT_EQ(find(run("aws-current", facts), "windows-dotnet").outcome.status, Status::fail);
  facts.windows.dotnet = {"v2.0.50727 SP2", "v3.5"};
  EXPECT_EQ(find(run("aws-current", facts), "windows-dotnet").outcome.status, Status::fail) << "3.5 without SP1";
  facts.windows.dotnet = {"v2.0.50727 SP2", "v3.5 SP1"};
  EXPECT_EQ(find(run("aws-current", facts), "windows-dotnet").outcome.status, Status::pass);

  facts.filesystems[0].free = 5ULL << 30;
  EXPECT_EQ(find(run("aws-current", facts), "free-space").outcome.status, Status::fail);
  facts.windows.hiberfil_signature = "HIBR";
  EXPECT_EQ(find(run("aws-current", facts), "shut-down").outcome.status, Status::fail);
  facts.windows.services = {{"McShield", 2, ""}, {"WinDefend", 2, ""}, {"SepMasterService", 4, ""}};
  const Result antivirus = find(run("aws-current", facts), "antivirus");
  EXPECT_EQ(antivirus.outcome.status, Status::fail);
  EXPECT_EQ(antivirus.outcome.evidence, std::vector<std::string>{"service McShield (Start=2)"});
  EXPECT_EQ(run("aws-current", facts).verdict, Verdict::blocked);
}

// A Windows Server 2016 with a static address, which network-dhcp fixes, and every fixer.
inspect::Facts static_windows_server() {
  auto facts = windows_facts("Windows Server 2016 Datacenter", "ServerDatacenter", "14393");
  facts.windows.dotnet = {"v4 Full release 394802"};
  facts.network.push_back({"windows-tcpip", "key", "{guid}", "static", {"10.0.0.9"}, ""});
  return facts;
}

// Stands in for the network-dhcp fixer: its check finds the static address, its fix does nothing.
class StaticAddressFound : public fixers::Fixer {
 public:
  std::string_view id() const override { return "network-dhcp"; }
  std::string_view summary() const override { return "test double"; }
  std::vector<fixers::FixerDoc> documentation() const override { return {}; }
  std::vector<std::string> rules() const override { return {"network-dhcp"}; }
  bool applies(const inspect::Facts& facts) const override { return facts.os_type == "windows"; }
  std::vector<fixers::Finding> check(guest::Guest&, const inspect::Facts&) override {
    return {{"network-dhcp", Status::fail, "static addresses", "windows-tcpip {guid} static 10.0.0.9"}};
  }
  std::vector<fixers::Change> fix(guest::Guest&, const inspect::Facts&) override { return {}; }
};

// A BitLocker data volume on a Windows guest blocks, naming the volume; an unencrypted one passes.
TEST(WindowsRules, BitLockerVolumesBlock) {
  inspect::Facts facts = windows_facts("Windows Server 2019 Datacenter", "ServerDatacenter", "17763");
  EXPECT_EQ(find(run("aws-current", facts), "bitlocker").outcome.status, Status::pass);
  facts.filesystems.push_back({"/dev/sdb1", "BitLocker", "", "", "", 100ULL << 30, std::nullopt, std::nullopt});
  for (const char* profile : {"aws-current", "aws-2017"}) {
    const Result bitlocker = find(run(profile, facts), "bitlocker");
    EXPECT_EQ(bitlocker.outcome.status, Status::fail) << profile;
    EXPECT_EQ(bitlocker.rule->severity, Severity::blocker) << profile;
    ASSERT_EQ(bitlocker.outcome.evidence.size(), 1u);
    EXPECT_EQ(bitlocker.outcome.evidence[0], "/dev/sdb1 is BitLocker-encrypted (102400 MiB)");
  }
  EXPECT_EQ(run("aws-current", facts).verdict, Verdict::blocked);
}

TEST(Verdicts, FixableOnlyWhenAFixerThatHandlesTheGuestWillRun) {
  const auto facts = static_windows_server();
  StaticAddressFound dhcp;
  guest::FakeGuest guest;
  ImageFacts image{"vhd", "dynamic", "", 1, -1, -1, -1};
  // The fixer's check answers network-dhcp whether or not the fixer may run; running decides fixability.
  Evaluation with_fixers = evaluate({load_profile("aws-current"), facts, image, &guest, {&dhcp}, {&dhcp}});
  EXPECT_EQ(find(with_fixers, "network-dhcp").outcome.status, Status::fail);
  EXPECT_TRUE(find(with_fixers, "network-dhcp").fixable);
  EXPECT_EQ(with_fixers.verdict, Verdict::fixable);
  Evaluation without = evaluate({load_profile("aws-current"), facts, image, &guest, {}, {&dhcp}});
  EXPECT_EQ(find(without, "network-dhcp").outcome.status, Status::fail) << "--skip does not change what is checked";
  EXPECT_EQ(without.verdict, Verdict::blocked);
  EXPECT_EQ(exit_code_of(Verdict::ready), 0);
  EXPECT_EQ(exit_code_of(Verdict::fixable), 1);
  EXPECT_EQ(exit_code_of(Verdict::blocked), 2);
}

// After fixing, a failure whose fixer ran is that fixer's failure: blocked, not "fixable".
TEST(Verdicts, AfterFixingAFailureWhoseFixerRanBlocks) {
  const auto facts = static_windows_server();
  StaticAddressFound dhcp;
  guest::FakeGuest guest;
  ImageFacts image{"vmdk", "monolithicSparse", "", 1, -1, -1, -1};
  Evaluation after = evaluate({load_profile("aws-current"), facts, image, &guest, {&dhcp}, {&dhcp}});
  ASSERT_EQ(after.verdict, Verdict::fixable);
  ASSERT_EQ(find(after, "image-format").outcome.status, Status::fail);
  account_for_fixers_run(after, {"rdp", "rtc-utc"});
  EXPECT_EQ(after.verdict, Verdict::fixable) << "network-dhcp's fixer did not run: still to be fixed";
  account_for_fixers_run(after, {"network-dhcp"});
  EXPECT_EQ(after.verdict, Verdict::blocked);
  Result dhcp_result = find(after, "network-dhcp");
  EXPECT_FALSE(dhcp_result.fixable);
  ASSERT_FALSE(dhcp_result.outcome.evidence.empty());
  EXPECT_EQ(dhcp_result.outcome.evidence.back(), "the 'network-dhcp' fixer ran and could not finish: this still fails");
  EXPECT_TRUE(find(after, "image-format").fixable) << "the output writer still converts the image";
}

TEST(ImageRules, FormatsAwsAcceptsAndWhatVmfixWrites) {
  auto facts = linux_facts("ubuntu", 18, 4, "4.15.0-213-generic");
  EXPECT_EQ(
      find(run("aws-current", facts, {"vmdk", "streamOptimized", "", 1, -1, -1, -1}), "image-format").outcome.status,
      Status::pass);
  const Result sparse =
      find(run("aws-current", facts, {"vmdk", "monolithicSparse", "", 1, -1, -1, -1}), "image-format");
  EXPECT_EQ(sparse.outcome.status, Status::fail);
  EXPECT_TRUE(sparse.fixable);
  EXPECT_EQ(find(run("aws-2017", facts, {"vhdx", "", "", 1, -1, -1, -1}), "image-format").outcome.status, Status::fail);
  EXPECT_EQ(find(run("aws-current", facts, {"vhdx", "", "", 1, -1, -1, -1}), "image-format").outcome.status,
            Status::pass);
  EXPECT_EQ(find(run("aws-current", facts, {"qcow2", "", "vmdk", 1, -1, -1, -1}), "image-format").outcome.status,
            Status::pass);
  const Result cdrom = find(run("aws-current", facts, {"ova", "streamOptimized", "", 1, 2, 1, 0}), "cdrom");
  EXPECT_EQ(cdrom.outcome.status, Status::fail);
  EXPECT_EQ(
      find(run("aws-current", facts, {"ova", "streamOptimized", "", 1, 2, 1, 0}), "network-single-nic").outcome.status,
      Status::fail);
}

TEST(LinuxRules, GrubChecksReadTheGuest) {
  auto facts = linux_facts("ubuntu", 18, 4, "4.15.0-213-generic");
  guest::FakeGuest guest;
  guest.add_file("/boot/vmlinuz-4.15.0-213-generic", "k");
  guest.add_file("/boot/grub/grub.cfg",
                 "set default=\"0\"\nmenuentry 'Ubuntu' {\n  linux /boot/vmlinuz-4.15.0-213-generic root=UUID=1 ro\n"
                 "  initrd /boot/initrd.img-4.15.0-213-generic\n}\n");
  facts.linux.boot = bootloader::BootConfig{
      "grub2",
      "/boot/grub/grub.cfg",
      {{"Ubuntu", "", "/boot/vmlinuz-4.15.0-213-generic", "/boot/initrd.img-4.15.0-213-generic", "", "0"}},
      0,
      "default 0"};
  facts.linux.grub_configs = {"/boot/grub/grub.cfg", "/boot/grub/menu.lst"};
  Evaluation evaluation = run_on("aws-current", facts, guest);
  EXPECT_EQ(find(evaluation, "linux-grub-default").outcome.status, Status::fail) << "the initrd is missing";
  EXPECT_EQ(find(evaluation, "linux-grub-single").outcome.status, Status::fail);
  EXPECT_EQ(find(evaluation, "linux-grub-single").rule->aws_message,
            "ClientError: Multiple different grub/menu.lst files found.");
  guest.add_file("/boot/initrd.img-4.15.0-213-generic", "i");
  evaluation = run_on("aws-current", facts, guest);
  EXPECT_EQ(find(evaluation, "linux-grub-default").outcome.status, Status::pass);
  guest.add_file(
      "/etc/fstab",
      "UUID=1 / ext4 defaults 0 1\n/dev/sr0 /media/cdrom iso9660 ro,user 0 0\n/dev/fd0 /mnt/floppy auto noauto 0 0\n");
  const Result cdrom = find(evaluation = run_on("aws-current", facts, guest), "cdrom");
  EXPECT_EQ(cdrom.outcome.status, Status::fail);
  EXPECT_EQ(cdrom.outcome.evidence.size(), 1u);
}

}  // namespace
}  // namespace vmfix::rules

namespace vmfix::rules {
namespace {

// The README's rule table lists every rule of every profile.
TEST(Profiles, ReadmeRuleTableListsEveryRule) {
  std::ifstream readme(std::string(VMFIX_SOURCE_DIR) + "/README.md");
  ASSERT_TRUE(readme) << "README.md not found";
  const std::string text((std::istreambuf_iterator<char>(readme)), std::istreambuf_iterator<char>());
  for (const std::string& name : profile_names())
    for (const Rule& rule : load_profile(name).rules)
      EXPECT_NE(text.find("| `" + rule.id + "` |"), std::string::npos) << name << " " << rule.id;
}

}  // namespace
}  // namespace vmfix::rules

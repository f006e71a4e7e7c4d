// GRUB edits for EC2 (console, UUIDs, timeout, default entry) on the texts GRUB 2, GRUB legacy and
// BLS write, and the grub fixer on the Linux fixtures' files: check, fix, check again, fix again.
#include <gtest/gtest.h>

#include "bootloader/detect.h"
#include "bootloader/grub_edit.h"
#include "bootloader/kernels.h"
#include "fixers/table.h"
#include "fixtures/fixture.h"
#include "guest/fake_guest.h"
#include "tests/unit/fixture_guest.h"

namespace vmfix::bootloader {
namespace {

const DeviceUuid kUuids = [](const std::string& device) -> std::string {
  if (device == "/dev/sda3") return "1111-root";
  if (device == "/dev/sda2") return "2222-swap";
  return "";
};

TEST(GrubEdit, KernelArgumentsGetTheSerialConsoleAndUuids) {
  EXPECT_EQ(ec2_kernel_args("root=/dev/sda3 ro quiet", kUuids),
            "root=UUID=1111-root ro quiet console=tty0 console=ttyS0,115200");
  EXPECT_EQ(ec2_kernel_args("ro  maybe-ubiquity", kUuids), "ro  maybe-ubiquity console=tty0 console=ttyS0,115200")
      << "spacing kept";
  EXPECT_EQ(ec2_kernel_args("ro console=tty0 ", kUuids), "ro console=tty0 console=ttyS0,115200 ");
  EXPECT_EQ(ec2_kernel_args("ro console=ttyS0,9600n8", kUuids), "ro console=ttyS0,9600n8")
      << "a serial console is kept as set";
  EXPECT_EQ(ec2_kernel_args("", kUuids), "console=tty0 console=ttyS0,115200");
  EXPECT_EQ(ec2_kernel_args("root=/dev/mapper/vg-root resume=/dev/sda2 console=ttyS0", kUuids),
            "root=/dev/mapper/vg-root resume=UUID=2222-swap console=ttyS0");
  EXPECT_EQ(ec2_kernel_args("root=/dev/sdz9 console=ttyS0", kUuids), "root=/dev/sdz9 console=ttyS0")
      << "unknown devices stay";
  const std::string once = ec2_kernel_args("root=/dev/sda3 ro", kUuids);
  EXPECT_EQ(ec2_kernel_args(once, kUuids), once);
}

TEST(GrubEdit, DefaultGrubKeepsEverythingElse) {
  const std::string centos =
      "GRUB_TIMEOUT=5\nGRUB_DISTRIBUTOR=\"$(sed 's, release .*$,,g' /etc/system-release)\"\n"
      "GRUB_DEFAULT=saved\n# the console\nGRUB_CMDLINE_LINUX=\"crashkernel=auto resume=/dev/sda2 rhgb quiet\"\n";
  const std::string edited = ec2_default_grub(centos, kUuids);
  EXPECT_EQ(
      edited,
      "GRUB_TIMEOUT=5\nGRUB_DISTRIBUTOR=\"$(sed 's, release .*$,,g' /etc/system-release)\"\n"
      "GRUB_DEFAULT=saved\n# the console\n"
      "GRUB_CMDLINE_LINUX=\"crashkernel=auto resume=UUID=2222-swap rhgb quiet console=tty0 console=ttyS0,115200\"\n");
  EXPECT_EQ(ec2_default_grub(edited, kUuids), edited);

  const std::string ubuntu =
      "GRUB_DEFAULT=0\nGRUB_TIMEOUT_STYLE=hidden\nGRUB_TIMEOUT=10\nGRUB_CMDLINE_LINUX_DEFAULT='maybe-ubiquity'\nGRUB_"
      "CMDLINE_LINUX=\n";
  EXPECT_EQ(ec2_default_grub(ubuntu, kUuids),
            "GRUB_DEFAULT=0\nGRUB_TIMEOUT_STYLE=hidden\nGRUB_TIMEOUT=1\nGRUB_CMDLINE_LINUX_DEFAULT='maybe-ubiquity'\n"
            "GRUB_CMDLINE_LINUX=\"console=tty0 console=ttyS0,115200\"\n");
  EXPECT_EQ(ec2_default_grub("GRUB_TIMEOUT=-1\n", kUuids),
            "GRUB_TIMEOUT=1\nGRUB_CMDLINE_LINUX=\"console=tty0 console=ttyS0,115200\"\n");
  EXPECT_EQ(ec2_default_grub("GRUB_CMDLINE_LINUX_DEFAULT=\"quiet console=ttyS0,115200n8\"\n", kUuids),
            "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet console=ttyS0,115200n8\"\n")
      << "a console in GRUB_CMDLINE_LINUX_DEFAULT counts";
  EXPECT_EQ(ec2_default_grub("GRUB_DEFAULT=\"Old kernel\"\nGRUB_CMDLINE_LINUX=\"console=ttyS0\"\n", kUuids, {true}),
            "GRUB_DEFAULT=\"0\"\nGRUB_CMDLINE_LINUX=\"console=ttyS0\"\n");
  EXPECT_EQ(ec2_default_grub("GRUB_DEFAULT=saved\nGRUB_CMDLINE_LINUX=\"console=ttyS0\"\n", kUuids, {true}),
            "GRUB_DEFAULT=saved\nGRUB_CMDLINE_LINUX=\"console=ttyS0\"\n")
      << "a saved default is repaired in grubenv";
}

const char* kDebianCfg = R"(set default="0"
if [ "${recordfail}" = 1 ] ; then
  set timeout=30
else
  set timeout=-1
fi
menuentry 'Debian GNU/Linux' --class debian $menuentry_id_option 'gnulinux-simple-1111' {
	linux	/boot/vmlinuz-6.1.0-28-amd64 root=/dev/sda3 ro  quiet
	initrd	/boot/initrd.img-6.1.0-28-amd64
}
submenu 'Advanced options for Debian GNU/Linux' $menuentry_id_option 'gnulinux-advanced-1111' {
	menuentry 'Debian GNU/Linux, with Linux 6.1.0-28-amd64 (recovery mode)' {
		linux	/boot/vmlinuz-6.1.0-28-amd64 root=/dev/sda3 ro single
	}
}
menuentry 'Memory test (memtest86+x64.bin)' {
	linux16	/boot/memtest86+x64.bin
}
)";

// Found by fuzz_grub: GRUB's script takes a bare `timeout=50` as well as `set timeout=50`; both
// are shortened, and what follows them on the line is not kept.
// Found by fuzz_grub: a value the guest's shell would read otherwise than vmfix (a stray quote, an
// unterminated one, an expansion outside quotes) is left exactly as it is, and a second edit
// changes nothing; the well-formed settings around it are still edited.
TEST(GrubEdit, DefaultGrubValuesVmfixCannotParseAreLeftAlone) {
  for (const std::string value : {"/sda0\"", "\"root=/dev/sda1 quiet", "$EXTRA", "a\\ b"}) {
    SCOPED_TRACE(value);
    const std::string text = "GRUB_TIMEOUT=10\nGRUB_CMDLINE_LINUX=" + value + "\n";
    const std::string edited = ec2_default_grub(text, kUuids);
    EXPECT_EQ(edited, "GRUB_TIMEOUT=1\nGRUB_CMDLINE_LINUX=" + value + "\n");
    EXPECT_EQ(ec2_default_grub(edited, kUuids), edited);
  }
}

TEST(GrubEdit, BareTimeoutAssignmentsAreShortenedToo) {
  const std::string cfg = "timeout=50\n  set   timeout=30  \nif [ x ]; then\n  timeout=-1\nfi\nset timeout=3\n";
  const std::string edited = ec2_grub_cfg(cfg, kUuids);
  EXPECT_EQ(edited, "timeout=1\n  set   timeout=1\nif [ x ]; then\n  timeout=1\nfi\nset timeout=3\n");
  EXPECT_EQ(menu_timeouts(cfg, MenuSyntax::grub2), (std::vector<int>{50, 30, -1, 3}));
  EXPECT_EQ(menu_timeouts("timeout 12\ntimeout=7\n", MenuSyntax::legacy), (std::vector<int>{12, 7}));
  EXPECT_TRUE(menu_timeouts("timeout 12\n", MenuSyntax::grub2).empty()) << "not GRUB 2 syntax";
}

TEST(GrubEdit, GrubCfgKernelLinesAndTimeouts) {
  const std::string edited = ec2_grub_cfg(kDebianCfg, kUuids);
  auto lines = linux_command_lines(edited, MenuSyntax::grub2);
  ASSERT_EQ(lines.size(), 2u) << "memtest is not a Linux kernel";
  EXPECT_EQ(lines[0], "root=UUID=1111-root ro  quiet console=tty0 console=ttyS0,115200");
  EXPECT_EQ(lines[1], "root=UUID=1111-root ro single console=tty0 console=ttyS0,115200");
  EXPECT_NE(edited.find("\tlinux16\t/boot/memtest86+x64.bin\n"), std::string::npos);
  EXPECT_EQ(menu_timeouts(edited, MenuSyntax::grub2), (std::vector<int>{1, 1}));
  EXPECT_EQ(menu_timeouts(ec2_grub_cfg(kDebianCfg, kUuids, false), MenuSyntax::grub2), (std::vector<int>{30, -1}));
  EXPECT_EQ(ec2_grub_cfg(edited, kUuids), edited);
  EXPECT_FALSE(grub_cfg_uses_saved_entry(kDebianCfg));
  EXPECT_EQ(with_grub_cfg_default(kDebianCfg, "1>0").substr(0, 18), "set default=\"1>0\"\n");
  EXPECT_TRUE(grub_cfg_uses_saved_entry("if [ x ]; then\n  set default=\"${saved_entry}\"\nfi\n"));
  EXPECT_EQ(ec2_grub_cfg("menuentry 'bare' {\n\tlinux /vmlinuz-6.1.0\n}\n", kUuids),
            "menuentry 'bare' {\n\tlinux /vmlinuz-6.1.0 console=tty0 console=ttyS0,115200\n}\n")
      << "a kernel line without arguments";
  EXPECT_EQ(ec2_bls_entry("options\n", kUuids), "options console=tty0 console=ttyS0,115200\n");
}

TEST(GrubEdit, GrubLegacyMenu) {
  const std::string menu =
      "default=3\ntimeout 30\nhiddenmenu\ntitle CentOS (2.6.32-754.el6.x86_64)\n\troot (hd0,0)\n"
      "\tkernel /vmlinuz-2.6.32-754.el6.x86_64 ro root=/dev/sda3 rhgb quiet\n\tinitrd "
      "/initramfs-2.6.32-754.el6.x86_64.img\n";
  const std::string edited = ec2_grub_legacy(menu, kUuids, 0);
  EXPECT_EQ(
      edited,
      "default=0\ntimeout=1\nhiddenmenu\ntitle CentOS (2.6.32-754.el6.x86_64)\n\troot (hd0,0)\n"
      "\tkernel /vmlinuz-2.6.32-754.el6.x86_64 ro root=UUID=1111-root rhgb quiet console=tty0 console=ttyS0,115200\n"
      "\tinitrd /initramfs-2.6.32-754.el6.x86_64.img\n");
  EXPECT_EQ(ec2_grub_legacy(edited, kUuids), edited);
}

// Debian's update-grub for GRUB legacy writes the kernel lines of its automatic list from
// "# kopt=": edited as the kernel lines are, so the guest's next update-grub writes the same.
// Per-series lines ("kopt_2_6_8") and lines update-grub does not read stay as they are.
TEST(GrubEdit, GrubLegacyKoptOptionsOfDebiansUpdateGrub) {
  const std::string menu =
      "timeout\t\t5\n### BEGIN AUTOMAGIC KERNELS LIST\n## e.g. kopt=root=/dev/hda1 ro\n"
      "# kopt=root=/dev/sda3 ro\n#kopt_2_6_8=root=/dev/sda1 ro\n# kopt is the option\n"
      "# defoptions=quiet resume=/dev/sda2\n# groot=(hd0,0)\n## ## End Default Options ##\n\ntitle\t\tDebian "
      "GNU/Linux, kernel 6.1.0-28-amd64\n"
      "root\t\t(hd0,0)\nkernel\t\t/boot/vmlinuz-6.1.0-28-amd64 root=/dev/sda3 ro quiet\n"
      "initrd\t\t/boot/initrd.img-6.1.0-28-amd64\n### END DEBIAN AUTOMAGIC KERNELS LIST\n";
  const std::string edited = ec2_grub_legacy(menu, kUuids);
  EXPECT_EQ(edited,
            "timeout\t\t5\n### BEGIN AUTOMAGIC KERNELS LIST\n## e.g. kopt=root=/dev/hda1 ro\n"
            "# kopt=root=UUID=1111-root ro console=tty0 console=ttyS0,115200\n"
            "#kopt_2_6_8=root=/dev/sda1 ro\n# kopt is the option\n"
            "# defoptions=quiet resume=UUID=2222-swap\n# groot=(hd0,0)\n## ## End Default Options ##\n\n"
            "title\t\tDebian GNU/Linux, kernel 6.1.0-28-amd64\nroot\t\t(hd0,0)\n"
            "kernel\t\t/boot/vmlinuz-6.1.0-28-amd64 root=UUID=1111-root ro quiet console=tty0 console=ttyS0,115200\n"
            "initrd\t\t/boot/initrd.img-6.1.0-28-amd64\n### END DEBIAN AUTOMAGIC KERNELS LIST\n");
  EXPECT_EQ(ec2_grub_legacy(edited, kUuids), edited);
}

TEST(GrubEdit, BlsEntriesAndGrubenv) {
  const std::string entry =
      "title RHEL\nversion 4.18.0\nlinux /vmlinuz-4.18.0\ninitrd /initramfs-4.18.0.img $tuned_initrd\noptions "
      "root=/dev/sda3 ro\n";
  EXPECT_EQ(ec2_bls_entry(entry, kUuids),
            "title RHEL\nversion 4.18.0\nlinux /vmlinuz-4.18.0\ninitrd /initramfs-4.18.0.img $tuned_initrd\n"
            "options root=UUID=1111-root ro console=tty0 console=ttyS0,115200\n");
  EXPECT_EQ(ec2_bls_entry("options $kernelopts $tuned_params\n", kUuids), "options $kernelopts $tuned_params\n");

  std::string block = "# GRUB Environment Block\nsaved_entry=abc\nkernelopts=root=/dev/sda3 ro\n";
  block.resize(1024, '#');
  std::string edited = grubenv_with(block, "kernelopts", "root=UUID=1111-root ro");
  EXPECT_EQ(edited.size(), 1024u);
  EXPECT_EQ(parse_grubenv(edited),
            (std::map<std::string, std::string>{{"saved_entry", "abc"}, {"kernelopts", "root=UUID=1111-root ro"}}));
  edited = grubenv_with(edited, "boot_success", "1");
  EXPECT_EQ(parse_grubenv(edited).at("boot_success"), "1");
  EXPECT_EQ(edited.substr(0, 25), "# GRUB Environment Block\n");
  EXPECT_THROW(grubenv_with(block, "kernelopts", std::string(1100, 'x')), Error);
  EXPECT_EQ(grubenv_with("", "saved_entry", "0").size(), 1024u) << "a missing block is created";
}

// Found by fuzz_grub's long run: a value holding a backslash did not read back as it was set.
// grub-editenv writes \\ and \n for a backslash and a newline, and GRUB reads them back; so
// does vmfix now, and a value rewritten twice no longer doubles its backslashes.
TEST(GrubEdit, GrubenvEscapesReadBackAsGrubReadsThem) {
  const std::string value = "root=/dev/x rd.cmd=a\\b\\\\nc\\";
  std::string block = grubenv_with("", "kernelopts", value);
  EXPECT_NE(block.find("kernelopts=root=/dev/x rd.cmd=a\\\\b\\\\\\\\nc\\\\\n"), std::string::npos) << block;
  EXPECT_EQ(parse_grubenv(block).at("kernelopts"), value);
  block = grubenv_with(block, "kernelopts", parse_grubenv(block).at("kernelopts"));
  EXPECT_EQ(parse_grubenv(block).at("kernelopts"), value) << "a second write changes nothing";
  EXPECT_EQ(parse_grubenv("# GRUB Environment Block\nx=a\\nb\\\\\n").at("x"), "a\nb\\");
}

}  // namespace
}  // namespace vmfix::bootloader

namespace vmfix::fixers {
namespace {

using test::load_fixture;
constexpr const char* kRootUuid = test::kFixtureUuid;
std::unique_ptr<Fixer> grub_fixer() { return test::fixer_named("grub"); }

inspect::Facts facts_of(guest::Guest& guest) {
  inspect::Facts facts = test::linux_boot_facts(guest);
  facts.filesystems = {{"/dev/sda3", "xfs", "", kRootUuid, "/", {}, {}, {}},
                       {"/dev/sda4", "swap", "", "5555-swap", "", {}, {}, {}}};
  return facts;
}

std::map<std::string, std::string> statuses(Fixer& fixer, guest::Guest& guest, const inspect::Facts& facts) {
  std::map<std::string, std::string> found;
  for (const Finding& finding : fixer.check(guest, facts))
    if (found[finding.rule] != "fail") found[finding.rule] = to_string(finding.status);
  return found;
}

TEST(GrubFixer, EveryLinuxFixtureBootsWithASerialConsole) {
  for (const char* name : {"centos7-vmware", "ubuntu1804-vmware", "debian11-gpt-bios", "rhel8-uefi"}) {
    SCOPED_TRACE(name);
    guest::FakeGuest guest;
    load_fixture(guest, name);
    inspect::Facts facts = facts_of(guest);
    auto fixer = grub_fixer();
    ASSERT_TRUE(fixer->applies(facts));
    auto before = statuses(*fixer, guest, facts);
    EXPECT_EQ(before["linux-grub-console"], "fail");
    EXPECT_EQ(before["linux-grub-default"], "pass");
    auto changes = fixer->fix(guest, facts);
    ASSERT_FALSE(changes.empty());
    for (const Change& change : changes) EXPECT_EQ(change.fixer, "grub");
    // What the boot menu says now, read as inspection reads it.
    facts = facts_of(guest);
    ASSERT_TRUE(facts.linux.boot && facts.linux.boot->default_entry);
    const std::string& options = facts.linux.boot->entries[*facts.linux.boot->default_entry].options;
    EXPECT_TRUE(bootloader::has_serial_console(options)) << options;
    EXPECT_NE(options.find("console=tty0"), std::string::npos) << options;
    EXPECT_EQ(options.find("root=/dev/"), std::string::npos) << options;
    auto after = statuses(*fixer, guest, facts);
    EXPECT_EQ(after["linux-grub-console"], "pass");
    EXPECT_EQ(after["linux-grub-root"], "pass");
    EXPECT_EQ(after["linux-grub-default"], "pass");
    EXPECT_TRUE(fixer->fix(guest, facts).empty()) << "a second run changed something";
    if (auto defaults = guest.read_if_exists("/etc/default/grub")) {
      EXPECT_NE(defaults->find("console=ttyS0,115200"), std::string::npos) << "later kernels get the console too";
    }
  }
}

// Without a menu it can edit, the grub fixer still answers linux-grub-default, from inspection.
TEST(GrubFixer, NoMenuIsAFailureItCannotRepair) {
  guest::FakeGuest guest;
  inspect::Facts facts;
  facts.os_type = "linux";
  auto fixer = test::fixer_named("grub");
  ASSERT_FALSE(fixer->applies(facts));
  const auto found = fixer->check(guest, facts);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].rule, "linux-grub-default");
  EXPECT_EQ(found[0].status, fixers::Status::fail);
  EXPECT_EQ(found[0].message, "no GRUB menu to read the default entry from");
  EXPECT_FALSE(found[0].repairable);
  EXPECT_TRUE(fixer->fix(guest, facts).empty());
}

TEST(GrubFixer, CentosDeviceRootBecomesUuidAndGrubenvKeepsItsSize) {
  guest::FakeGuest guest;
  load_fixture(guest, "centos7-vmware");
  inspect::Facts facts = facts_of(guest);
  auto fixer = grub_fixer();
  EXPECT_EQ(statuses(*fixer, guest, facts)["linux-grub-root"], "fail") << "the fixture's grub.cfg says root=/dev/sda3";
  fixer->fix(guest, facts);
  EXPECT_NE(guest.read("/boot/grub2/grub.cfg").find(std::string("root=UUID=") + kRootUuid), std::string::npos);

  // A saved_entry naming a kernel that is gone: grubenv points at the entry that boots.
  guest::FakeGuest stale;
  load_fixture(stale, "centos7-vmware");
  std::string block = "# GRUB Environment Block\nsaved_entry=CentOS Linux (3.10.0-957.el7.x86_64) 7 (Core)\n";
  block.resize(1024, '#');
  stale.add_file("/boot/grub2/grubenv", block);
  stale.add_file(
      "/boot/grub2/grub.cfg",
      "if [ \"${next_entry}\" ] ; then\n  set default=\"${next_entry}\"\nelse\n  set default=\"${saved_entry}\"\nfi\n" +
          stale.read("/boot/grub2/grub.cfg"));
  facts = facts_of(stale);
  auto found = fixer->check(stale, facts);
  auto it = std::find_if(found.begin(), found.end(), [](const Finding& f) { return f.rule == "linux-grub-default"; });
  ASSERT_NE(it, found.end());
  EXPECT_EQ(it->status, Status::fail);
  EXPECT_TRUE(it->repairable);
  fixer->fix(stale, facts);
  const std::string env = stale.read("/boot/grub2/grubenv");
  EXPECT_EQ(env.size(), 1024u);
  EXPECT_EQ(bootloader::parse_grubenv(env).at("saved_entry"), "0");
  EXPECT_EQ(statuses(*fixer, stale, facts_of(stale))["linux-grub-default"], "pass");

  // No entry boots an installed kernel, and no grub-mkconfig to write one: failing, not fixable.
  guest::FakeGuest broken;
  load_fixture(broken, "centos7-vmware");
  broken.rm("/boot/initramfs-3.10.0-1160.el7.x86_64.img");
  found = fixer->check(broken, facts_of(broken));
  it = std::find_if(found.begin(), found.end(), [](const Finding& f) { return f.rule == "linux-grub-default"; });
  ASSERT_NE(it, found.end());
  EXPECT_EQ(it->status, Status::fail);
  EXPECT_FALSE(it->repairable) << it->evidence;
}

// A Debian guest whose GRUB writes device names (GRUB_DISABLE_LINUX_UUID=true, a common preseed
// setting): the menu is edited in place, and /etc/default/grub so that update-grub agrees later.
TEST(GrubFixer, DisabledUuidsAreEditedInPlaceWithoutGrubMkconfig) {
  guest::FakeGuest guest;
  load_fixture(guest, "debian11-gpt-bios");
  guest.add_file("/usr/sbin/grub-mkconfig", "#!/bin/sh\n", 0755);
  guest.add_file("/etc/default/grub",
                 "GRUB_DEFAULT=0\nGRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\nGRUB_CMDLINE_LINUX=\"\"\n"
                 "GRUB_DISABLE_LINUX_UUID=true\n#GRUB_DISABLE_LINUX_PARTUUID=false\n");
  std::string menu = guest.read("/boot/grub/grub.cfg");
  menu.replace(menu.find(std::string("root=UUID=") + kRootUuid),
               std::string("root=UUID=").size() + std::string(kRootUuid).size(), "root=/dev/sda3");
  guest.add_file("/boot/grub/grub.cfg", menu);
  guest.on_run([](const std::vector<std::string>& argv) -> std::string {
    ADD_FAILURE() << "ran " << argv.front() << ": the menu boots, it is edited in place";
    return "";
  });
  inspect::Facts facts = facts_of(guest);
  auto fixer = grub_fixer();
  auto before = statuses(*fixer, guest, facts);
  EXPECT_EQ(before["linux-grub-root"], "fail");
  EXPECT_EQ(before["linux-grub-console"], "fail");
  auto changes = fixer->fix(guest, facts);
  EXPECT_TRUE(guest.commands_run().empty());
  ASSERT_EQ(changes.size(), 2u);  // /etc/default/grub, grub.cfg
  const std::string defaults = guest.read("/etc/default/grub");
  EXPECT_NE(defaults.find("GRUB_DISABLE_LINUX_UUID=false\n"), std::string::npos) << defaults;
  EXPECT_NE(defaults.find("#GRUB_DISABLE_LINUX_PARTUUID=false\n"), std::string::npos) << "comments kept";
  const std::string cfg = guest.read("/boot/grub/grub.cfg");
  EXPECT_NE(cfg.find(std::string("root=UUID=") + kRootUuid +
                     " ro  quiet nvme_core.io_timeout=4294967295 console=tty0 console=ttyS0,115200"),
            std::string::npos)
      << cfg;
  EXPECT_NE(cfg.find(std::string("search --no-floppy --fs-uuid --set=root ") + kRootUuid), std::string::npos)
      << "the rest is kept";
  facts = facts_of(guest);
  auto after = statuses(*fixer, guest, facts);
  EXPECT_EQ(after["linux-grub-root"], "pass");
  EXPECT_EQ(after["linux-grub-console"], "pass");
  EXPECT_TRUE(fixer->fix(guest, facts).empty()) << "a second run changed something";
}

// A device name no filesystem answers is a blocker that names the file and the line.
TEST(GrubFixer, UnknownDeviceNamesAreBlockersWithFileAndLine) {
  guest::FakeGuest guest;
  load_fixture(guest, "debian11-gpt-bios");
  std::string menu = guest.read("/boot/grub/grub.cfg");
  menu.replace(menu.find(std::string("root=UUID=") + kRootUuid),
               std::string("root=UUID=").size() + std::string(kRootUuid).size(), "root=/dev/sdq7");
  guest.add_file("/boot/grub/grub.cfg", menu);
  auto fixer = grub_fixer();
  auto found = fixer->check(guest, facts_of(guest));
  auto it = std::find_if(found.begin(), found.end(),
                         [](const Finding& f) { return f.rule == "linux-grub-root" && !f.repairable; });
  ASSERT_NE(it, found.end());
  EXPECT_EQ(it->evidence.substr(0, 22), "/boot/grub/grub.cfg:7:") << it->evidence;
  EXPECT_NE(it->evidence.find("root=/dev/sdq7"), std::string::npos) << it->evidence;
}

// grub-mkconfig runs only when no entry boots an installed kernel. It runs in the appliance, so
// its menu names the appliance's disks: device names, hints and `set root` are repaired, and a
// UEFI guest keeps UEFI kernel commands.
TEST(GrubFixer, RegeneratesOnlyWhenNoEntryBootsAndRepairsTheAppliancesNames) {
  for (const char* firmware : {"bios", "uefi"}) {
    SCOPED_TRACE(firmware);
    guest::FakeGuest guest;
    load_fixture(guest, "debian11-gpt-bios");
    guest.add_file("/usr/sbin/grub-mkconfig", "#!/bin/sh\n", 0755);
    std::string stale = guest.read("/boot/grub/grub.cfg");
    for (size_t at; (at = stale.find("5.10.0-28")) != std::string::npos;)
      stale.replace(at, 9, "5.10.0-9");  // a kernel since removed
    guest.add_file("/boot/grub/grub.cfg", stale);
    guest.add_mountpoint("/", "/dev/sda2");
    guest.on_run([&](const std::vector<std::string>& argv) -> std::string {
      EXPECT_EQ(argv.back(), "/boot/grub/grub.cfg");
      EXPECT_EQ(guest.read("/boot/grub/device.map"), "(hd0) /dev/disk/guestfs/vmfixa\n")
          << "the disk holding /boot by its label's link, whatever the appliance's kernel named it";
      // What the guest's grub-mkconfig writes in the appliance: its disks, its BIOS.
      guest.write("/boot/grub/grub.cfg",
                  "set default=\"0\"\nmenuentry 'Debian GNU/Linux' {\n\tset root='hd1,gpt2'\n"
                  "\tif [ x$feature_platform_search_hint = xy ]; then\n"
                  "\t  search --no-floppy --fs-uuid --set=root --hint-bios=hd1,gpt2 --hint-efi=hd1,gpt2 "
                  "--hint-baremetal=ahci1,gpt2  " +
                      std::string(kRootUuid) + "\n\telse\n\t  search --no-floppy --fs-uuid --set=root " + kRootUuid +
                      "\n\tfi\n\tlinux16\t/boot/vmlinuz-5.10.0-28-amd64 root=/dev/sdb2 ro quiet resume=/dev/sdb3\n"
                      "\tinitrd16\t/boot/initrd.img-5.10.0-28-amd64\n}\n");
      return "";
    });
    inspect::Facts facts = facts_of(guest);
    facts.boot_mode = std::string(firmware) == "uefi" ? bootloader::BootMode::uefi : bootloader::BootMode::bios;
    auto fixer = grub_fixer();
    auto before = fixer->check(guest, facts);
    auto it =
        std::find_if(before.begin(), before.end(), [](const Finding& f) { return f.rule == "linux-grub-default"; });
    ASSERT_NE(it, before.end());
    EXPECT_EQ(it->status, Status::fail);
    EXPECT_TRUE(it->repairable) << "grub-mkconfig writes a menu for the installed kernel";
    auto changes = fixer->fix(guest, facts);
    ASSERT_EQ(guest.commands_run().size(), 1u);
    EXPECT_FALSE(guest.exists("/boot/grub/device.map")) << "the temporary device map is gone";
    const std::string cfg = guest.read("/boot/grub/grub.cfg");
    EXPECT_TRUE(bootloader::device_names_in_menu(cfg).empty()) << cfg;
    EXPECT_EQ(cfg.find("--hint"), std::string::npos) << cfg;
    EXPECT_NE(cfg.find("set root='hd0,gpt2'"), std::string::npos) << cfg;
    EXPECT_NE(
        cfg.find(std::string("root=UUID=") + kRootUuid +
                 " ro quiet resume=UUID=5555-swap nvme_core.io_timeout=4294967295 console=tty0 console=ttyS0,115200"),
        std::string::npos)
        << cfg;
    const bool uefi = std::string(firmware) == "uefi";
    EXPECT_EQ(cfg.find("linux16") == std::string::npos, uefi) << cfg;
    EXPECT_EQ(cfg.find("\tinitrd\t/boot/initrd.img") != std::string::npos, uefi) << cfg;
    ASSERT_FALSE(changes.empty());
    EXPECT_EQ(changes.back().after.substr(0, 16), "regenerated with");
    facts = facts_of(guest);
    facts.boot_mode = std::string(firmware) == "uefi" ? bootloader::BootMode::uefi : bootloader::BootMode::bios;
    auto after = statuses(*fixer, guest, facts);
    EXPECT_EQ(after["linux-grub-default"], "pass");
    EXPECT_EQ(after["linux-grub-root"], "pass");
    EXPECT_EQ(after["linux-grub-console"], "pass");
    for (const Change& change : fixer->fix(guest, facts))
      ADD_FAILURE() << "changed again: " << change.target << ": " << change.diff;
    EXPECT_EQ(guest.commands_run().size(), 1u) << "nothing left to regenerate for";
  }
}

}  // namespace
}  // namespace vmfix::fixers

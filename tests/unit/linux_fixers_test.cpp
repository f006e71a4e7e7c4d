// The Linux fixers on fake guests holding the Linux fixtures' files: inspect, check, fix, inspect
// again, fix again (nothing changes the second time).
#include <gtest/gtest.h>

#include "fixers/table.h"
#include "fixtures/fixture.h"
#include "guest/fake_guest.h"
#include "inspect/network.h"
#include "inspect/tools.h"
#include "tests/unit/fixture_guest.h"

namespace vmfix::fixers {
namespace {

using test::fixer_named;
using test::load_fixture;

inspect::Facts linux_facts(guest::FakeGuest& guest, std::vector<std::string> packages, const std::string& format) {
  inspect::Facts facts;
  facts.os_type = "linux";
  facts.package_format = format;
  facts.packages = std::move(packages);
  facts.packages_known = true;
  facts.network = inspect::detect_linux_network(guest);
  facts.hypervisor_tools = inspect::detect_linux_tools(guest, facts.packages);
  return facts;
}

bool any_failing(Fixer& fixer, guest::Guest& guest, const inspect::Facts& facts) {
  for (const Finding& finding : fixer.check(guest, facts))
    if (finding.status == Status::fail) return true;
  return false;
}

TEST(LinuxFixers, NetworkDhcpOnEveryLinuxFixture) {
  for (const char* name : {"centos7-vmware", "ubuntu1804-vmware", "debian11-gpt-bios", "rhel8-uefi"}) {
    SCOPED_TRACE(name);
    guest::FakeGuest guest;
    load_fixture(guest, name);
    guest.add_file("/etc/udev/rules.d/70-persistent-net.rules",
                   "SUBSYSTEM==\"net\", ACTION==\"add\", ATTR{address}==\"00:50:56:8a:11:22\", NAME=\"eth0\"\n");
    inspect::Facts facts = linux_facts(guest, {}, "rpm");
    bool had_static =
        std::any_of(facts.network.begin(), facts.network.end(), [](auto& n) { return n.method == "static"; });
    ASSERT_TRUE(had_static) << "every Linux fixture was built with a static address";
    auto fixer = fixer_named("network-dhcp");
    ASSERT_TRUE(fixer->applies(facts));
    EXPECT_TRUE(any_failing(*fixer, guest, facts));
    auto changes = fixer->fix(guest, facts);
    EXPECT_FALSE(changes.empty());
    for (const Change& change : changes) EXPECT_FALSE(change.diff.empty()) << change.target;
    inspect::Facts after = linux_facts(guest, {}, "rpm");
    for (const auto& config : after.network) {
      EXPECT_NE(config.method, "static") << config.file;
      EXPECT_TRUE(config.mac_binding.empty()) << config.file;
    }
    EXPECT_EQ(guest.read("/etc/udev/rules.d/70-persistent-net.rules"), "");
    EXPECT_FALSE(any_failing(*fixer, guest, after));
    EXPECT_TRUE(fixer->fix(guest, after).empty()) << "a second run changed something";
  }
}

TEST(LinuxFixers, NetworkManagerKeyfileKeepsItsMode) {
  guest::FakeGuest guest;
  load_fixture(guest, "rhel8-uefi");
  inspect::Facts facts = linux_facts(guest, {}, "rpm");
  const std::string keyfile = "/etc/NetworkManager/system-connections/ens192.nmconnection";
  guest.chmod(0600, keyfile);
  fixer_named("network-dhcp")->fix(guest, facts);
  EXPECT_EQ(guest.stat(keyfile)->mode, 0600u);
}

TEST(LinuxFixers, VmwareToolsTarballInstallIsRemovedFromItsOwnFileList) {
  guest::FakeGuest guest;
  load_fixture(guest, "centos7-vmware");
  guest.add_file("/etc/yum.repos.d/vmware-tools.repo",
                 "[vmware-tools]\nname=VMware "
                 "Tools\nbaseurl=https://packages.vmware.com/tools/esx/6.5/rhel7/x86_64\nenabled=1\ngpgcheck=1\n");
  guest.add_file("/etc/yum.repos.d/CentOS-Base.repo", "[base]\nname=CentOS-$releasever - Base\nenabled=1\n");
  inspect::Facts facts = linux_facts(guest, {"bash", "kernel"}, "rpm");
  auto fixer = fixer_named("vmware-tools");
  ASSERT_TRUE(fixer->applies(facts));
  EXPECT_TRUE(any_failing(*fixer, guest, facts));
  auto changes = fixer->fix(guest, facts);
  EXPECT_EQ(changes.size(), 2u);
  for (const char* gone : {"/etc/vmware-tools", "/usr/bin/vmware-uninstall-tools.pl", "/usr/bin/vmware-toolbox-cmd",
                           "/usr/lib/vmware-tools", "/etc/rc.d/init.d/vmware-tools", "/etc/rc.d/rc3.d/S03vmware-tools"})
    EXPECT_FALSE(guest.exists(gone)) << gone;
  EXPECT_TRUE(guest.exists("/etc/sysconfig/network-scripts/ifcfg-eth0"));
  EXPECT_NE(guest.read("/etc/yum.repos.d/vmware-tools.repo").find("enabled=0"), std::string::npos);
  EXPECT_EQ(guest.read("/etc/yum.repos.d/vmware-tools.repo").find("enabled=1"), std::string::npos);
  EXPECT_NE(guest.read("/etc/yum.repos.d/CentOS-Base.repo").find("enabled=1"), std::string::npos);
  inspect::Facts after = linux_facts(guest, {"bash", "kernel"}, "rpm");
  EXPECT_TRUE(after.hypervisor_tools.empty());
  EXPECT_FALSE(any_failing(*fixer, guest, after));
  EXPECT_TRUE(fixer->fix(guest, after).empty());
}

TEST(LinuxFixers, VmwareToolsPackagesGoThroughThePackageManagerOrAreMasked) {
  guest::FakeGuest guest;
  guest.mkdir_p("/etc/systemd/system/multi-user.target.wants");
  guest.add_symlink("/etc/systemd/system/multi-user.target.wants/open-vm-tools.service",
                    "/lib/systemd/system/open-vm-tools.service");
  std::vector<std::string> packages{"bash", "open-vm-tools", "open-vm-tools-desktop"};
  inspect::Facts facts = linux_facts(guest, packages, "deb");
  auto fixer = fixer_named("vmware-tools");
  guest.on_run([](const std::vector<std::string>&) { return std::string(); });
  auto changes = fixer->fix(guest, facts);
  ASSERT_EQ(guest.commands_run().size(), 1u);
  EXPECT_EQ(guest.commands_run()[0],
            (std::vector<std::string>{"dpkg", "--purge", "open-vm-tools", "open-vm-tools-desktop"}));
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0].after, "removed (dpkg)");

  // dpkg refuses (a metapackage depends on it): the package stays, nothing of it starts.
  guest::FakeGuest kept;
  // No /etc/systemd in this guest: the masks are made anyway, so the check can see them.
  kept.on_run([](const std::vector<std::string>&) -> std::string {
    throw guest::GuestError(
        "dpkg: dependency problems prevent removal of open-vm-tools: ubuntu-server depends on open-vm-tools");
  });
  inspect::Facts kept_facts = linux_facts(kept, {"open-vm-tools", "ubuntu-server"}, "deb");
  EXPECT_TRUE(any_failing(*fixer, kept, kept_facts));
  auto kept_changes = fixer->fix(kept, kept_facts);
  ASSERT_EQ(kept_changes.size(), 1u);
  EXPECT_NE(kept_changes[0].after.find("ubuntu-server depends on open-vm-tools"), std::string::npos)
      << kept_changes[0].after;
  EXPECT_EQ(kept.stat("/etc/systemd/system/open-vm-tools.service")->kind, guest::FileInfo::Kind::symlink);
  EXPECT_FALSE(any_failing(*fixer, kept, kept_facts));
  EXPECT_TRUE(fixer->fix(kept, kept_facts).empty());
}

}  // namespace
}  // namespace vmfix::fixers

namespace vmfix::fixers {
namespace {

// Debian with ifupdown: the primary NIC comes up by pattern, and networking waits for udev so a
// NIC whose driver loads late still matches it.
TEST(LinuxFixers, IfupdownPatternAndUdevSettle) {
  guest::FakeGuest guest;
  guest.add_file("/etc/network/interfaces",
                 "auto lo\niface lo inet loopback\n\nallow-hotplug ens192\niface ens192 inet static\n"
                 "    address 10.9.8.7/24\n    gateway 10.9.8.1\n");
  guest.add_file("/lib/systemd/system/ifupdown-pre.service", "[Service]\nExecStart=/bin/sh -c 'udevadm settle'\n");
  guest.add_file(
      "/var/lib/dpkg/status",
      "Package: ifupdown\nStatus: install ok installed\nVersion: 0.8.41\n\nPackage: zlib1g\nVersion: 1:1.2.13\n");
  inspect::Facts facts = linux_facts(guest, {"ifupdown"}, "deb");
  auto fixer = test::fixer_named("network-dhcp");
  auto changes = fixer->fix(guest, facts);
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(guest.read("/etc/network/interfaces"),
            "auto lo\niface lo inet loopback\n\nauto /e*/1=ens192\niface ens192 inet dhcp\n");
  const std::string dropin = guest.read("/etc/systemd/system/ifupdown-pre.service.d/50-vmfix-settle.conf");
  EXPECT_NE(dropin.find("ExecStart=\nExecStart=/bin/udevadm settle\n"), std::string::npos) << dropin;
  facts = linux_facts(guest, {"ifupdown"}, "deb");
  EXPECT_FALSE(any_failing(*fixer, guest, facts));
  EXPECT_TRUE(fixer->fix(guest, facts).empty());

  guest::FakeGuest jessie;  // ifupdown 0.7 reads no patterns; no ifupdown-pre.service: no drop-in
  jessie.add_file("/etc/network/interfaces", "auto eth0\niface eth0 inet static\n    address 10.0.0.2/8\n");
  jessie.add_file("/var/lib/dpkg/status", "Package: ifupdown\nVersion: 0.7.53.1\n");
  EXPECT_EQ(fixer->fix(jessie, linux_facts(jessie, {}, "deb")).size(), 1u);
  EXPECT_EQ(jessie.read("/etc/network/interfaces"), "auto eth0\niface eth0 inet dhcp\n");
  EXPECT_FALSE(jessie.exists("/etc/systemd/system/ifupdown-pre.service.d"));
}

}  // namespace
}  // namespace vmfix::fixers

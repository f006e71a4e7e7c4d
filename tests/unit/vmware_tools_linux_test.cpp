// vmware-tools' Linux half on fake guests holding the Linux fixtures' files: packages through the
// guest's package manager, tarball installs by their own file list; a second run changes nothing.
#include <gtest/gtest.h>

#include "fixers/table.h"
#include "fixtures/fixture.h"
#include "guest/fake_guest.h"
#include "inspect/network.h"
#include "inspect/tools.h"
#include "tests/unit/fixture_guest.h"

namespace vmfix::fixers {
namespace {

using test::any_failing;
using test::fixer_named;
using test::linux_facts;
using test::load_fixture;

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

}  // namespace
}  // namespace vmfix::fixers

// network-dhcp's Linux half on fake guests holding the Linux fixtures' files: inspect, check,
// fix, inspect again (no static address left), fix again (nothing changes the second time).
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

// A netplan interface whose keys are indented unevenly is no YAML: netplan refuses the file and
// the instance would come up without network. vmfix does not guess; the check says so, and the
// fix leaves that block as it is while it rewrites the others.
TEST(LinuxFixers, NetworkDhcpReportsANetplanFileThatIsNoYaml) {
  guest::FakeGuest guest;
  guest.add_file("/etc/netplan/50-cloud-init.yaml",
                 "network:\n  version: 2\n  ethernets:\n    ens160:\n        set-name: lan\n"
                 "      addresses: [10.3.0.5/23]\n    ens192:\n      addresses: [10.3.1.5/24]\n");
  inspect::Facts facts = linux_facts(guest, {}, "deb");
  auto fixer = fixer_named("network-dhcp");
  auto findings = fixer->check(guest, facts);
  ASSERT_GE(findings.size(), 2u);
  EXPECT_EQ(findings[0].status, Status::fail);
  EXPECT_FALSE(findings[0].repairable);
  EXPECT_EQ(findings[0].evidence,
            "/etc/netplan/50-cloud-init.yaml: ens160 (line 4): a key is less indented than the interface's first; "
            "fix the file in the guest");
  fixer->fix(guest, facts);
  EXPECT_EQ(guest.read("/etc/netplan/50-cloud-init.yaml"),
            "network:\n  version: 2\n  ethernets:\n    ens160:\n        set-name: lan\n"
            "      addresses: [10.3.0.5/23]\n    ens192:\n      dhcp4: true\n");
  findings = fixer->check(guest, linux_facts(guest, {}, "deb"));
  ASSERT_EQ(findings.size(), 1u) << "the well-formed block is DHCP now";
  EXPECT_FALSE(findings[0].repairable);
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

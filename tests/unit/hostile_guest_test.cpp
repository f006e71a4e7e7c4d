// Guest files laid out to hurt the host: fifos and device nodes where configuration files belong,
// loops of symbolic links, links that climb above the root, files too large to read whole,
// includes that include themselves, a boot menu of a million lines. Each is refused naming the
// file, or read within the guest, in bounded time and memory.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "bootloader/detect.h"
#include "bootloader/grub_edit.h"
#include "fixers/network_rewrite.h"
#include "guest/cached_guest.h"
#include "guest/fake_guest.h"
#include "inspect/network.h"
#include "tests/test_support.h"

namespace vmfix::guest {
namespace {

// The message of the GuestFileRefused that `read` throws.
template <class Read>
std::string refusal(Read read) {
  try {
    read();
  } catch (const GuestFileRefused& refused) {
    return refused.what();
  }
  return "(not refused)";
}

TEST(HostileGuest, FifosDevicesAndLinkLoopsAreRefusedNamingTheFile) {
  FakeGuest guest;
  guest.add_special("/etc/fstab");
  guest.add_special("/dev/zero");
  guest.add_symlink("/etc/network/interfaces", "/dev/zero");
  guest.add_symlink("/etc/hostname", "hostname");
  guest.add_symlink("/etc/a", "b").add_symlink("/etc/b", "./a");
  EXPECT_EQ(refusal([&] { guest.read("/etc/fstab"); }),
            "guest file /etc/fstab is not a regular file (a fifo, device or socket)");
  EXPECT_EQ(refusal([&] { guest.read_if_exists("/etc/network/interfaces"); }),
            "guest file /etc/network/interfaces is not a regular file (a fifo, device or socket)");
  EXPECT_EQ(refusal([&] { guest.read_prefix("/etc/network/interfaces", 16); }),
            "guest file /etc/network/interfaces is not a regular file (a fifo, device or socket)");
  EXPECT_EQ(refusal([&] { guest.read("/etc/hostname"); }), "guest file /etc/hostname is a loop of symbolic links");
  EXPECT_EQ(refusal([&] { guest.read_if_exists("/etc/a"); }), "guest file /etc/a is a loop of symbolic links");
  // A dangling link and a directory are nothing to read, as before.
  guest.add_symlink("/etc/gone", "/nowhere").add_file("/etc/sysconfig/network-scripts/ifcfg-eth0", "DEVICE=eth0\n");
  EXPECT_EQ(guest.read_if_exists("/etc/gone"), std::nullopt);
  EXPECT_EQ(guest.read_if_exists("/etc/sysconfig"), std::nullopt);
}

TEST(HostileGuest, LinksResolveInsideTheGuestEvenWhenTheyClimbAboveItsRoot) {
  FakeGuest guest;
  guest.add_file("/etc/shadow", "root:*:19000:0:99999:7:::\n");
  guest.add_symlink("/etc/fstab", "../../../../etc/shadow");
  guest.add_symlink("/etc/sysconfig", "/../../../../../..");  // the guest's own root
  guest.add_file("/network-scripts/ifcfg-eth0", "DEVICE=eth0\nBOOTPROTO=dhcp\n");
  EXPECT_EQ(guest.read("/etc/fstab"), "root:*:19000:0:99999:7:::\n");
  EXPECT_EQ(guest.stat_target("/etc/sysconfig")->kind, FileInfo::Kind::directory);
  EXPECT_EQ(guest.read("/etc/sysconfig/network-scripts/ifcfg-eth0"), "DEVICE=eth0\nBOOTPROTO=dhcp\n");
}

TEST(HostileGuest, AFileTooLargeToReadWholeIsRefusedBeforeItCrossesTheAppliance) {
  FakeGuest inner;
  inner.add_file("/etc/fstab", std::string(kMaxReadSize + 1, '#'));
  CachedGuest guest(inner);
  EXPECT_EQ(refusal([&] { guest.read("/etc/fstab"); }),
            "guest file /etc/fstab is 67108865 bytes, more than the 64 MiB vmfix reads of such a file");
  EXPECT_EQ(guest.read_prefix("/etc/fstab", 4), "####");  // a header is still read, in place
  inner.add_special("/etc/network/interfaces");
  EXPECT_EQ(refusal([&] { guest.read("/etc/network/interfaces"); }),
            "guest file /etc/network/interfaces is not a regular file (a fifo, device or socket)");
}

TEST(HostileGuest, NetworkIncludesThatIncludeThemselvesEnd) {
  FakeGuest guest;
  guest.add_file("/etc/network/interfaces",
                 "source-directory /etc/network\nsource /etc/network/interfaces\nsource interfaces.d/*\n"
                 "auto eth0\niface eth0 inet static\n  address 10.0.0.5/24\n");
  guest.add_file("/etc/network/interfaces.d/loop", "source /etc/network/interfaces.d/*\n");
  guest.add_symlink("/etc/network/interfaces.d/self", "/etc/network/interfaces.d/self");
  std::vector<inspect::NetworkConfig> configs;
  EXPECT_EQ(refusal([&] { configs = inspect::detect_linux_network(guest); }),
            "guest file /etc/network/interfaces.d/self is a loop of symbolic links");
  guest.rm("/etc/network/interfaces.d/self");
  configs = inspect::detect_linux_network(guest);
  ASSERT_EQ(configs.size(), 1u);
  EXPECT_EQ(configs[0].interface, "eth0");
}

// Bounded by the test's time limit: a pass that is quadratic in lines would take hours.
TEST(HostileGuest, AMillionLineGrubMenuIsReadAndEdited) {
  std::string menu = "set timeout=30\n";
  for (int entry = 0; entry < 1000; ++entry) {
    menu += "menuentry 'Debian' {\n  linux /vmlinuz root=/dev/sda1 ro\n}\n";
    for (int i = 0; i < 997; ++i) menu += "# padding\n";
  }
  FakeGuest guest;
  guest.add_file("/boot/grub/grub.cfg", menu);
  EXPECT_EQ(bootloader::detect_bootloaders(guest).size(), 1u);
  const std::string edited = bootloader::ec2_grub_cfg(guest.read("/boot/grub/grub.cfg"), {});
  EXPECT_EQ(bootloader::linux_command_lines(edited, bootloader::MenuSyntax::grub2).size(), 1000u);
  EXPECT_EQ(bootloader::menu_timeouts(edited, bootloader::MenuSyntax::grub2), std::vector<int>{bootloader::kTimeout});
}

// Bounded by the test's time limit: each list item once took a walk to the end of its list, and
// 100,000 addresses took minutes to read and longer to rewrite.
TEST(HostileGuest, ANetplanInterfaceWithAHundredThousandAddressesIsReadAndRewritten) {
  std::string text = "network:\n  ethernets:\n    eth0:\n      addresses:\n";
  for (int i = 0; i < 100000; ++i) text += fmt::format("      - 10.{}.{}.1/24\n", i / 256 % 256, i % 256);
  const auto configs = inspect::read_netplan("/etc/netplan/01.yaml", text);
  ASSERT_EQ(configs.size(), 1u);
  EXPECT_EQ(configs[0].addresses.size(), 100000u);
  EXPECT_EQ(fixers::dhcp_netplan(text), "network:\n  ethernets:\n    eth0:\n      dhcp4: true\n");
}

}  // namespace
}  // namespace vmfix::guest

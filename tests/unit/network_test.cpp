#include "inspect/network.h"

#include <gtest/gtest.h>

#include "guest/fake_guest.h"
#include "inspect/netplan.h"
#include "support/files.h"
#include "support/text.h"
#include "tests/test_support.h"

namespace vmfix::inspect {

TEST(Network, IfcfgStaticWithMacBinding) {
  auto configs = read_ifcfg("/etc/sysconfig/network-scripts/ifcfg-eth0",
                            "# Intel\nTYPE=Ethernet\nBOOTPROTO=none\nDEVICE=eth0\nHWADDR=\"00:50:56:9a:4b:01\"\n"
                            "IPADDR=10.0.0.5\nPREFIX=24\nIPADDR1='10.0.0.6' # second\n");
  ASSERT_EQ(configs.size(), 1u);
  EXPECT_EQ(configs[0].interface, "eth0");
  EXPECT_EQ(configs[0].method, "static");
  EXPECT_EQ(configs[0].mac_binding, "00:50:56:9a:4b:01");
  EXPECT_EQ(configs[0].addresses, (std::vector<std::string>{"10.0.0.5", "10.0.0.6"}));
  EXPECT_EQ(read_ifcfg("/x/ifcfg-ens33", "BOOTPROTO=dhcp\n")[0].method, "dhcp");
  EXPECT_EQ(read_ifcfg("/x/ifcfg-ens33", "BOOTPROTO=dhcp\n")[0].interface, "ens33");
}

TEST(Network, IfupdownStanzas) {
  auto configs =
      read_ifupdown_stanzas("/etc/network/interfaces",
                            "auto lo\niface lo inet loopback\n\nauto eth0\niface eth0 inet static\n"
                            "    address 192.0.2.7/24\n    gateway 192.0.2.1\n    hwaddress ether 00:0c:29:aa:bb:cc\n"
                            "iface eth1 inet dhcp\niface eth0 inet6 static\n    address 2001:db8::7/64\n");
  ASSERT_EQ(configs.size(), 3u);
  EXPECT_EQ(configs[0].method, "static");
  EXPECT_EQ(configs[0].addresses, (std::vector<std::string>{"192.0.2.7/24"}));
  EXPECT_EQ(configs[0].mac_binding, "00:0c:29:aa:bb:cc");
  EXPECT_EQ(configs[1].method, "dhcp");
  EXPECT_EQ(configs[2].addresses, (std::vector<std::string>{"2001:db8::7/64"}));
}

TEST(Network, NetplanStaticDhcpAndLists) {
  auto configs = read_netplan("/etc/netplan/01.yaml", R"(network:
  version: 2
  ethernets:
    ens160:
      match:
        macaddress: "00:50:56:8a:3c:01"
      set-name: ens160
      addresses:
        - 192.168.10.21/24   # primary
        - "192.168.10.22/24"
      nameservers:
        addresses: [192.168.10.2]
    ens192:
      dhcp4: true
  bonds:
    bond0:
      addresses: [10.0.0.2/24, 10.0.0.3/24]
)");
  ASSERT_EQ(configs.size(), 3u);
  EXPECT_EQ(configs[0].interface, "ens160");
  EXPECT_EQ(configs[0].method, "static");
  EXPECT_EQ(configs[0].mac_binding, "00:50:56:8a:3c:01");
  EXPECT_EQ(configs[0].addresses, (std::vector<std::string>{"192.168.10.21/24", "192.168.10.22/24"}));
  EXPECT_EQ(configs[1].method, "dhcp");
  EXPECT_EQ(configs[2].addresses, (std::vector<std::string>{"10.0.0.2/24", "10.0.0.3/24"}));
}

TEST(Network, NetworkManagerKeyfile) {
  auto configs =
      read_nm_keyfile("/etc/NetworkManager/system-connections/a.nmconnection",
                      "[connection]\nid=Wired\ntype=ethernet\ninterface-name=ens192\n\n[ethernet]\n"
                      "mac-address=00:50:56:A1:22:33\n\n[ipv4]\naddress1=10.50.0.15/24,10.50.0.1\nmethod=manual\n");
  ASSERT_EQ(configs.size(), 1u);
  EXPECT_EQ(configs[0].method, "static");
  EXPECT_EQ(configs[0].addresses, (std::vector<std::string>{"10.50.0.15/24"}));
  EXPECT_EQ(configs[0].mac_binding, "00:50:56:A1:22:33");
  EXPECT_TRUE(read_nm_keyfile("/x/lo", "[connection]\ntype=loopback\n").empty());
}

TEST(Network, SystemdNetworkdCorpusFiles) {
  VMFIX_REQUIRE_CORPUS(corpus);
  auto read = [&](const char* name) {
    const auto path = corpus / "linux/systemd-network" / name;
    return read_networkd(path.string(), read_host_file(path)).at(0);
  };
  NetworkConfig static_config = read("25-address-static.network");
  EXPECT_EQ(static_config.method, "static");
  EXPECT_GE(static_config.addresses.size(), 2u);
  EXPECT_FALSE(read("12-dummy-match-mac-01.network").mac_binding.empty());
  EXPECT_EQ(read("80-container-host0.network").method, "dhcp");
  EXPECT_EQ(read("89-ethernet.network.example").method, "dhcp");
}

TEST(Network, DetectFollowsIfupdownIncludesAndEveryStack) {
  guest::FakeGuest guest;
  guest.add_file("/etc/network/interfaces",
                 "source /etc/network/interfaces.d/*\nsource-directory extra\nauto lo\niface lo inet loopback\n");
  guest.add_file("/etc/network/interfaces.d/eth0", "iface eth0 inet static\n  address 10.1.1.1/24\n");
  guest.add_file("/etc/network/interfaces.d/.hidden", "iface bad0 inet static\n");
  guest.add_file("/etc/network/extra/eth1", "iface eth1 inet dhcp\n");
  guest.add_file("/etc/network/extra/skip.bak", "iface bad1 inet dhcp\n");               // run-parts names only
  guest.add_file("/etc/network/interfaces.d/loop", "source /etc/network/interfaces\n");  // include loop
  guest.add_file("/etc/sysconfig/network-scripts/ifcfg-eth2", "BOOTPROTO=dhcp\nDEVICE=eth2\n");
  guest.add_file("/etc/sysconfig/network-scripts/ifcfg-lo", "DEVICE=lo\n");
  guest.add_file("/etc/netplan/50.yaml", "network:\n  ethernets:\n    ens3:\n      dhcp4: yes\n");
  guest.add_file("/etc/systemd/network/10-eth.network", "[Match]\nName=en*\n[Network]\nDHCP=yes\n");
  guest.add_file("/etc/NetworkManager/system-connections/w.nmconnection",
                 "[connection]\ninterface-name=ens4\n[ipv4]\nmethod=auto\n");
  std::vector<std::string> found;
  for (const auto& config : detect_linux_network(guest))
    found.push_back(config.stack + ":" + config.interface + ":" + config.method);
  std::sort(found.begin(), found.end());
  EXPECT_EQ(found,
            (std::vector<std::string>{"ifcfg:eth2:dhcp", "ifupdown:eth0:static", "ifupdown:eth1:dhcp",
                                      "netplan:ens3:dhcp", "networkmanager:ens4:dhcp", "systemd-networkd:en*:dhcp"}));
}

}  // namespace vmfix::inspect

namespace vmfix::inspect::netplan {
namespace {

// The one netplan reader inspection and the rewriter share: interface blocks and their values.
TEST(Netplan, InterfaceBlocksListsAndComments) {
  const std::vector<std::string> lines{"# written by the installer",
                                       "network:",
                                       "  version: 2",
                                       "  ethernets:",
                                       "    ens192:   # the VMware NIC",
                                       "      addresses: [10.0.0.5/24, \"fd00::5/64\"]  # static",
                                       "      match:",
                                       "        macaddress: \"00:50:56:8a:3c:21\"",
                                       "",
                                       "    ens224: {}",
                                       "  bonds:",
                                       "    bond0:",
                                       "      addresses:",
                                       "        - 192.168.1.2/24 # primary",
                                       "  renderer: networkd"};
  const std::vector<Interface> found = interfaces(lines);
  ASSERT_EQ(found.size(), 3u);
  EXPECT_EQ(found[0].kind, "ethernets");
  EXPECT_EQ(found[0].name, "ens192");
  EXPECT_EQ(found[0].header, 4u);
  EXPECT_EQ(found[0].end, 8u) << "the blank line after the block is not part of it";
  EXPECT_EQ(found[1].name, "ens224");
  EXPECT_EQ(found[1].end, 10u);
  EXPECT_EQ(found[2].kind, "bonds");
  EXPECT_EQ(found[2].end, 14u);
  EXPECT_EQ(child_indent(lines, found[0].header, found[0].end), 6u);
  EXPECT_EQ(key_of(lines[5]), "addresses");
  EXPECT_EQ(flow_list(value_of(lines[5])), (std::vector<std::string>{"10.0.0.5/24", "fd00::5/64"}));
  EXPECT_EQ(unquote(value_of(lines[7])), "00:50:56:8a:3c:21");
  EXPECT_EQ(list_item(lines[13]), "192.168.1.2/24");
  EXPECT_EQ(key_of(lines[13]), "") << "a list item is not a key";
  EXPECT_EQ(flow_list("[]"), std::vector<std::string>{});

  const auto configs = read_netplan("/etc/netplan/50.yaml", [&] {
    std::string text;
    for (const std::string& line : lines) text += line + "\n";
    return text;
  }());
  ASSERT_EQ(configs.size(), 3u);
  EXPECT_EQ(configs[0].method, "static");
  EXPECT_EQ(configs[0].addresses, (std::vector<std::string>{"10.0.0.5/24", "fd00::5/64"}));
  EXPECT_EQ(configs[0].mac_binding, "00:50:56:8a:3c:21");
  EXPECT_EQ(configs[1].method, "manual");
  EXPECT_EQ(configs[2].addresses, std::vector<std::string>{"192.168.1.2/24"});
}

}  // namespace
}  // namespace vmfix::inspect::netplan

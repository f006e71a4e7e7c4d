// The FirstBootFailure causes vmfix reads offline, on the corpus's real hives: the boot menu of a
// real BCD store (virt-v2v's test data, exported from Windows), and the Windows Server 2022 SYSTEM
// and SOFTWARE hives with what each cause looks like merged in: a second boot entry, the Hyper-V
// role, the DHCP client disabled, a firewall ignoring its rules, another RDP port, EC2 agents.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include "inspect/windows.h"
#include "registry/empty_hive.h"
#include "registry/reg_text.h"
#include "registry/values.h"
#include "rules/engine.h"
#include "rules/profile.h"
#include "support/files.h"
#include "tests/test_support.h"

namespace vmfix::inspect {
namespace {

using registry::Hive;
namespace fs = std::filesystem;

class WindowsFirstBoot : public ::testing::Test {
 protected:
  void SetUp() override {
    auto corpus = test::corpus_dir();
    if (!corpus) GTEST_SKIP() << "../shared/corpus is absent";
    phony_ = *corpus / "hives/virt-v2v-phony";
    make("BCD", "BCD00000000", read_host_file(phony_ / "windows-bcd.reg"), "");
    make("SYSTEM", "SYSTEM", read_host_file(phony_ / "windows-system.reg"), "HKEY_LOCAL_MACHINE\\SYSTEM");
    make("SOFTWARE", "SOFTWARE", read_host_file(phony_ / "win2k22-software.reg"), "HKEY_LOCAL_MACHINE\\SOFTWARE");
    // What a real SYSTEM hive has and the phony one leaves out: the DHCP client, automatic.
    merge("SYSTEM", "[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\Dhcp]\n\"Start\"=dword:00000002\n");
  }
  void make(const std::string& name, const std::string& root, const std::string& reg, const std::string& prefix) {
    write_host_file_atomic(file(name), registry::empty_hive(root));
    Hive hive(file(name), Hive::Mode::writable);
    registry::merge_reg(hive, reg, prefix);
    hive.commit(file(name));
  }
  void merge(const std::string& name, const std::string& reg, std::string prefix = "") {
    if (prefix.empty() && name != "BCD") prefix = "HKEY_LOCAL_MACHINE\\" + name;
    Hive hive(file(name), Hive::Mode::writable);
    registry::merge_reg(hive, reg, prefix);
    hive.commit(file(name));
  }
  fs::path file(const std::string& name) const { return scratch_.path() / name; }
  Facts facts() {
    Facts facts;
    facts.os_type = facts.distro = "windows";
    facts.windows_current_control_set = "ControlSet001";
    Hive system(file("SYSTEM"), Hive::Mode::read_only), software(file("SOFTWARE"), Hive::Mode::read_only);
    facts.windows = read_windows_facts(system, "ControlSet001", &software);
    Hive bcd(file("BCD"), Hive::Mode::read_only);
    BootMenu menu = read_boot_menu(bcd);
    menu.store = "/Boot/BCD";
    facts.boot_menus.push_back(menu);
    return facts;
  }
  rules::Outcome outcome(const std::string& rule) {
    const Facts f = facts();
    const rules::Evaluation evaluation =
        rules::evaluate({rules::load_profile("aws-current"), f, {"raw", "", "", 1, -1, -1, -1}, nullptr, {}});
    for (const rules::Result& result : evaluation.results)
      if (result.rule->id == rule) return result.outcome;
    ADD_FAILURE() << "no rule " << rule;
    return {};
  }

  TempDir scratch_{"vmfix-first-boot"};
  fs::path phony_;
};

constexpr const char* kEntry = "{9dd54393-76ea-11ed-8c7c-de4e190a0ee1}";

// REG_MULTI_SZ as .reg text wants it after hex(7): UTF-16LE bytes.
std::string multi_sz_hex(const std::vector<std::string>& items) {
  const std::string bytes = registry::make_multi_string("", items).data;
  std::string text;
  for (size_t i = 0; i < bytes.size(); ++i)
    text += fmt::format("{}{:02x}", i ? "," : "", static_cast<unsigned char>(bytes[i]));
  return text;
}

TEST_F(WindowsFirstBoot, TheRealBcdHasOneEntryAndAThirtySecondTimeout) {
  const BootMenu menu = facts().boot_menus.front();
  EXPECT_EQ(menu.error, "");
  EXPECT_EQ(menu.entries, std::vector<std::string>{kEntry});
  EXPECT_EQ(menu.default_entry, kEntry);
  EXPECT_EQ(menu.timeout, 30u);
  EXPECT_FALSE(menu.hypervisor_launch.has_value());
  EXPECT_EQ(outcome("windows-boot-menu").status, rules::Status::pass);
  EXPECT_EQ(outcome("windows-hyper-v").status, rules::Status::pass);
}

TEST_F(WindowsFirstBoot, ASecondBootEntryIsAMenuTheFirstBootCanStopAt) {
  // bcdedit /copy {current}: a second entry in the display order.
  merge("BCD", "[\\Objects\\{9dea862c-5cdd-4e70-acc1-f32b344d4795}\\Elements\\24000001]\n\"Element\"=hex(7):" +
                   multi_sz_hex({kEntry, "{466f5a88-0af2-4f76-9038-095b170dc21c}"}) + "\n");
  const rules::Outcome menu = outcome("windows-boot-menu");
  EXPECT_EQ(menu.status, rules::Status::fail);
  ASSERT_EQ(menu.evidence.size(), 1u);
  EXPECT_NE(menu.evidence[0].find("/Boot/BCD: 2 entries"), std::string::npos) << menu.evidence[0];
  EXPECT_NE(menu.evidence[0].find("30 s"), std::string::npos) << menu.evidence[0];
}

TEST_F(WindowsFirstBoot, TheHyperVRoleByItsServiceOrItsHypervisorLaunchType) {
  merge("BCD",
        std::string("[\\Objects\\") + kEntry + "\\Elements\\250000f0]\n\"Element\"=hex(3):01,00,00,00,00,00,00,00\n");
  EXPECT_EQ(facts().boot_menus.front().hypervisor_launch, 1u);
  rules::Outcome hyper_v = outcome("windows-hyper-v");
  EXPECT_EQ(hyper_v.status, rules::Status::fail);
  EXPECT_NE(hyper_v.evidence.at(0).find("hypervisorlaunchtype Auto"), std::string::npos);
  merge("SYSTEM", "[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\vmms]\n\"Start\"=dword:00000002\n");
  EXPECT_EQ(outcome("windows-hyper-v").evidence.size(), 2u);
}

TEST_F(WindowsFirstBoot, TheDhcpClientDisabledBlocks) {
  EXPECT_EQ(outcome("windows-dhcp-service").status, rules::Status::pass);
  merge("SYSTEM", "[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\Dhcp]\n\"Start\"=dword:00000004\n");
  const rules::Outcome dhcp = outcome("windows-dhcp-service");
  EXPECT_EQ(dhcp.status, rules::Status::fail);
  EXPECT_EQ(dhcp.evidence, std::vector<std::string>{"ControlSet001\\Services\\Dhcp\\Start=4"});
  for (const rules::Rule& rule : rules::load_profile("aws-current").rules)
    if (rule.id == "windows-dhcp-service") {
      EXPECT_EQ(rule.severity, rules::Severity::blocker);
    }
}

TEST_F(WindowsFirstBoot, AFirewallIgnoringItsRulesInEveryProfileKeepsRdpOut) {
  EXPECT_EQ(outcome("windows-firewall").status, rules::Status::pass) << "Windows defaults let the rules apply";
  std::string reg;
  for (const char* profile : {"DomainProfile", "StandardProfile", "PublicProfile"})
    reg += std::string(
               "[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\SharedAccess\\Parameters\\FirewallPolicy\\") +
           profile + "]\n\"EnableFirewall\"=dword:00000001\n\"DoNotAllowExceptions\"=dword:00000001\n";
  merge("SYSTEM", reg);
  const rules::Outcome shut = outcome("windows-firewall");
  EXPECT_EQ(shut.status, rules::Status::fail);
  EXPECT_EQ(shut.evidence.size(), 3u);
  // Group Policy turning the domain profile off wins over the local setting.
  merge("SOFTWARE",
        "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\WindowsFirewall\\DomainProfile]\n"
        "\"EnableFirewall\"=dword:00000000\n");
  const rules::Outcome open = outcome("windows-firewall");
  EXPECT_EQ(open.status, rules::Status::pass);
  EXPECT_NE(open.evidence.at(0).find("Policies\\Microsoft\\WindowsFirewall\\DomainProfile\\EnableFirewall=0"),
            std::string::npos)
      << open.evidence.at(0);
}

TEST_F(WindowsFirstBoot, AnotherRdpPortIsReportedAndEc2AgentsAreNamed) {
  EXPECT_EQ(outcome("windows-rdp-port").status, rules::Status::pass);
  merge("SYSTEM",
        "[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Control\\Terminal Server\\WinStations\\RDP-Tcp]\n"
        "\"PortNumber\"=dword:00000d3e\n"
        "[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\AmazonSSMAgent]\n\"Start\"=dword:00000002\n");
  const rules::Outcome port = outcome("windows-rdp-port");
  EXPECT_EQ(port.status, rules::Status::fail);
  EXPECT_NE(port.message.find("port 3390"), std::string::npos) << port.message;
  const rules::Outcome agents = outcome("windows-ec2-agents");
  EXPECT_EQ(agents.status, rules::Status::pass);
  EXPECT_EQ(agents.evidence, std::vector<std::string>{"AmazonSSMAgent"});
}

}  // namespace
}  // namespace vmfix::inspect

// Windows facts read from hives written here: pending reboots and updates, and a Windows Update
// that installs on its own (AUOptions 4), with the policy winning over the user setting.
#include <gtest/gtest.h>

#include "fixtures/fixture.h"
#include "inspect/windows.h"
#include "registry/empty_hive.h"
#include "registry/reg_text.h"
#include "registry/values.h"
#include "support/files.h"
#include "tests/test_support.h"

namespace vmfix::inspect {
namespace {

using registry::Hive;

class WindowsFactsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    write_host_file_atomic(system_file_, registry::empty_hive("SYSTEM"));
    write_host_file_atomic(software_file_, registry::empty_hive("SOFTWARE"));
    Hive system(system_file_, Hive::Mode::writable);
    system.create("ControlSet001\\Control\\Session Manager");
    system.commit(system_file_);
  }
  void software_dword(const std::string& key, const std::string& name, uint32_t value) {
    Hive software(software_file_, Hive::Mode::writable);
    software.set_value(software.create(key), registry::make_dword(name, value));
    software.commit(software_file_);
  }
  WindowsFacts read() {
    Hive system(system_file_, Hive::Mode::read_only);
    Hive software(software_file_, Hive::Mode::read_only);
    return read_windows_facts(system, "ControlSet001", &software);
  }
  TempDir scratch_{"vmfix-winfacts-test"};
  std::filesystem::path system_file_ = scratch_.path() / "SYSTEM", software_file_ = scratch_.path() / "SOFTWARE";
};

TEST_F(WindowsFactsTest, PendingUpdatesAndAutomaticInstall) {
  EXPECT_TRUE(read().pending_reboot.empty());
  EXPECT_EQ(read().automatic_install, "");

  software_dword("Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Auto Update", "AUOptions", 2);  // notify only
  EXPECT_EQ(read().automatic_install, "");
  software_dword("Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Auto Update", "AUOptions", 4);
  EXPECT_EQ(read().automatic_install,
            "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Auto Update\\AUOptions=4");
  software_dword("Policies\\Microsoft\\Windows\\WindowsUpdate\\AU", "NoAutoUpdate", 1);  // the policy turns it off
  EXPECT_EQ(read().automatic_install, "");

  software_dword("Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Services\\Pending", "x", 1);
  software_dword("Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\PackagesPending", "y", 1);
  EXPECT_EQ(read().pending_reboot,
            (std::vector<std::string>{
                "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\PackagesPending",
                "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Services\\Pending"}));
}

// Product and version from the SOFTWARE hives of the corpus (virt-v2v's phony guests), as
// libguestfs's inspection reports them; Windows 11 says "Windows 10" in ProductName.
TEST_F(WindowsFactsTest, VersionFromTheCorpusSoftwareHives) {
  VMFIX_REQUIRE_CORPUS(corpus);
  struct Case {
    const char* file;
    const char* product;
    const char* variant;
    int major, minor;
  };
  for (const Case& c : {Case{"win11-software.reg", "Windows 11 Home", "Client", 10, 0},
                        Case{"win10-software.reg", "Windows 10 Enterprise Evaluation", "Client", 10, 0},
                        Case{"win7-32-software.reg", "Microsoft Windows 7 Phony Edition", "Client", 6, 1},
                        Case{"winxp-32-software.reg", "Microsoft Windows XP Phony Edition", "Client", 5, 2}}) {
    SCOPED_TRACE(c.file);
    write_host_file_atomic(software_file_, registry::empty_hive("SOFTWARE"));
    {
      Hive software(software_file_, Hive::Mode::writable);
      registry::merge_reg(software, read_host_file(corpus / "hives/virt-v2v-phony" / c.file),
                          "HKEY_LOCAL_MACHINE\\SOFTWARE");
      software.commit(software_file_);
    }
    Hive system(system_file_, Hive::Mode::read_only);
    Hive software(software_file_, Hive::Mode::read_only);
    WindowsVersion version = read_windows_version(system, "ControlSet001", &software);
    EXPECT_EQ(version.product_name, c.product);
    EXPECT_EQ(version.product_variant, c.variant);
    EXPECT_EQ(version.major, c.major);
    EXPECT_EQ(version.minor, c.minor);
  }
}

TEST_F(WindowsFactsTest, HostNameAndArchitectureFromTheControlSet) {
  {
    Hive system(system_file_, Hive::Mode::writable);
    system.set_value(system.create("ControlSet001\\Control\\ComputerName\\ComputerName"),
                     registry::make_string("ComputerName", "FALLBACK"));
    system.set_value(system.create("ControlSet001\\Control\\Session Manager\\Environment"),
                     registry::make_string("PROCESSOR_ARCHITECTURE", "AMD64"));
    system.commit(system_file_);
  }
  auto version = [&] {
    Hive system(system_file_, Hive::Mode::read_only);
    return read_windows_version(system, "ControlSet001", nullptr);
  };
  EXPECT_EQ(version().hostname, "FALLBACK");
  EXPECT_EQ(version().arch, "x86_64");
  EXPECT_EQ(version().product_name, "") << "no SOFTWARE hive";
  {
    Hive system(system_file_, Hive::Mode::writable);
    system.set_value(system.create("ControlSet001\\Services\\Tcpip\\Parameters"),
                     registry::make_string("Hostname", "web01"));
    system.set_value(system.create("ControlSet001\\Control\\Session Manager\\Environment"),
                     registry::make_string("PROCESSOR_ARCHITECTURE", "x86"));
    system.commit(system_file_);
  }
  EXPECT_EQ(version().hostname, "web01") << "TCP/IP's host name first, as libguestfs reads it";
  EXPECT_EQ(version().arch, "i386");
}

// Without the corpus: the version from CurrentVersion alone (before Windows 10), and Windows 11
// by its build number.
TEST_F(WindowsFactsTest, VersionFallbacksAndWindows11) {
  auto version_with = [&](const std::string& reg) {
    write_host_file_atomic(software_file_, registry::empty_hive("SOFTWARE"));
    {
      Hive software(software_file_, Hive::Mode::writable);
      registry::merge_reg(software, "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion]\n" + reg,
                          "HKEY_LOCAL_MACHINE\\SOFTWARE");
      software.commit(software_file_);
    }
    Hive system(system_file_, Hive::Mode::read_only);
    Hive software(software_file_, Hive::Mode::read_only);
    return read_windows_version(system, "ControlSet001", &software);
  };
  WindowsVersion server =
      version_with("\"ProductName\"=\"Windows Server 2008 R2 Standard\"\n\"CurrentVersion\"=\"6.1\"\n");
  EXPECT_EQ(server.major, 6);
  EXPECT_EQ(server.minor, 1);
  WindowsVersion eleven = version_with(
      "\"ProductName\"=\"Windows 10 Pro\"\n\"CurrentVersion\"=\"6.3\"\n"
      "\"CurrentMajorVersionNumber\"=dword:0000000a\n\"CurrentBuildNumber\"=\"22631\"\n");
  EXPECT_EQ(eleven.product_name, "Windows 11 Pro");
  EXPECT_EQ(eleven.major, 10);
  EXPECT_EQ(eleven.minor, 0) << "no CurrentMinorVersionNumber";
  WindowsVersion ten = version_with(
      "\"ProductName\"=\"Windows 10 Pro\"\n\"CurrentMajorVersionNumber\"=dword:0000000a\n"
      "\"CurrentBuildNumber\"=\"19045\"\n");
  EXPECT_EQ(ten.product_name, "Windows 10 Pro");
}

TEST(PeArchitecture, MachineFieldOfThePeHeader) {
  EXPECT_EQ(pe_architecture(fixtures::pe32plus_x86_64_console_program()), "x86_64");
  std::string header(0x200, '\0');
  header[0] = 'M', header[1] = 'Z', header[0x3c] = char(0x80);
  header.replace(0x80, 4, std::string("PE\0\0", 4));
  auto machine = [&](uint16_t value) {
    header[0x84] = char(value & 0xff), header[0x85] = char(value >> 8);
    return pe_architecture(header);
  };
  EXPECT_EQ(machine(0x014c), "i386");
  EXPECT_EQ(machine(0xaa64), "aarch64");
  EXPECT_EQ(machine(0x8664), "x86_64");
  EXPECT_EQ(machine(0x0200), "") << "Itanium: not a machine vmfix names";
  EXPECT_EQ(machine(0x8664), "x86_64");
  EXPECT_EQ(pe_architecture(header.substr(0, 0x82)), "") << "header cut inside the PE signature";
  EXPECT_EQ(pe_architecture(header.substr(0, 0x84)), "") << "header cut before the machine field";
  EXPECT_EQ(pe_architecture(header.substr(0, 0x85)), "") << "header cut inside the machine field";
  EXPECT_EQ(pe_architecture(header.substr(0, 0x86)), "x86_64");
  header[0x3c] = char(0xff), header[0x3d] = char(0xff), header[0x3e] = char(0xff), header[0x3f] = char(0x7f);
  EXPECT_EQ(pe_architecture(header), "") << "e_lfanew far past the bytes read";
  EXPECT_EQ(pe_architecture("\x7f"
                            "ELF"),
            "");
  EXPECT_EQ(pe_architecture(""), "");
}

}  // namespace
}  // namespace vmfix::inspect

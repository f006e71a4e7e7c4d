// Windows facts read from hives written here: pending reboots and updates, and a Windows Update
// that installs on its own (AUOptions 4), with the policy winning over the user setting.
#include <gtest/gtest.h>

#include "inspect/windows.h"
#include "registry/empty_hive.h"
#include "registry/values.h"
#include "support/files.h"

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
  EXPECT_EQ(read().automatic_install, "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Auto Update\\AUOptions=4");
  software_dword("Policies\\Microsoft\\Windows\\WindowsUpdate\\AU", "NoAutoUpdate", 1);  // the policy turns it off
  EXPECT_EQ(read().automatic_install, "");

  software_dword("Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Services\\Pending", "x", 1);
  software_dword("Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\PackagesPending", "y", 1);
  EXPECT_EQ(read().pending_reboot,
            (std::vector<std::string>{"HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\PackagesPending",
                                      "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Services\\Pending"}));
}

}  // namespace
}  // namespace vmfix::inspect

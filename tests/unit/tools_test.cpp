#include "inspect/tools.h"

#include <gtest/gtest.h>

#include "guest/fake_guest.h"

namespace vmfix::inspect {

namespace {
std::vector<std::string> names(const std::vector<HypervisorTool>& tools) {
  std::vector<std::string> out;
  for (const auto& tool : tools) out.push_back(tool.name + "/" + tool.form + ":" + tool.evidence);
  return out;
}
}  // namespace

TEST(Tools, PackagesByName) {
  guest::FakeGuest guest;
  EXPECT_EQ(
      names(detect_linux_tools(guest, {"bash", "open-vm-tools", "open-vm-tools-desktop", "kmod-vmware-tools-vmxnet3",
                                       "virtualbox-guest-utils"})),
      (std::vector<std::string>{"open-vm-tools/package:open-vm-tools", "open-vm-tools/package:open-vm-tools-desktop",
                                "vmware-tools/package:kmod-vmware-tools-vmxnet3",
                                "virtualbox-guest-additions/package:virtualbox-guest-utils"}));
}

TEST(Tools, TarballInstallAndFileFallback) {
  guest::FakeGuest tarball;
  tarball.add_file("/usr/bin/vmware-uninstall-tools.pl", "#!/usr/bin/perl\n");
  tarball.add_file("/usr/bin/vmtoolsd", "elf");
  EXPECT_EQ(names(detect_linux_tools(tarball, {})),
            (std::vector<std::string>{"vmware-tools/tarball:/usr/bin/vmware-uninstall-tools.pl"}));
  guest::FakeGuest unreadable_db;
  unreadable_db.add_file("/usr/bin/vmtoolsd", "elf");
  unreadable_db.add_file("/opt/VBoxGuestAdditions-6.1.40/init/vboxadd", "");
  EXPECT_EQ(names(detect_linux_tools(unreadable_db, {})),
            (std::vector<std::string>{"open-vm-tools/files:/usr/bin/vmtoolsd",
                                      "virtualbox-guest-additions/tarball:/opt/VBoxGuestAdditions-6.1.40"}));
  guest::FakeGuest clean;
  clean.add_file("/etc/fstab", "");
  EXPECT_TRUE(detect_linux_tools(clean, {"bash"}).empty());
}

}  // namespace vmfix::inspect

#include "guest/fake_guest.h"

#include <gtest/gtest.h>

namespace vmfix::guest {

TEST(FakeGuest, WritesReadsAndListsLikeAFilesystem) {
  FakeGuest guest;
  guest.add_file("/etc/hostname", "old\n");
  EXPECT_EQ(guest.read("/etc/hostname"), "old\n");
  guest.write("/etc/hostname", "new\n");
  EXPECT_EQ(guest.read("/etc/hostname"), "new\n");
  guest.mkdir_p("/etc/sysconfig/network-scripts");
  guest.write("/etc/sysconfig/network-scripts/ifcfg-eth0", "DEVICE=eth0\n");
  EXPECT_EQ(guest.ls("/etc"), (std::vector<std::string>{"hostname", "sysconfig"}));
  EXPECT_TRUE(guest.is_dir("/etc/sysconfig"));
  EXPECT_TRUE(guest.is_file("/etc/sysconfig/network-scripts/ifcfg-eth0"));
  EXPECT_EQ(guest.files_in("/etc/sysconfig/network-scripts"),
            (std::vector<std::string>{"/etc/sysconfig/network-scripts/ifcfg-eth0"}));
}

TEST(FakeGuest, FailsLikeTheAppliance) {
  FakeGuest guest;
  EXPECT_THROW(guest.read("/missing"), GuestError);
  EXPECT_THROW(guest.write("/no/such/dir/file", "x"), GuestError);
  guest.mkdir_p("/dir");
  EXPECT_THROW(guest.rm("/dir"), GuestError);
  EXPECT_THROW(guest.write("/dir", "x"), GuestError);
  EXPECT_THROW(guest.ls("relative"), GuestError);
}

TEST(FakeGuest, RemovesTreesAndKeepsModes) {
  FakeGuest guest;
  guest.add_file("/usr/lib/vmware-tools/bin/vmtoolsd", "elf", 0755);
  guest.add_file("/usr/lib/other", "x");
  EXPECT_EQ(guest.stat("/usr/lib/vmware-tools/bin/vmtoolsd")->mode, 0755u);
  guest.chmod(0700, "/usr/lib/vmware-tools/bin/vmtoolsd");
  EXPECT_EQ(guest.stat("/usr/lib/vmware-tools/bin/vmtoolsd")->mode, 0700u);
  guest.rm_rf("/usr/lib/vmware-tools");
  EXPECT_FALSE(guest.exists("/usr/lib/vmware-tools"));
  EXPECT_FALSE(guest.exists("/usr/lib/vmware-tools/bin/vmtoolsd"));
  EXPECT_TRUE(guest.exists("/usr/lib/other"));
  guest.rm_rf("/not/there");  // no error, like rm -rf
}

TEST(FakeGuest, ResolvesWindowsPathsCaseInsensitively) {
  FakeGuest guest;
  guest.add_file("/Windows/System32/config/SYSTEM", "hive");
  EXPECT_EQ(guest.resolve_case("/windows/system32/CONFIG/system"), "/Windows/System32/config/SYSTEM");
  EXPECT_EQ(guest.resolve_case("/windows/missing/file"), "/Windows/missing/file");
}

TEST(FakeGuest, SymlinksAreSeenByLstat) {
  FakeGuest guest;
  guest.add_symlink("/bin", "usr/bin");
  EXPECT_EQ(guest.stat("/bin")->kind, FileInfo::Kind::symlink);
  EXPECT_FALSE(guest.is_dir("/bin"));
}

TEST(FakeGuest, RunsCommandsThroughTheHandler) {
  FakeGuest guest;
  EXPECT_THROW(guest.run({"rpm", "-qa"}), GuestError);
  guest.on_run([](const std::vector<std::string>& argv) { return argv.front() == "rpm" ? "open-vm-tools\n" : ""; });
  EXPECT_EQ(guest.run({"rpm", "-qa"}), "open-vm-tools\n");
  ASSERT_EQ(guest.commands_run().size(), 2u);
  EXPECT_EQ(guest.commands_run()[1], (std::vector<std::string>{"rpm", "-qa"}));
}

}  // namespace vmfix::guest

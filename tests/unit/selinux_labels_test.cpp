// SELinux guests: what changed since the fixers began gets the policy's label, looked up on the
// host from the guest's own file_contexts; labelled files keep theirs; without a readable policy
// the guest is asked to relabel at first boot.
#include "fixers/selinux_labels.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "guest/fake_guest.h"

namespace vmfix::fixers {
namespace {

using namespace std::string_literals;

// The shape of refpolicy's file_contexts (Debian's selinux-policy-default), cut down.
constexpr const char* kFileContexts =
    "/.*\tsystem_u:object_r:default_t:s0\n"
    "/etc(/.*)?\tsystem_u:object_r:etc_t:s0\n"
    "/etc/systemd/system(/.*)?\tsystem_u:object_r:systemd_unit_file_t:s0\n"
    "/etc/network/interfaces\t--\tsystem_u:object_r:net_conf_t:s0\n"
    "/boot(/.*)?\tsystem_u:object_r:boot_t:s0\n"
    "/var/lib/dpkg(/.*)?\tsystem_u:object_r:dpkg_var_lib_t:s0\n";

guest::FakeGuest selinux_guest(const std::string& mode) {
  guest::FakeGuest guest;
  guest.add_file("/etc/selinux/config",
                 "# This file controls the state of SELinux\nSELINUX=" + mode + "\nSELINUXTYPE=default\n");
  guest.add_file("/etc/selinux/default/contexts/files/file_contexts", kFileContexts);
  guest.add_file("/etc/selinux/default/contexts/files/file_contexts.local", "");
  guest.add_file("/usr/bin/find", "", 0755);
  guest.add_file("/etc/network/interfaces", "auto lo\n");
  guest.set_xattr("/etc/network/interfaces", "security.selinux", "system_u:object_r:net_conf_t:s0\0"s);
  guest.set_xattr("/", "security.selinux", "system_u:object_r:root_t:s0\0"s);
  return guest;
}

inspect::Facts linux_facts() {
  inspect::Facts facts;
  facts.os_type = "linux";
  facts.filesystems = {{"/dev/sda1", "ext4", "", "1111", "/", {}, {}, {}},
                       {"/dev/sda2", "vfat", "", "2222", "/boot/efi", {}, {}, {}}};
  return facts;
}

TEST(SelinuxLabels, PolicyFromTheGuestsConfig) {
  auto guest = selinux_guest("enforcing");
  auto policy = selinux_policy(guest);
  ASSERT_TRUE(policy);
  EXPECT_EQ(policy->mode, "enforcing");
  EXPECT_EQ(policy->file_contexts, "/etc/selinux/default/contexts/files/file_contexts");
  auto disabled = selinux_guest("disabled");
  EXPECT_FALSE(selinux_policy(disabled));
  EXPECT_FALSE(SelinuxLabeller::begin(disabled, linux_facts())) << "nothing to label on a guest without SELinux";
}

TEST(SelinuxLabels, WhatChangedGetsThePolicysLabelAndLabelledFilesKeepTheirs) {
  auto guest = selinux_guest("enforcing");
  auto labeller = SelinuxLabeller::begin(guest, linux_facts());
  ASSERT_TRUE(labeller);
  ASSERT_TRUE(guest.exists("/.vmfix-selinux-stamp"));
  // What the fixers did: a new unit file, an edited file that keeps its inode and label.
  guest.mkdir_p("/etc/systemd/system/networking.service.d");
  guest.write("/etc/systemd/system/networking.service.d/vmfix.conf", "[Service]\n");
  guest.replace_file("/etc/network/interfaces", "auto lo\nallow-hotplug ens3\n");
  guest.on_run([](const std::vector<std::string>& argv) -> std::string {
    // Only filesystems that hold labels are searched (not the ESP).
    EXPECT_EQ(argv,
              (std::vector<std::string>{"/usr/bin/find", "/", "-xdev", "-cnewer", "/.vmfix-selinux-stamp", "-print"}));
    return "/\n/.vmfix-selinux-stamp\n/etc/systemd/system/networking.service.d\n"
           "/etc/systemd/system/networking.service.d/vmfix.conf\n/etc/network/interfaces\n"s;
  });
  auto changes = labeller->label_changes(guest);
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0].target, "/etc/systemd/system/networking.service.d");
  EXPECT_EQ(changes[1].after, "system_u:object_r:systemd_unit_file_t:s0");
  EXPECT_EQ(guest.xattr("/etc/systemd/system/networking.service.d/vmfix.conf", "security.selinux"),
            "system_u:object_r:systemd_unit_file_t:s0\0"s)
      << "the value ends with its NUL, as setfiles writes it";
  EXPECT_EQ(guest.xattr("/etc/network/interfaces", "security.selinux"), "system_u:object_r:net_conf_t:s0\0"s);
  EXPECT_FALSE(guest.exists("/.vmfix-selinux-stamp"));
  EXPECT_FALSE(guest.exists("/.autorelabel"));
}

TEST(SelinuxLabels, AnUnreadablePolicyAsksForARelabelAtFirstBoot) {
  auto guest = selinux_guest("permissive");
  auto labeller = SelinuxLabeller::begin(guest, linux_facts());
  ASSERT_TRUE(labeller);
  guest.rm("/etc/selinux/default/contexts/files/file_contexts");
  guest.on_run([](const std::vector<std::string>&) { return "/etc/hostname\n"s; });
  auto changes = labeller->label_changes(guest);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].target, "/.autorelabel");
  EXPECT_NE(changes[0].before.find("file_contexts is missing"), std::string::npos) << changes[0].before;
  EXPECT_TRUE(guest.exists("/.autorelabel"));
}

TEST(SelinuxLabels, FileContextsLookupFollowsTheFileType) {
  auto guest = selinux_guest("enforcing");
  const std::string host = ::testing::TempDir() + "/file_contexts";
  guest.download("/etc/selinux/default/contexts/files/file_contexts", host);
  FileContexts contexts(host);
  EXPECT_EQ(contexts.lookup("/etc/network/interfaces", S_IFREG | 0644), "system_u:object_r:net_conf_t:s0");
  EXPECT_EQ(contexts.lookup("/etc/network/interfaces", S_IFDIR | 0755), "system_u:object_r:etc_t:s0")
      << "-- is for files only";
  EXPECT_EQ(contexts.lookup("/boot/grub/grub.cfg", S_IFREG | 0444), "system_u:object_r:boot_t:s0");
  EXPECT_THROW(FileContexts(::testing::TempDir() + "/no-such-file_contexts"), Error);
}

}  // namespace
}  // namespace vmfix::fixers

// The efi-fallback fixer: the guest's own shim and GRUB land on the removable-media path.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fixers/table.h"
#include "guest/fake_guest.h"

namespace vmfix::fixers {
namespace {
using ::testing::HasSubstr;

inspect::Facts uefi_facts(std::string distro) {
  inspect::Facts facts;
  facts.os_type = "linux";
  facts.distro = std::move(distro);
  facts.boot_mode = bootloader::BootMode::uefi;
  facts.mountpoints = {{"/", "/dev/sda2"}, {"/boot/efi", "/dev/sda1"}};
  return facts;
}

TEST(EfiFallback, ShimGrubAndMokManagerCopiedThenNothingToDo) {
  guest::FakeGuest guest;
  guest.add_file("/boot/efi/EFI/debian/shimx64.efi", "MZ shim");
  guest.add_file("/boot/efi/EFI/debian/grubx64.efi", "MZ grub");
  guest.add_file("/boot/efi/EFI/debian/mmx64.efi", "MZ mok");
  guest.add_file("/boot/efi/EFI/debian/grub.cfg", "search.fs_uuid 1234 root\n");
  guest.add_file("/boot/efi/EFI/ubuntu/grubx64.efi", "MZ other");
  auto fixer = make_efi_fallback();
  const inspect::Facts facts = uefi_facts("debian");
  ASSERT_TRUE(fixer->applies(facts));
  auto before = fixer->check(guest, facts);
  EXPECT_EQ(before[0].status, Status::fail);
  EXPECT_TRUE(before[0].repairable);
  auto changes = fixer->fix(guest, facts);
  ASSERT_EQ(changes.size(), 3u);
  EXPECT_EQ(guest.read("/boot/efi/EFI/BOOT/BOOTX64.EFI"), "MZ shim");
  EXPECT_EQ(guest.read("/boot/efi/EFI/BOOT/grubx64.efi"), "MZ grub");
  EXPECT_EQ(guest.read("/boot/efi/EFI/BOOT/mmx64.efi"), "MZ mok");
  EXPECT_EQ(fixer->check(guest, facts)[0].status, Status::pass);
  EXPECT_TRUE(fixer->fix(guest, facts).empty());
}

// A BIOS guest needs no fallback loader: the check passes without looking for an ESP.
TEST(EfiFallback, ABiosGuestPasses) {
  guest::FakeGuest guest;
  inspect::Facts facts = uefi_facts("debian");
  facts.boot_mode = bootloader::BootMode::bios;
  auto fixer = make_efi_fallback();
  EXPECT_FALSE(fixer->applies(facts));
  auto found = fixer->check(guest, facts);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].status, Status::pass);
  EXPECT_EQ(found[0].message, "boot mode bios");
}

TEST(EfiFallback, GrubAloneInTheDistrosDirectoryAndExistingBootDirCase) {
  guest::FakeGuest guest;
  guest.add_file("/boot/efi/EFI/centos/grubx64.efi", "MZ centos");
  guest.add_file("/boot/efi/EFI/redhat/grubx64.efi", "MZ redhat");
  guest.add_file("/boot/efi/EFI/Boot/fbx64.efi", "MZ fb");
  auto fixer = make_efi_fallback();
  fixer->fix(guest, uefi_facts("rhel"));
  EXPECT_EQ(guest.read("/boot/efi/EFI/Boot/BOOTX64.EFI"), "MZ redhat")
      << "the distro's own directory, the existing Boot dir";
  EXPECT_FALSE(guest.exists("/boot/efi/EFI/BOOT"));
}

TEST(EfiFallback, ReasonsWhenNothingCanBeCopied) {
  guest::FakeGuest guest;
  guest.add_file("/boot/efi/EFI/debian/shimx64.efi", "MZ shim");
  auto fixer = make_efi_fallback();
  auto finding = fixer->check(guest, uefi_facts("debian"))[0];
  EXPECT_FALSE(finding.repairable);
  EXPECT_EQ(finding.evidence,
            "no vendor directory in /boot/efi/EFI has a grubx64.efi (with or without shimx64.efi) to copy");
  EXPECT_TRUE(fixer->fix(guest, uefi_facts("debian")).empty());

  guest::FakeGuest no_esp;
  inspect::Facts facts = uefi_facts("debian");
  facts.mountpoints.pop_back();
  EXPECT_THAT(fixer->check(no_esp, facts)[0].evidence, HasSubstr("no EFI System Partition is mounted"));
  facts.boot_mode = bootloader::BootMode::bios;
  EXPECT_FALSE(fixer->applies(facts));
}

}  // namespace
}  // namespace vmfix::fixers

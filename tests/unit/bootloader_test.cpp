#include <gtest/gtest.h>

#include "bootloader/detect.h"
#include "guest/fake_guest.h"

namespace vmfix::bootloader {

namespace {
std::vector<std::string> kinds(const std::vector<Bootloader>& loaders) {
  std::vector<std::string> out;
  for (const auto& loader : loaders)
    out.push_back(loader.kind + "/" +
                  (loader.firmware == bootloader::BootMode::unknown ? "" : std::string(to_string(loader.firmware))) +
                  ":" + loader.config);
  return out;
}
}  // namespace

TEST(Bootloader, Grub2ForBiosWithModules) {
  guest::FakeGuest guest;
  guest.add_file("/boot/grub2/grub.cfg", "menuentry 'x' {}\n");
  guest.add_file("/boot/grub2/i386-pc/normal.mod", "");
  EXPECT_EQ(kinds(detect_bootloaders(guest)), (std::vector<std::string>{"grub2/bios:/boot/grub2/grub.cfg"}));
}

TEST(Bootloader, GrubLegacyCountedOnceWhenConfAndMenuLstAreBoth) {
  guest::FakeGuest guest;
  guest.add_file("/boot/grub/menu.lst", "title x\n");
  guest.add_file("/boot/grub/grub.conf", "title x\n");
  EXPECT_EQ(kinds(detect_bootloaders(guest)), (std::vector<std::string>{"grub-legacy/bios:/boot/grub/menu.lst"}));
}

TEST(Bootloader, BlsAndUefiLoadersOnTheEsp) {
  guest::FakeGuest guest;
  guest.add_file("/boot/loader/entries/abc-5.14.conf", "title x\n");
  guest.add_file("/boot/efi/EFI/redhat/grubx64.efi", "MZ");
  guest.add_file("/boot/efi/EFI/BOOT/BOOTX64.EFI", "MZ");
  EXPECT_EQ(kinds(detect_bootloaders(guest)),
            (std::vector<std::string>{"bls/:/boot/loader/entries", "efi-fallback/uefi:/boot/efi/EFI/BOOT/BOOTX64.EFI",
                                      "grub2/uefi:/boot/efi/EFI/redhat/grubx64.efi"}));
}

TEST(Bootloader, WindowsBootManagerBiosAndUefi) {
  guest::FakeGuest bios;
  bios.add_file("/bootmgr", "");
  bios.add_file("/Boot/BCD", "regf");
  EXPECT_EQ(kinds(detect_bootloaders(bios, "/", "/dev/sda1")),
            (std::vector<std::string>{"windows-boot-manager/bios:/Boot/BCD"}));
  EXPECT_EQ(detect_bootloaders(bios, "/", "/dev/sda1")[0].location, "/dev/sda1");
  guest::FakeGuest uefi;  // an ESP mounted at /
  uefi.add_file("/EFI/Microsoft/Boot/bootmgfw.efi", "MZ");
  uefi.add_file("/EFI/Boot/bootx64.efi", "MZ");
  EXPECT_EQ(kinds(detect_bootloaders(uefi)),
            (std::vector<std::string>{"efi-fallback/uefi:/EFI/Boot/bootx64.efi",
                                      "windows-boot-manager/uefi:/EFI/Microsoft/Boot/bootmgfw.efi"}));
}

TEST(Bootloader, NothingFoundIsEmpty) {
  guest::FakeGuest guest;
  guest.add_file("/etc/fstab", "");
  EXPECT_TRUE(detect_bootloaders(guest).empty());
}

}  // namespace vmfix::bootloader

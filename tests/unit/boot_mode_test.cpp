#include <gtest/gtest.h>

#include "inspect/inspect.h"

namespace vmfix::inspect {

namespace {
Facts facts_with(const std::string& os, const std::string& table, std::vector<std::string> roles,
                 std::vector<bootloader::BootMode> loader_firmware = {}) {
  Facts facts;
  facts.os_type = os;
  facts.root_device = "/dev/sda2";
  DiskFacts disk{"/dev/sda", "disk.img", 1 << 30, table, {}, {}};
  int number = 1;
  for (auto& role : roles) {
    PartitionFacts p;
    p.number = number;
    p.device = "/dev/sda" + std::to_string(number++);
    p.role = role;
    disk.partitions.push_back(p);
  }
  facts.disks.push_back(disk);
  for (auto& firmware : loader_firmware) facts.bootloaders.push_back({"grub2", firmware, "/boot/grub/grub.cfg", ""});
  derive_boot_mode(facts);
  return facts;
}
}  // namespace

TEST(BootMode, LinuxCases) {
  EXPECT_EQ(facts_with("linux", "mbr", {"linux", "linux"}).boot_mode, bootloader::BootMode::bios);
  EXPECT_EQ(facts_with("linux", "gpt", {"bios-boot", "linux"}).boot_mode, bootloader::BootMode::bios);
  EXPECT_EQ(facts_with("linux", "gpt", {"esp", "linux"}, {bootloader::BootMode::uefi}).boot_mode,
            bootloader::BootMode::uefi);
  EXPECT_EQ(facts_with("linux", "gpt", {"esp", "linux"}).boot_mode, bootloader::BootMode::uefi);
  EXPECT_EQ(facts_with("linux", "gpt", {"esp", "bios-boot"}, {bootloader::BootMode::uefi, bootloader::BootMode::bios})
                .boot_mode,
            bootloader::BootMode::bios);
  EXPECT_EQ(facts_with("linux", "gpt", {"linux", "linux"}).boot_mode, bootloader::BootMode::unknown);
  EXPECT_NE(facts_with("linux", "gpt", {"esp", "bios-boot"}).boot_mode_evidence.find("also has an EFI"),
            std::string::npos);
}

TEST(BootMode, WindowsFollowsThePartitionTable) {
  EXPECT_EQ(facts_with("windows", "gpt", {"esp", "msr", "ntfs"}).boot_mode, bootloader::BootMode::uefi);
  EXPECT_EQ(facts_with("windows", "mbr", {"ntfs", "ntfs"}).boot_mode, bootloader::BootMode::bios);
}

}  // namespace vmfix::inspect

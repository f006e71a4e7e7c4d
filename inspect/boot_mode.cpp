#include <algorithm>

#include "inspect/inspect.h"

namespace vmfix::inspect {

const DiskFacts* boot_disk(const Facts& facts) {
  for (const DiskFacts& disk : facts.disks)
    for (const PartitionFacts& partition : disk.partitions)
      if (partition.device == facts.root_device) return &disk;
  return facts.disks.empty() ? nullptr : &facts.disks.front();
}

namespace {

bool has_partition(const Facts& facts, std::string_view role) {
  return std::any_of(facts.disks.begin(), facts.disks.end(), [&](const DiskFacts& disk) {
    return std::any_of(disk.partitions.begin(), disk.partitions.end(),
                       [&](const PartitionFacts& p) { return p.role == role; });
  });
}

bool has_loader(const Facts& facts, bootloader::BootMode firmware) {
  return std::any_of(facts.bootloaders.begin(), facts.bootloaders.end(),
                     [&](const bootloader::Bootloader& b) { return b.firmware == firmware; });
}

}  // namespace

void derive_boot_mode(Facts& facts) {
  const DiskFacts* disk = boot_disk(facts);
  const std::string table = disk ? disk->partition_table : "none";
  const bool esp = has_partition(facts, "esp");
  const bool bios_boot = has_partition(facts, "bios-boot");
  const bool uefi_loader = has_loader(facts, bootloader::BootMode::uefi);
  const bool bios_loader = has_loader(facts, bootloader::BootMode::bios);

  using bootloader::BootMode;
  auto set = [&](BootMode mode, std::string why) {
    facts.boot_mode = mode;
    facts.boot_mode_evidence = std::move(why);
  };
  if (facts.os_type == "windows") {
    // Windows boots GPT disks only through UEFI, and MBR disks only through BIOS.
    if (table == "gpt")
      return set(BootMode::uefi, esp ? "GPT boot disk with an EFI System Partition" : "GPT boot disk");
    if (table == "mbr") return set(BootMode::bios, "MBR boot disk");
  }
  if (bios_boot)
    return set(BootMode::bios, esp ? "BIOS boot partition (the disk also has an EFI System Partition)"
                                   : "BIOS boot partition on a GPT disk");
  if (esp && uefi_loader && !bios_loader) return set(BootMode::uefi, "EFI System Partition with a UEFI boot loader");
  if (table == "mbr" && !esp) return set(BootMode::bios, "MBR boot disk without an EFI System Partition");
  if (esp && bios_loader)
    return set(BootMode::bios, "BIOS GRUB modules present (the disk also has an EFI System Partition)");
  if (esp) return set(BootMode::uefi, "EFI System Partition");
  if (table == "gpt")
    return set(BootMode::unknown, "GPT disk with neither a BIOS boot partition nor an EFI System Partition");
  if (bios_loader) return set(BootMode::bios, "BIOS boot loader files on an unpartitioned disk");
  set(BootMode::unknown, "no partition table and no boot loader found");
}

}  // namespace vmfix::inspect

#pragma once
// Kernel device names as a guest's fstab, GRUB menu or kernel command line writes them, read once
// for everything that maps a guest's disks onto the appliance's.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace vmfix::inspect {

// A kernel disk or partition name: /dev/sdX, /dev/hdX, /dev/vdX, /dev/xvdX with an optional
// partition number, /dev/nvmeCnN[pP], /dev/cciss/cCdD[pP].
struct KernelDeviceName {
  // The disk's place among the guest's disks, from 0: its letters (a, b... z, aa) or the number of
  // its NVMe controller or cciss disk. nullopt when no disk can have it (past sdzzz).
  std::optional<size_t> disk;
  std::string_view partition;  // "" for the whole disk
};

// nullopt when `spec` is no kernel device name (UUID=..., /dev/mapper/..., /dev/sda1x).
std::optional<KernelDeviceName> parse_kernel_device_name(std::string_view spec);

// The kernel's sd name of the disk at `index` (from 0): "sda", "sdz", "sdaa"... "sdzzz"; "" beyond.
std::string sd_disk_name(size_t index);

}  // namespace vmfix::inspect

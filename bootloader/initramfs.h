#pragma once
// What an initramfs holds, read on the host from its bytes, and whether a kernel can reach its
// disk and network on EC2: xen-blkfront (Xen) and nvme (Nitro) must be built in or in the
// initramfs, because the root filesystem is behind them; ena (Nitro) and xen-netfront (Xen) load
// after the root is mounted, so the module files are enough.
#include <string>
#include <string_view>
#include <vector>

#include "guest/guest.h"

namespace vmfix::bootloader {

struct InitramfsListing {
  std::vector<std::string> files;         // "usr/lib/modules/6.1.0-28-amd64/kernel/drivers/nvme/host/nvme.ko"
  std::vector<std::string> compressions;  // per archive in the image: "none", "gzip", "zstd", ...
};

// The files of every cpio (newc) archive in an initramfs image: uncompressed early archives
// (CPU microcode) followed by a main archive compressed with gzip, xz, lzma, zstd or lz4 (legacy
// frames), as the kernel unpacks them. Throws vmfix::BadInput for anything else or a damaged
// archive, and for more than `limit` bytes once decompressed.
InitramfsListing list_initramfs(std::string_view image, size_t limit = size_t{2} << 30);

struct Driver {
  std::string module;  // "xen-blkfront"
  std::string config;  // "CONFIG_XEN_BLKDEV_FRONTEND"
  bool for_root;       // needed before the root filesystem is mounted: must be in the initramfs
};
const std::vector<Driver>& ec2_drivers();

struct DriverState {
  std::string module;
  std::string state;  // "built-in", "in-initramfs", "module" (installed, loaded after root),
                      // "not-in-initramfs" (installed, but the initramfs lacks it), "absent"
  std::string evidence;
};

// Each of ec2_drivers() for kernel `version`: /boot/config-VERSION, modules.builtin and
// modules.dep under /lib/modules/VERSION, and the initramfs's file list.
std::vector<DriverState> ec2_driver_states(guest::Guest& guest, const std::string& version,
                                           const std::vector<std::string>& initramfs_files);

// The NVMe I/O timeout argument AWS recommends for kernel `version`: nvme_core.io_timeout (nvme.io_timeout
// where the kernel has no nvme-core, before 4.6) at its largest value, 4294967295, or 255 where the
// parameter is a byte (before 4.15). "" when the kernel has no NVMe driver.
std::string nvme_timeout_argument(guest::Guest& guest, const std::string& version);

// "xen-blkfront" for ".../xen-blkfront.ko", ".ko.xz", ".ko.zst", ".ko.gz"; "" for other files.
std::string module_name_of(std::string_view path);

}  // namespace vmfix::bootloader

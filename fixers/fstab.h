#pragma once
// The fstab fixer's text rewriting, exposed for tests on real fstab files.
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "inspect/facts.h"

namespace vmfix::fixers {

// The UUID of the filesystem a guest device name ("/dev/sda2", "/dev/vda1") holds; "" if none.
using UuidOf = std::function<std::string(const std::string& guest_device)>;

// The UUID inspection found for the filesystem on a guest device name ("/dev/vda2"); "" if none.
std::string filesystem_uuid(const inspect::Facts& facts, const std::string& guest_device);

// /dev/sdX, /dev/hdX, /dev/vdX, /dev/xvdX, /dev/nvmeXnY[pZ], /dev/cciss/cXdY[pZ].
bool is_kernel_device_name(std::string_view spec);
// The appliance's name for a guest device name: libguestfs shows every disk as /dev/sdX.
std::string appliance_device(std::string_view guest_device);

// An optical or floppy drive ("/dev/sr0", "/dev/cdrom", "/dev/fd0", iso9660, udf): EC2 has none.
bool is_removable_media(const std::string& spec, const std::string& type);
// The entries that mount removable media at boot (no noauto), each as its line.
std::vector<std::string> removable_media_mounted_at_boot(std::string_view fstab);

// Device names become UUID=, optical and floppy entries get noauto,nofail, network mounts nofail;
// comments and spacing are kept. Device names whose filesystem is unknown go to `unresolved`.
std::string rewrite_fstab(std::string_view text, const UuidOf& uuid_of, std::vector<std::string>* unresolved = nullptr);
// resume=/dev/sdX (kernel command lines, initramfs-tools' RESUME=) becomes resume=UUID=...
std::string rewrite_resume(std::string_view text, const UuidOf& uuid_of);

}  // namespace vmfix::fixers

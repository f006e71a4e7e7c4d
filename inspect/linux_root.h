#pragma once
// A Debian-family Linux root read without libguestfs's inspect_os, which probes every filesystem
// for every OS it knows (about 14 s under software emulation). The answers are the ones inspect_os
// gives, by its rules (libguestfs daemon/inspect_fs_unix*.ml): the release files in its order,
// the architecture of /bin/bash and its like, the host name files, and /etc/fstab with guest
// device names translated to the appliance's. Anything this path does not read (another family's
// release file, a separate /usr) sends inspection back to inspect_os.
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "guest/guest.h"
#include "inspect/facts.h"

namespace vmfix::inspect {

struct LinuxRelease {
  std::string distro;        // libguestfs's names: "debian", "ubuntu", "kalilinux", "linuxmint"
  std::string product_name;  // PRETTY_NAME, DISTRIB_DESCRIPTION, or /etc/debian_version's first line
  int major = 0;
  int minor = 0;
};

// The content of a regular file of the guest (symbolic links followed inside the guest), nullopt
// when there is none at `path`.
using ReadGuestFile = std::function<std::optional<std::string>(const std::string& path)>;

// The release files in libguestfs's order: /etc/os-release, /etc/lsb-release, then
// /etc/debian_version. nullopt when the guest is not of the Debian family, or when libguestfs
// would decide from a file this path does not read (redhat-release, SuSE-release...).
std::optional<LinuxRelease> read_debian_family_release(const ReadGuestFile& read);

// The first line of /etc/HOSTNAME or /etc/hostname, else HOSTNAME in /etc/sysconfig/network.
std::string read_linux_hostname(const ReadGuestFile& read);

// "x86_64", "i386", "aarch64"... from an ELF header; "" when it is not ELF or the machine is
// one libguestfs has no name for here.
std::string elf_architecture(std::string_view header);

// What fstab device specs are resolved against.
struct BlockDevices {
  std::vector<std::string> disks;  // the appliance's, in order: /dev/sda, /dev/sdb
  std::vector<FilesystemFacts> filesystems;
  std::vector<PartitionFacts> partitions;
  // /dev/mapper/VG-LV as /dev/VG/LV (lvm_canonical_lv_name); nullopt when it is no LV.
  std::function<std::optional<std::string>(const std::string& mapper_path)> lvm_canonical;
};

// The appliance device an fstab spec names: UUID=, LABEL=, PARTUUID=, PARTLABEL=, /dev/disk/by-*,
// /dev/mapper and kernel names (/dev/xvdb1 is the second disk's first partition). A /dev path it
// cannot translate comes back unchanged, as from libguestfs; nullopt for what names no device
// (a UUID no filesystem has, tmpfs, proc).
std::optional<std::string> resolve_fstab_device(const std::string& spec, const BlockDevices& devices);

// Mountpoints from /etc/fstab as libguestfs's inspect_get_mountpoints gives them: CD-ROM and
// floppy entries, and mountpoints under /dev, /proc, /sys, /selinux and /media, left out; "/" is
// always the root inspected. Deliberately unlike libguestfs 1.48: a malformed line is skipped,
// where libguestfs's augeas parser drops the whole file (and /boot with it, so its kernels would
// go unseen); PARTUUID= and PARTLABEL= are resolved, as libguestfs does from 1.54.
std::vector<guest::Mountpoint> fstab_mountpoints(std::string_view fstab, const std::string& root_device,
                                                 const BlockDevices& devices);

// Names of the packages dpkg's status file records as present (installed, or part way through
// an install or removal), sorted; config-files and not-installed entries are not packages.
std::vector<std::string> dpkg_installed_packages(std::string_view status);

}  // namespace vmfix::inspect

#include "inspect/inspect.h"

#include <fmt/core.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <memory>

#include "bootloader/detect.h"
#include "disk/partition_table.h"
#include "guest/libguestfs_guest.h"
#include "inspect/linux.h"
#include "inspect/linux_root.h"
#include "inspect/network.h"
#include "inspect/tools.h"
#include "inspect/windows.h"
#include "registry/guest_hive.h"
#include "registry/sam.h"
#include "support/bytes.h"
#include "support/files.h"
#include "support/text.h"

namespace vmfix::inspect {

using guest::check;
using guest::take_string;
using guest::take_strings;

namespace {

// libguestfs getters that fail on "unknown" return "" here instead.
std::string optional_string(char* text) {
  if (text == nullptr) return "";
  std::string result(text);
  std::free(text);
  return result == "unknown" ? "" : result;
}

void read_os(guestfs_h* g, const std::string& root, Facts& facts) {
  facts.root_device = root;
  facts.os_type = optional_string(guestfs_inspect_get_type(g, root.c_str()));
  facts.distro = optional_string(guestfs_inspect_get_distro(g, root.c_str()));
  facts.product_name = optional_string(guestfs_inspect_get_product_name(g, root.c_str()));
  facts.product_variant = optional_string(guestfs_inspect_get_product_variant(g, root.c_str()));
  facts.major_version = std::max(0, guestfs_inspect_get_major_version(g, root.c_str()));
  facts.minor_version = std::max(0, guestfs_inspect_get_minor_version(g, root.c_str()));
  facts.arch = optional_string(guestfs_inspect_get_arch(g, root.c_str()));
  facts.hostname = optional_string(guestfs_inspect_get_hostname(g, root.c_str()));
  facts.package_format = optional_string(guestfs_inspect_get_package_format(g, root.c_str()));
  facts.package_management = optional_string(guestfs_inspect_get_package_management(g, root.c_str()));
  if (facts.os_type == "windows")
    facts.windows_systemroot = optional_string(guestfs_inspect_get_windows_systemroot(g, root.c_str()));

  auto flat = take_strings(g, guestfs_inspect_get_mountpoints(g, root.c_str()), "inspect_get_mountpoints");
  for (size_t i = 0; i + 1 < flat.size(); i += 2) facts.mountpoints.push_back({flat[i], flat[i + 1]});
}

// Parents before children: / before /boot before /boot/efi.
void sort_mountpoints(std::vector<guest::Mountpoint>& mountpoints) {
  std::sort(mountpoints.begin(), mountpoints.end(), [](const auto& a, const auto& b) {
    return a.path.size() < b.path.size() || (a.path.size() == b.path.size() && a.path < b.path);
  });
}

// The appliance's disks, with their sources and sizes, and no partitions yet: named and measured
// on the host, without a round trip to the appliance.
std::vector<DiskFacts> list_disks(const guest::Session& session, const std::vector<std::string>& sources) {
  std::vector<DiskFacts> disks;
  const std::vector<std::string> devices = session.devices();
  const std::vector<uint64_t> sizes = session.drive_sizes();
  for (size_t i = 0; i < devices.size(); ++i) {
    DiskFacts disk;
    disk.device = devices[i];
    disk.source = i < sources.size() ? sources[i] : "";
    disk.size = sizes[i];
    disks.push_back(std::move(disk));
  }
  return disks;
}

// The partition table of each of facts.disks, (re)read from raw sectors and parsed on the host: one
// pread per table instead of a parted run per partition in the appliance.
void read_partitions(guest::Session& session, Facts& facts) {
  guest::LibguestfsGuest appliance(session);
  for (DiskFacts& disk : facts.disks) {
    auto read = [&](uint64_t offset, size_t length) -> std::string {
      if (offset >= disk.size) return "";
      return appliance.read_device(disk.device, offset,
                                   static_cast<size_t>(std::min<uint64_t>(length, disk.size - offset)));
    };
    disk::PartitionTable table = disk::read_partition_table(read, disk.size);
    disk.partition_table = table.kind;
    disk.table_problems = table.problems;
    disk.partitions.clear();
    for (const disk::Partition& p : table.partitions) {
      PartitionFacts partition;
      partition.number = p.number;
      partition.device = fmt::format("{}{}", disk.device, p.number);
      partition.start = p.first_sector * table.sector_size;
      partition.end = (p.last_sector + 1) * table.sector_size - 1;
      partition.size = partition.end - partition.start + 1;
      partition.type = table.kind == "gpt" ? p.gpt_type : fmt::format("0x{:02x}", p.mbr_type);
      partition.role = table.role_of(p);
      partition.name = p.name;
      partition.partuuid =
          table.kind == "gpt" ? to_lower(p.gpt_guid) : fmt::format("{:08x}-{:02x}", table.disk_signature, p.number);
      partition.bootable = p.bootable;
      disk.partitions.push_back(std::move(partition));
    }
  }
}

// What blkid says of one device; nullopt when it recognises nothing there.
std::optional<FilesystemFacts> identify(guestfs_h* g, const std::string& device) {
  char** tags = guestfs_blkid(g, device.c_str());
  if (tags == nullptr) return std::nullopt;
  auto flat = take_strings(g, tags, "blkid");
  FilesystemFacts fs;
  fs.device = device;
  for (size_t i = 0; i + 1 < flat.size(); i += 2) {
    if (flat[i] == "TYPE")
      fs.type = flat[i + 1];
    else if (flat[i] == "LABEL")
      fs.label = flat[i + 1];
    else if (flat[i] == "UUID")
      fs.uuid = flat[i + 1];
  }
  return fs;
}

// Filesystems on whole disks, partitions, md arrays and LVM volumes, one blkid run each
// (list_filesystems costs more than ten seconds under software emulation). LVM is asked for its
// volumes only when a physical volume was seen: an lvs run costs half a second there.
void read_filesystems(guestfs_h* g, Facts& facts) {
  std::vector<std::pair<std::string, std::optional<uint64_t>>> candidates;  // device, size when known
  for (const DiskFacts& disk : facts.disks) {
    if (disk.partition_table == "none") candidates.emplace_back(disk.device, disk.size);
    for (const PartitionFacts& p : disk.partitions)
      if (p.role != "extended" && p.role != "bios-boot" && p.role != "gpt-protective")
        candidates.emplace_back(p.device, p.size);
  }
  auto add_volumes = [&](char** list) {
    if (list)
      for (const std::string& device : take_strings(g, list, "list volumes"))
        candidates.emplace_back(device, std::nullopt);
  };
  add_volumes(guestfs_list_md_devices(g));
  bool lvm_seen = false;
  for (size_t i = 0; i < candidates.size(); ++i) {
    const auto [device, size] = candidates[i];  // a copy: add_volumes may grow the list
    std::optional<FilesystemFacts> fs = identify(g, device);
    if (!fs) continue;
    if (fs->type == "LVM2_member" && !lvm_seen) {
      lvm_seen = true;
      add_volumes(guestfs_lvs(g));
    }
    if (fs->type.empty() || fs->type == "LVM2_member" || fs->type == "linux_raid_member") continue;
    fs->size = size;
    if (!fs->size) {
      int64_t bytes = guestfs_blockdev_getsize64(g, device.c_str());
      if (bytes >= 0) fs->size = static_cast<uint64_t>(bytes);
    }
    facts.filesystems.push_back(std::move(*fs));
  }
}

std::vector<std::string> encrypted_volumes(const Facts& facts) {
  std::vector<std::string> found;
  for (const FilesystemFacts& fs : facts.filesystems)
    if (fs.type == "BitLocker" || fs.type == "crypto_LUKS") found.push_back(fmt::format("{} ({})", fs.device, fs.type));
  return found;
}

// The superblock is read from the device (one pread) rather than by a tune2fs run in the appliance.
// Read after the OS is found, as before vmfix found Windows itself: libguestfs's inspection
// mounts each filesystem and may replay an ext journal on the overlay, and the clean-shutdown
// check has always seen the state after that.
void read_ext_states(guest::Guest& appliance, Facts& facts) {
  for (FilesystemFacts& fs : facts.filesystems)
    if (fs.type.rfind("ext", 0) == 0) fs.clean = ext_superblock_clean(appliance.read_device(fs.device, 1024, 1024));
}

// Unmounts whatever a probe mounted at /, however the probe ends.
struct UnmountAll {
  guestfs_h* g;
  ~UnmountAll() { guestfs_umount_all(g); }
};

struct WindowsRoot {
  std::string device;
  std::string systemroot;  // "/Windows", as the volume spells it
  std::string arch;        // of its cmd.exe
};

// A Windows root is an NTFS volume holding %SystemRoot% with System32\config and cmd.exe, the
// test libguestfs applies too. Disks whose filesystems are all of the kinds Windows uses are
// searched for that directly: libguestfs's inspect_os would probe every filesystem for every OS
// it knows, which costs 7-9 s under software emulation. nullopt when the disks hold anything
// else (a Linux filesystem, LVM, md) or no root is found: then libguestfs decides.
std::optional<std::vector<WindowsRoot>> find_windows_roots(guest::Session& session, const Facts& facts) {
  static constexpr std::array<std::string_view, 4> kWindowsKinds{"ntfs", "vfat", "exfat", "refs"};
  bool any_ntfs = false;
  for (const FilesystemFacts& fs : facts.filesystems) {
    if (std::find(kWindowsKinds.begin(), kWindowsKinds.end(), fs.type) == kWindowsKinds.end()) return std::nullopt;
    any_ntfs = any_ntfs || fs.type == "ntfs";
  }
  if (!any_ntfs) return std::nullopt;
  guestfs_h* g = session.handle();
  guest::LibguestfsGuest guest(session);
  std::vector<WindowsRoot> roots;
  for (const FilesystemFacts& fs : facts.filesystems) {
    if (fs.type != "ntfs" || guestfs_mount_ro(g, fs.device.c_str(), "/") != 0) continue;
    UnmountAll unmount{g};
    try {
      for (const char* candidate : {"/Windows", "/WINNT", "/win32", "/win"}) {
        const std::string systemroot = guest.resolve_case(candidate);
        if (!guest.is_dir(guest.resolve_case(systemroot + "/System32/config"))) continue;
        const std::string cmd = guest.resolve_case(systemroot + "/System32/cmd.exe");
        if (!guest.is_file(cmd)) continue;
        std::string arch;
        try {
          arch = pe_architecture(guest.read_prefix(cmd, 4096));
        } catch (const guest::GuestError&) {
          // ntfs-3g cannot read a CompactOS (WOF-compressed) cmd.exe: the hive's
          // PROCESSOR_ARCHITECTURE answers instead (read_windows).
        }
        roots.push_back({fs.device, systemroot, arch});
        break;
      }
    } catch (const guest::GuestError&) {
      return std::nullopt;  // a volume vmfix cannot read: libguestfs decides, as it did before
    }
  }
  if (roots.empty()) return std::nullopt;
  return roots;
}

struct LinuxRoot {
  std::string device;
  LinuxRelease release;
  std::string arch;
  std::string hostname;
  std::vector<guest::Mountpoint> mountpoints;
};

// Files of the mounted filesystem as libguestfs finds them: a regular file after symbolic links,
// which are followed inside the guest.
class MountedFiles {
 public:
  explicit MountedFiles(guest::Session& session) : g_(session.handle()), guest_(session) {}
  bool is_file(const std::string& path, bool follow = false) const {
    return guestfs_is_file_opts(g_, path.c_str(), GUESTFS_IS_FILE_OPTS_FOLLOWSYMLINKS, follow ? 1 : 0, -1) == 1;
  }
  std::optional<std::string> resolved(const std::string& path) const {
    if (!is_file(path, true)) return std::nullopt;
    char* real = guestfs_realpath(g_, path.c_str());
    if (real == nullptr) return std::nullopt;
    return take_string(g_, real, "realpath");
  }
  // Links followed inside the guest; a fifo, a device, a loop of links or a file too large is
  // refused naming it (guest::GuestFileRefused), never read.
  std::optional<std::string> read(const std::string& path) { return guest_.read_if_exists(path); }
  std::string read_prefix(const std::string& path, size_t bytes) { return guest_.read_prefix(path, bytes); }

 private:
  guestfs_h* g_;
  guest::LibguestfsGuest guest_;
};

BlockDevices block_devices(guestfs_h* g, const Facts& facts) {
  BlockDevices devices;
  for (const DiskFacts& disk : facts.disks) {
    devices.disks.push_back(disk.device);
    devices.partitions.insert(devices.partitions.end(), disk.partitions.begin(), disk.partitions.end());
  }
  devices.filesystems = facts.filesystems;
  devices.lvm_canonical = [g](const std::string& mapper_path) -> std::optional<std::string> {
    char* lv = guestfs_lvm_canonical_lv_name(g, mapper_path.c_str());
    if (lv == nullptr) return std::nullopt;
    return take_string(g, lv, "lvm_canonical_lv_name");
  };
  return devices;
}

// What the top of the filesystem mounted at / is, in libguestfs's order of tests.
enum class TopLevel { other, linux_root, libguestfs_decides };

TopLevel classify_top(guestfs_h* g, const MountedFiles& files) {
  std::unique_ptr<guestfs_dirent_list, decltype(&guestfs_free_dirent_list)> listing(guestfs_readdir(g, "/"),
                                                                                    guestfs_free_dirent_list);
  if (!listing) return TopLevel::libguestfs_decides;
  auto top = [&](std::string_view name) -> char {  // 'd' directory, 'l' link, 'r' file; 0 if absent
    for (uint32_t i = 0; i < listing->len; ++i)
      if (name == listing->val[i].name) return listing->val[i].ftyp;
    return 0;
  };
  auto top_icase = [&](std::string_view name) {
    for (uint32_t i = 0; i < listing->len; ++i)
      if (equals_icase(name, listing->val[i].name)) return true;
    return false;
  };
  // A GRUB /boot is no root.
  if ((top("grub") == 'd' && (files.is_file("/grub/menu.lst") || files.is_file("/grub/grub.conf"))) ||
      (top("grub2") == 'd' && files.is_file("/grub2/grub.cfg")))
    return TopLevel::other;
  // The Hurd, Minix, DOS and old Windows are libguestfs's to name.
  if (top("hurd") || (top("service") == 'd' && files.is_file("/service/vm")) || top_icase("windows") ||
      top_icase("winnt") || top_icase("fdos") || top_icase("dos"))
    return TopLevel::libguestfs_decides;
  auto bin_is_usr_bin = [&] {
    if (top("bin") != 'l') return false;
    char* target = guestfs_readlink(g, "/bin");
    return target != nullptr && take_string(g, target, "readlink") == "usr/bin";
  };
  if (top("etc") == 'd' && (top("bin") == 'd' || bin_is_usr_bin()) &&
      (files.is_file("/etc/fstab") || files.is_file("/etc/hosts")))
    return TopLevel::linux_root;
  // CoreOS, and a separate /usr, whose release libguestfs merges into the root's.
  if (top("etc") == 'd' && top("root") == 'd' && top("home") == 'd' && top("usr") == 'd' &&
      files.is_file("/etc/coreos/update.conf"))
    return TopLevel::libguestfs_decides;
  if (top("bin") == 'd' && top("share") == 'd' && top("local") == 'd' &&
      ((top("etc") == 'd' && !files.is_file("/etc/fstab")) || guestfs_is_dir(g, "/share/coreos") == 1))
    return TopLevel::libguestfs_decides;
  return TopLevel::other;
}

// The root mounted at /, if its release is one this path reads; a file vmfix cannot read leaves
// the decision to libguestfs.
std::optional<LinuxRoot> read_root(MountedFiles& files, const std::string& device, const BlockDevices& devices) {
  ReadGuestFile read = [&](const std::string& path) { return files.read(path); };
  try {
    std::optional<LinuxRelease> release = read_debian_family_release(read);
    if (!release) return std::nullopt;
    LinuxRoot root;
    root.device = device;
    root.release = *release;
    for (const char* program : {"/bin/bash", "/bin/ls", "/bin/echo", "/bin/rm", "/bin/sh"}) {
      if (auto real = files.resolved(program)) root.arch = elf_architecture(files.read_prefix(*real, 64));
      if (!root.arch.empty()) break;
    }
    root.hostname = read_linux_hostname(read);
    root.mountpoints = fstab_mountpoints(read("/etc/fstab").value_or(""), device, devices);
    return root;
  } catch (const guest::GuestError&) {
    return std::nullopt;
  }
}

// A Debian-family root found without inspect_os (see inspect/linux_root.h), when the disks hold
// only filesystems this path reads: ext2/3/4, XFS, JFS, FAT and swap, on partitions, whole disks or
// LVM. nullopt sends inspection to libguestfs: btrfs (subvolumes), md arrays, encrypted volumes,
// another OS's filesystem, two roots, a separate /usr, or a release this path does not read.
std::optional<LinuxRoot> find_linux_root(guest::Session& session, const Facts& facts) {
  static constexpr std::array<std::string_view, 7> kLinuxKinds{"ext2", "ext3", "ext4", "xfs", "jfs", "vfat", "swap"};
  for (const FilesystemFacts& fs : facts.filesystems)
    if (std::find(kLinuxKinds.begin(), kLinuxKinds.end(), fs.type) == kLinuxKinds.end() ||
        fs.device.starts_with("/dev/md"))
      return std::nullopt;
  guestfs_h* g = session.handle();
  MountedFiles files(session);
  const BlockDevices devices = block_devices(g, facts);
  std::optional<LinuxRoot> found;
  for (const FilesystemFacts& fs : facts.filesystems) {
    if (fs.type == "swap" || guestfs_mount_ro(g, fs.device.c_str(), "/") != 0)
      continue;  // libguestfs skips what will not mount
    UnmountAll unmount{g};
    const TopLevel kind = classify_top(g, files);
    if (kind == TopLevel::libguestfs_decides) return std::nullopt;
    if (kind == TopLevel::other) continue;
    if (found) return std::nullopt;  // two roots: inspect_os counts and orders them
    found = read_root(files, fs.device, devices);
    if (!found) return std::nullopt;
  }
  return found;
}

// Boot loaders on filesystems the OS does not mount (a Windows System Reserved partition, an
// ESP missing from fstab): each is mounted read-only at / for a moment, before the OS is.
// The BCD stores of the Windows boot managers found under `location` ("" for the OS tree): beside
// bootmgfw.efi on an ESP, the file itself for BIOS (\\Boot\\BCD).
void read_boot_menus(guest::Guest& guest, const std::string& location, Facts& facts) {
  for (const bootloader::Bootloader& loader : facts.bootloaders) {
    if (loader.kind != "windows-boot-manager" || loader.location != location) continue;
    const std::string store = loader.firmware == bootloader::BootMode::uefi
                                  ? guest.resolve_case(loader.config.substr(0, loader.config.rfind('/')) + "/BCD")
                                  : loader.config;
    BootMenu menu;
    try {
      TempDir scratch("vmfix-bcd");
      guest.download(store, (scratch.path() / "BCD").string());
      registry::Hive bcd(scratch.path() / "BCD", registry::Hive::Mode::read_only);
      menu = read_boot_menu(bcd);
    } catch (const std::exception& e) {
      menu.error = one_line(e.what());
    }
    menu.store = store;
    menu.location = location;
    facts.boot_menus.push_back(std::move(menu));
  }
}

void scan_unmounted_boot_filesystems(guest::Session& session, Facts& facts) {
  guestfs_h* g = session.handle();
  guest::LibguestfsGuest guest(session);
  for (const FilesystemFacts& fs : facts.filesystems) {
    if (!fs.mountpoint.empty() || (fs.type != "vfat" && fs.type != "ntfs")) continue;
    if (guestfs_mount_ro(g, fs.device.c_str(), "/") != 0) {
      facts.notes.push_back(
          fmt::format("could not mount {} to look for boot loaders: {}", fs.device, guestfs_last_error(g)));
      continue;
    }
    for (auto& loader : bootloader::detect_bootloaders(guest, "/", fs.device)) facts.bootloaders.push_back(loader);
    read_boot_menus(guest, fs.device, facts);
    check(g, guestfs_umount_all(g), "umount_all");
  }
}

void mount_guest(guestfs_h* g, MountMode mode, Facts& facts) {
  for (const guest::Mountpoint& mp : facts.mountpoints) {
    int result = mode == MountMode::read_only ? guestfs_mount_ro(g, mp.device.c_str(), mp.path.c_str())
                                              : guestfs_mount(g, mp.device.c_str(), mp.path.c_str());
    if (result == 0) continue;
    std::string why = guestfs_last_error(g) ? guestfs_last_error(g) : "unknown error";
    if (mp.path == "/") throw BadInput(fmt::format("cannot mount the guest's root filesystem {}: {}", mp.device, why));
    facts.notes.push_back(fmt::format("could not mount {} on {}: {}", mp.device, mp.path, why));
  }
}

// dpkg's database is read here; libguestfs's list of the others needs its inspect_os to have run.
void read_packages(guestfs_h* g, guest::Guest& guest, Facts& facts) {
  if (facts.package_format == "deb") {
    try {
      facts.packages = dpkg_installed_packages(guest.read("/var/lib/dpkg/status"));
      facts.packages_known = true;
    } catch (const guest::GuestError& error) {
      facts.notes.push_back(fmt::format("could not read the package database: {}", error.what()));
    } catch (const guest::GuestFileRefused& refused) {  // a fifo, a loop, a flood: unknown, said so
      facts.notes.push_back(fmt::format("could not read the package database: {}", refused.what()));
    }
    return;
  }
  std::unique_ptr<guestfs_application2_list, decltype(&guestfs_free_application2_list)> apps(
      guestfs_inspect_list_applications2(g, facts.root_device.c_str()), guestfs_free_application2_list);
  if (!apps) {
    facts.notes.push_back(fmt::format("could not read the package database: {}", guestfs_last_error(g)));
    return;
  }
  for (uint32_t i = 0; i < apps->len; ++i) facts.packages.emplace_back(apps->val[i].app2_name);
  facts.packages_known = true;
  std::sort(facts.packages.begin(), facts.packages.end());
}

// Local accounts from the SAM hive: which can log on, and which of those have no password.
void read_accounts(guest::Guest& guest, const std::string& config, const std::filesystem::path& scratch,
                   WindowsFacts& windows) {
  const std::string sam_path = guest.resolve_case(config + "/SAM");
  windows.accounts_evidence = sam_path;
  if (!guest.is_file(sam_path)) {
    windows.accounts_evidence = sam_path + " is missing";
    return;
  }
  try {
    guest.download(sam_path, (scratch / "SAM").string());
    registry::Hive sam(scratch / "SAM", registry::Hive::Mode::read_only);
    for (const registry::SamAccount& account : registry::read_sam_accounts(sam)) {
      if (account.disabled) continue;
      windows.enabled_accounts.push_back(account.name);
      if (!account.has_password) windows.accounts_without_password.push_back(account.name);
    }
    windows.accounts_read = true;
  } catch (const registry::HiveError& error) {
    windows.accounts_evidence = error.what();
  }
}

void read_windows(guest::Guest& guest, Facts& facts) {
  TempDir scratch("vmfix-hives");
  const std::string config = guest.resolve_case(facts.windows_systemroot + "/System32/config");
  const std::string system_path = guest.resolve_case(config + "/SYSTEM");
  const std::string software_path = guest.resolve_case(config + "/SOFTWARE");
  guest.download(system_path, (scratch.path() / "SYSTEM").string());
  registry::Hive system(scratch.path() / "SYSTEM", registry::Hive::Mode::read_only);
  std::unique_ptr<registry::Hive> software;
  if (guest.is_file(software_path)) {
    guest.download(software_path, (scratch.path() / "SOFTWARE").string());
    software = std::make_unique<registry::Hive>(scratch.path() / "SOFTWARE", registry::Hive::Mode::read_only);
  }
  facts.windows_current_control_set = resolve_current_control_set(system);
  WindowsVersion version = read_windows_version(system, facts.windows_current_control_set, software.get());
  facts.product_name = version.product_name;
  facts.product_variant = version.product_variant;
  facts.major_version = version.major;
  facts.minor_version = version.minor;
  facts.hostname = version.hostname;
  if (facts.arch.empty()) facts.arch = version.arch;
  facts.network = read_windows_interfaces(system, facts.windows_current_control_set);
  facts.hypervisor_tools = read_windows_vmware(system, facts.windows_current_control_set, software.get());
  if (guest.is_dir(guest.resolve_case("/Program Files/VMware/VMware Tools")))
    facts.hypervisor_tools.push_back(
        {"vmware-tools", "windows-program", guest.resolve_case("/Program Files/VMware/VMware Tools")});
  facts.windows = read_windows_facts(system, facts.windows_current_control_set, software.get());
  registry::HiveHealth health =
      registry::hive_health(read_host_bytes(scratch.path() / "SYSTEM", 0, 512), guest, system_path);
  facts.windows.system_hive_dirty = health.dirty && !health.logs.empty();
  facts.windows.system_hive_state = health.dirty
                                        ? fmt::format("{}: sequence numbers differ{}", system_path,
                                                      health.logs.empty() ? ", no logs beside it" : ", logs beside it")
                                        : fmt::format("{}: clean", system_path);
  read_accounts(guest, config, scratch.path(), facts.windows);
  if (auto hiberfil = guest.stat(guest.resolve_case("/hiberfil.sys"));
      hiberfil && hiberfil->kind == guest::FileInfo::Kind::file) {
    facts.windows.hiberfil_size = hiberfil->size;
    if (hiberfil->size >= 4)
      facts.windows.hiberfil_signature = guest.read_prefix(guest.resolve_case("/hiberfil.sys"), 4);
  }
}

// The facts fixers can change: read after mounting, and again after fixing (refresh_facts).
void read_guest_config(guest::Session& session, guest::Guest& guest, Facts& facts) {
  std::erase_if(facts.bootloaders,
                [](const auto& loader) { return loader.location.empty(); });  // keep other filesystems'
  std::erase_if(facts.boot_menus, [](const BootMenu& menu) { return menu.location.empty(); });
  facts.network.clear();
  facts.hypervisor_tools.clear();
  facts.packages.clear();
  facts.packages_known = false;
  for (auto& loader : bootloader::detect_bootloaders(guest)) facts.bootloaders.push_back(loader);
  if (facts.os_type == "windows") {
    read_boot_menus(guest, "", facts);
    read_windows(guest, facts);
  } else if (facts.os_type == "linux") {
    read_packages(session.handle(), guest, facts);
    facts.network = detect_linux_network(guest);
    facts.hypervisor_tools = detect_linux_tools(guest, facts.packages);
    facts.linux = read_linux_facts(guest, facts.bootloaders);
  }
  for (FilesystemFacts& fs : facts.filesystems) {
    if (fs.mountpoint.empty()) continue;
    std::unique_ptr<struct guestfs_statvfs, decltype(&guestfs_free_statvfs)> st(
        guestfs_statvfs(session.handle(), fs.mountpoint.c_str()), guestfs_free_statvfs);
    if (st)
      fs.free = static_cast<uint64_t>(st->bfree) *
                static_cast<uint64_t>(st->frsize);  // root-reserved blocks count: the importer runs as root
  }
  derive_boot_mode(facts);
}

}  // namespace

Facts inspect_guest(guest::Session& session, const std::vector<std::string>& sources, MountMode mode,
                    guest::Guest* guest) {
  guestfs_h* g = session.handle();
  Facts facts;
  facts.disks = list_disks(session, sources);
  read_partitions(session, facts);
  read_filesystems(g, facts);
  if (auto windows = find_windows_roots(session, facts)) {
    const WindowsRoot& root = windows->front();
    facts.os_count = static_cast<int>(windows->size());
    facts.root_device = root.device;
    facts.os_type = facts.distro = "windows";
    facts.windows_systemroot = root.systemroot;
    facts.arch = root.arch;
    facts.mountpoints = {{"/", root.device}};
  } else if (auto linux_root = find_linux_root(session, facts)) {
    facts.os_count = 1;
    facts.root_device = linux_root->device;
    facts.os_type = "linux";
    facts.distro = linux_root->release.distro;
    facts.product_name = linux_root->release.product_name;
    facts.major_version = linux_root->release.major;
    facts.minor_version = linux_root->release.minor;
    facts.arch = linux_root->arch;
    facts.hostname = linux_root->hostname;
    facts.package_format = "deb";
    facts.package_management = "apt";
    facts.mountpoints = std::move(linux_root->mountpoints);
  } else {
    facts.found_by_libguestfs = true;
    auto roots = take_strings(g, guestfs_inspect_os(g), "inspect_os");
    if (roots.empty()) {
      // An OS on an encrypted volume cannot be seen: the volumes are the finding (the rules say
      // which), not a missing OS.
      const std::vector<std::string> encrypted = encrypted_volumes(facts);
      if (encrypted.empty())
        throw BadInput("no operating system found on the disk(s): libguestfs inspection recognised none");
      facts.os_type = "unknown";
      facts.notes.push_back(
          fmt::format("no operating system found; encrypted volumes: {}", fmt::join(encrypted, ", ")));
      derive_boot_mode(facts);
      return facts;
    }
    facts.os_count = static_cast<int>(roots.size());
    read_os(g, roots.front(), facts);
  }
  sort_mountpoints(facts.mountpoints);
  if (facts.os_count > 1)
    facts.notes.push_back(
        fmt::format("{} operating systems found; using the one on {}", facts.os_count, facts.root_device));
  for (FilesystemFacts& fs : facts.filesystems)
    for (const guest::Mountpoint& mp : facts.mountpoints)
      if (mp.device == fs.device) fs.mountpoint = mp.path;
  guest::LibguestfsGuest appliance(session);
  read_ext_states(appliance, facts);
  scan_unmounted_boot_filesystems(session, facts);
  mount_guest(g, mode, facts);
  read_guest_config(session, guest ? *guest : appliance, facts);
  return facts;
}

void refresh_facts(guest::Session& session, guest::Guest& guest, Facts& facts) {
  // Partition tables can change (gpt-to-mbr): read them again. The disks and their sizes cannot.
  read_partitions(session, facts);
  if (facts.os_type == "unknown") return;  // nothing is mounted: only the disks could be read
  read_guest_config(session, guest, facts);
}

std::optional<bool> ext_superblock_clean(std::string_view superblock) {
  constexpr uint32_t kMagic = 0xef53, kValid = 1, kErrors = 2, kNeedsRecovery = 0x4;
  const uint32_t magic_and_state = le32(superblock, 0x38);
  if (superblock.size() < 0x64 || (magic_and_state & 0xffff) != kMagic) return std::nullopt;
  const uint32_t state = magic_and_state >> 16, incompatible = le32(superblock, 0x60);
  return (state & kValid) && !(state & kErrors) && !(incompatible & kNeedsRecovery);
}

}  // namespace vmfix::inspect

#include "inspect/inspect.h"

#include <fmt/core.h>

#include <algorithm>
#include <memory>

#include "bootloader/detect.h"
#include "disk/partition_types.h"
#include "guest/libguestfs_guest.h"
#include "inspect/network.h"
#include "inspect/tools.h"
#include "inspect/windows.h"
#include "support/files.h"

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
  std::sort(facts.mountpoints.begin(), facts.mountpoints.end(),
            [](const auto& a, const auto& b) { return a.path.size() < b.path.size() || (a.path.size() == b.path.size() && a.path < b.path); });
}

PartitionFacts read_partition(guestfs_h* g, const std::string& device, const std::string& table,
                              const guestfs_partition& part) {
  PartitionFacts partition;
  partition.number = part.part_num;
  partition.device = fmt::format("{}{}", device, part.part_num);
  partition.start = part.part_start;
  partition.end = part.part_end;
  partition.size = part.part_size;
  if (table == "mbr") {
    int id = guestfs_part_get_mbr_id(g, device.c_str(), part.part_num);
    if (id >= 0) {
      partition.type = fmt::format("0x{:02x}", id);
      partition.role = disk::role_of_mbr_type(static_cast<uint8_t>(id));
    }
    partition.bootable = guestfs_part_get_bootable(g, device.c_str(), part.part_num) == 1;
  } else {
    partition.type = optional_string(guestfs_part_get_gpt_type(g, device.c_str(), part.part_num));
    partition.role = disk::role_of_gpt_type(partition.type);
    partition.name = optional_string(guestfs_part_get_name(g, device.c_str(), part.part_num));
  }
  return partition;
}

void read_disks(guestfs_h* g, const std::vector<std::string>& sources, Facts& facts) {
  auto devices = take_strings(g, guestfs_list_devices(g), "list_devices");
  for (size_t i = 0; i < devices.size(); ++i) {
    DiskFacts disk;
    disk.device = devices[i];
    disk.source = i < sources.size() ? sources[i] : "";
    int64_t size = guestfs_blockdev_getsize64(g, disk.device.c_str());
    check(g, size < 0 ? -1 : 0, fmt::format("blockdev_getsize64 {}", disk.device));
    disk.size = static_cast<uint64_t>(size);
    std::string table = optional_string(guestfs_part_get_parttype(g, disk.device.c_str()));
    disk.partition_table = table == "msdos" ? "mbr" : table.empty() ? "none" : table;
    if (disk.partition_table == "mbr" || disk.partition_table == "gpt") {
      std::unique_ptr<guestfs_partition_list, decltype(&guestfs_free_partition_list)> parts(
          guestfs_part_list(g, disk.device.c_str()), guestfs_free_partition_list);
      if (!parts) guest::throw_last_error(g, fmt::format("part_list {}", disk.device));
      for (uint32_t p = 0; p < parts->len; ++p)
        disk.partitions.push_back(read_partition(g, disk.device, disk.partition_table, parts->val[p]));
    }
    facts.disks.push_back(std::move(disk));
  }
}

void read_filesystems(guestfs_h* g, Facts& facts) {
  auto flat = take_strings(g, guestfs_list_filesystems(g), "list_filesystems");
  for (size_t i = 0; i + 1 < flat.size(); i += 2) {
    FilesystemFacts fs;
    fs.device = flat[i];
    fs.type = flat[i + 1];
    if (fs.type == "unknown") continue;
    fs.label = optional_string(guestfs_vfs_label(g, fs.device.c_str()));
    fs.uuid = optional_string(guestfs_vfs_uuid(g, fs.device.c_str()));
    if (!fs.device.starts_with("btrfsvol:")) {
      int64_t size = guestfs_blockdev_getsize64(g, fs.device.c_str());
      if (size >= 0) fs.size = static_cast<uint64_t>(size);
    }
    for (const guest::Mountpoint& mp : facts.mountpoints)
      if (mp.device == fs.device) fs.mountpoint = mp.path;
    facts.filesystems.push_back(std::move(fs));
  }
}

// Boot loaders on filesystems the OS does not mount (a Windows System Reserved partition, an
// ESP missing from fstab): each is mounted read-only at / for a moment, before the OS is.
void scan_unmounted_boot_filesystems(guest::Session& session, Facts& facts) {
  guestfs_h* g = session.handle();
  guest::LibguestfsGuest guest(session);
  for (const FilesystemFacts& fs : facts.filesystems) {
    if (!fs.mountpoint.empty() || (fs.type != "vfat" && fs.type != "ntfs")) continue;
    if (guestfs_mount_ro(g, fs.device.c_str(), "/") != 0) {
      facts.notes.push_back(fmt::format("could not mount {} to look for boot loaders: {}", fs.device,
                                        guestfs_last_error(g)));
      continue;
    }
    for (auto& loader : bootloader::detect_bootloaders(guest, "/", fs.device)) facts.bootloaders.push_back(loader);
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
  for (FilesystemFacts& fs : facts.filesystems) {
    if (fs.mountpoint.empty()) continue;
    std::unique_ptr<struct guestfs_statvfs, decltype(&guestfs_free_statvfs)> st(guestfs_statvfs(g, fs.mountpoint.c_str()),
                                                                         guestfs_free_statvfs);
    if (st) fs.free = static_cast<uint64_t>(st->bavail) * static_cast<uint64_t>(st->frsize);
  }
}

void read_packages(guestfs_h* g, Facts& facts) {
  std::unique_ptr<guestfs_application2_list, decltype(&guestfs_free_application2_list)> apps(
      guestfs_inspect_list_applications2(g, facts.root_device.c_str()), guestfs_free_application2_list);
  if (!apps) {
    facts.notes.push_back(fmt::format("could not read the package database: {}", guestfs_last_error(g)));
    return;
  }
  for (uint32_t i = 0; i < apps->len; ++i) facts.packages.emplace_back(apps->val[i].app2_name);
  std::sort(facts.packages.begin(), facts.packages.end());
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
  facts.network = read_windows_interfaces(system, facts.windows_current_control_set);
  facts.hypervisor_tools = read_windows_vmware(system, facts.windows_current_control_set, software.get());
  if (guest.is_dir(guest.resolve_case("/Program Files/VMware/VMware Tools")))
    facts.hypervisor_tools.push_back({"vmware-tools", "windows-program", guest.resolve_case("/Program Files/VMware/VMware Tools")});
}

}  // namespace

Facts inspect_guest(guest::Session& session, const std::vector<std::string>& sources, MountMode mode) {
  guestfs_h* g = session.handle();
  Facts facts;
  auto roots = take_strings(g, guestfs_inspect_os(g), "inspect_os");
  read_disks(g, sources, facts);
  if (roots.empty())
    throw BadInput("no operating system found on the disk(s): libguestfs inspection recognised none");
  if (roots.size() > 1)
    facts.notes.push_back(fmt::format("{} operating systems found; using the one on {}", roots.size(), roots.front()));
  read_os(g, roots.front(), facts);
  read_filesystems(g, facts);
  scan_unmounted_boot_filesystems(session, facts);
  mount_guest(g, mode, facts);

  guest::LibguestfsGuest guest(session);
  for (auto& loader : bootloader::detect_bootloaders(guest)) facts.bootloaders.push_back(loader);
  if (facts.os_type == "windows") {
    read_windows(guest, facts);
  } else if (facts.os_type == "linux") {
    read_packages(g, facts);
    facts.network = detect_linux_network(guest);
    facts.hypervisor_tools = detect_linux_tools(guest, facts.packages);
  }
  derive_boot_mode(facts);
  return facts;
}

}  // namespace vmfix::inspect

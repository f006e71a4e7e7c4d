// gpt-to-mbr: the boot disk's GPT becomes an MBR with every kept partition on the same sectors
// (disk/gpt_to_mbr.h decides whether and how). GRUB's core image, which sat in the BIOS boot
// partition, goes to the gap after the MBR: the guest's own grub-install for i386-pc writes it,
// and configuration that names partitions by their GPT PARTUUID gets the MBR's. Both GPT headers
// and entry arrays are zeroed, so no tool finds a stale GPT.
//
// Not converted, with the reason given: UEFI-only guests without GRUB's BIOS modules, Windows
// (BCD and MountedDevices would have to be rebuilt; AWS converts some of these disks itself),
// PARTLABEL= references (an MBR has no partition names), and every layout the planner refuses.
#include "disk/gpt_to_mbr.h"

#include <fmt/core.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <exception>

#include "disk/partition_types.h"
#include "fixers/table.h"
#include "inspect/inspect.h"
#include "support/diff.h"
#include "support/text.h"

namespace vmfix::fixers {

namespace {

constexpr const char* kId = "gpt-to-mbr";
constexpr const char* kRule = "boot-partitioning";
// Where grub-install finds the i386-pc modules: Debian, Ubuntu and RHEL; SUSE.
const std::vector<std::string> kModuleDirs = {"/usr/lib/grub/i386-pc", "/usr/share/grub2/i386-pc"};
constexpr uint64_t kDefaultCoreSectors = 128;  // 64 KiB: a core image with LVM and RAID modules fits
constexpr uint64_t kCoreSlackSectors = 16;     // part_msdos instead of part_gpt, and room to grow

// Files that may name a partition by PARTUUID= or PARTLABEL= (kernel command lines, mounts).
const std::vector<std::string> kConfigFiles = {"/etc/fstab",          "/etc/crypttab",       "/etc/default/grub",
                                               "/etc/kernel/cmdline", "/boot/grub/grub.cfg", "/boot/grub2/grub.cfg",
                                               "/boot/grub2/grubenv"};

struct Assessment {
  std::string device;  // the boot disk, "/dev/sda"
  uint64_t size = 0;
  disk::PartitionTable table;
  disk::GptToMbrResult result;
  std::vector<std::string> reasons;       // the planner's, and the guest's (boot loader, Windows)
  std::string installer;                  // the guest's grub-install
  bool legacy = false;                    // GRUB legacy instead of GRUB 2
  std::string package;                    // a cached package with the i386-pc modules, to install first
  std::vector<std::string> config_files;  // every file of kConfigFiles (and BLS entries) present

  bool is_gpt() const { return table.kind == "gpt"; }
  bool possible() const { return is_gpt() && result.possible && reasons.empty(); }
};

// The partition number of the filesystem holding /boot (or /) when it is a partition of `device`.
int boot_partition(const inspect::Facts& facts, const std::string& device) {
  for (const char* path : {"/boot", "/"})
    for (const auto& mp : facts.mountpoints)
      if (mp.path == path && mp.device.starts_with(device)) {
        std::string rest = mp.device.substr(device.size());
        if (!rest.empty() && rest.front() == 'p') rest.erase(0, 1);  // nvme0n1p2
        if (!rest.empty() && std::all_of(rest.begin(), rest.end(), ::isdigit)) return std::stoi(rest);
      }
  return 0;
}

bool is_suse(const inspect::Facts& facts) { return facts.distro == "sles" || facts.distro.starts_with("opensuse"); }

std::string module_package(const inspect::Facts& facts) {
  if (facts.package_format == "rpm") return is_suse(facts) ? "grub2-i386-pc" : "grub2-pc-modules";
  return "grub-pc-bin";
}

// A package with GRUB's i386-pc modules left in the guest's package cache.
std::string cached_module_package(guest::Guest& guest, const inspect::Facts& facts) {
  const std::string wanted = module_package(facts) + (facts.package_format == "rpm" ? "-" : "_");
  std::vector<std::string> directories{"/var/cache/apt/archives"};
  for (const char* base : {"/var/cache/dnf", "/var/cache/yum", "/var/cache/zypp/packages"}) {
    if (!guest.is_dir(base)) continue;
    // dnf: BASE/REPO/packages; yum: BASE/ARCH/VERSION/REPO/packages; zypp: BASE/REPO/ARCH
    std::vector<std::string> level{base};
    for (int depth = 0; depth < 4; ++depth) {
      std::vector<std::string> next;
      for (const std::string& dir : level)
        for (const std::string& name : guest.ls(dir))
          if (guest.is_dir(guest::join_path(dir, name))) next.push_back(guest::join_path(dir, name));
      directories.insert(directories.end(), next.begin(), next.end());
      level = std::move(next);
    }
  }
  for (const std::string& dir : directories)
    for (const std::string& file : guest.files_in(dir, facts.package_format == "rpm" ? ".rpm" : ".deb"))
      if (file.substr(file.rfind('/') + 1).starts_with(wanted)) return file;
  return "";
}

uint64_t core_image_sectors(guest::Guest& guest) {
  for (const char* path : {"/boot/grub/i386-pc/core.img", "/boot/grub2/i386-pc/core.img"})
    if (auto info = guest.stat(path); info && info->kind == guest::FileInfo::Kind::file)
      return (info->size + 511) / 512 + kCoreSlackSectors;
  return kDefaultCoreSectors;
}

std::string windows_reason(const Assessment& a) {
  size_t partitions = a.table.partitions.size();
  bool dynamic = std::any_of(a.table.partitions.begin(), a.table.partitions.end(),
                             [](const disk::Partition& p) { return disk::is_dynamic_disk_type(p.gpt_type); });
  return fmt::format(
      "a Windows GPT disk boots only by UEFI; booting it by BIOS needs the boot manager from Windows\\Boot\\PCAT, a "
      "new BCD store and MountedDevices rewritten, which vmfix does not do. AWS converts such a disk itself when the "
      "image is VHDX, the disk is under 2 TiB, it has at most 3 primary partitions and is not a dynamic disk (this "
      "disk: {:.2f} TiB, {} partition(s), {}); or import it with UEFI boot (--profile aws-current)",
      static_cast<double>(a.size) / static_cast<double>(uint64_t{1} << 40), partitions, dynamic ? "dynamic" : "basic");
}

// The boot loader that will boot the MBR disk: the guest's GRUB for i386-pc.
void assess_loader(guest::Guest& guest, const inspect::Facts& facts, Assessment& a) {
  const bool grub2 =
      std::any_of(facts.bootloaders.begin(), facts.bootloaders.end(), [](const auto& b) { return b.kind == "grub2"; });
  a.legacy = !grub2 && std::any_of(facts.bootloaders.begin(), facts.bootloaders.end(),
                                   [](const auto& b) { return b.kind == "grub-legacy"; });
  a.installer = guest.find_program({"grub-install", "grub2-install"});
  if (!grub2 && !a.legacy) {
    a.reasons.push_back("the guest has no GRUB to boot it by BIOS from an MBR disk");
    return;
  }
  if (a.installer.empty()) {
    a.reasons.push_back("the guest has no grub-install to put GRUB's boot code on the MBR disk");
    return;
  }
  if (a.legacy) return;  // GRUB legacy carries its stage files in /boot/grub
  for (const std::string& dir : kModuleDirs)
    if (guest.is_file(dir + "/boot.img")) return;
  a.package = cached_module_package(guest, facts);
  if (a.package.empty())
    a.reasons.push_back(fmt::format(
        "the guest has no GRUB modules for BIOS boot ({}) and none in its package cache: install the package {} in "
        "the guest first{}",
        is_suse(facts) ? kModuleDirs[1] : kModuleDirs[0], module_package(facts),
        facts.boot_mode == bootloader::BootMode::uefi ? ", or import it with UEFI boot (--profile aws-current)" : ""));
}

Assessment assess(guest::Guest& guest, const inspect::Facts& facts) {
  Assessment a;
  const inspect::DiskFacts* disk = inspect::boot_disk(facts);
  if (!disk) return a;
  a.device = disk->device;
  a.size = disk->size;
  a.table = disk::read_partition_table(
      [&](uint64_t offset, size_t length) { return guest.read_device(a.device, offset, length); }, a.size);
  if (!a.is_gpt()) return a;
  if (facts.os_type == "windows") {
    a.reasons.push_back(windows_reason(a));
    return a;
  }
  for (const std::string& file : kConfigFiles)
    if (guest.is_file(file)) a.config_files.push_back(file);
  for (const std::string& file : guest.files_in("/boot/loader/entries", ".conf")) a.config_files.push_back(file);
  for (const std::string& file : a.config_files)
    if (guest.read(file).find("PARTLABEL=") != std::string::npos)
      a.reasons.push_back(fmt::format("{} names a partition by PARTLABEL=, and an MBR has no partition names", file));

  assess_loader(guest, facts, a);
  disk::GptToMbrRequest request;
  request.active_gpt_number = boot_partition(facts, a.device);
  request.embed_sectors_needed = a.legacy ? 0 : core_image_sectors(guest);
  a.result = disk::plan_gpt_to_mbr(a.table, request);
  for (const std::string& reason : a.result.reasons) a.reasons.push_back(reason);
  return a;
}

std::string describe_plan(const disk::MbrPlan& plan) {
  std::vector<std::string> parts;
  for (const disk::MbrEntry& e : plan.entries)
    parts.push_back(fmt::format("GPT {} -> MBR {} (0x{:02x}{}{}, sectors {}-{})", e.gpt_number, e.number, e.type,
                                e.logical ? ", logical" : "", e.active ? ", active" : "", e.first_sector,
                                e.last_sector));
  for (const std::string& dropped : plan.dropped) parts.push_back(dropped);
  return fmt::format("{}; disk signature {:08x}", fmt::join(parts, "; "), plan.disk_signature);
}

// grubenv is a fixed-size block padded with '#': an edit keeps its size.
std::string same_block_size(std::string text, size_t size) {
  while (text.size() > size && text.back() == '#') text.pop_back();
  if (text.size() < size) text.append(size - text.size(), '#');
  return text;
}

// The README's fixer table (scripts/fixer-table.sh).
constexpr const char* kChecks =
    "the boot disk's GPT (both headers, CRCs, entries), read on the host from raw sectors; the "
    "guest's GRUB for BIOS (`grub-install`, `/usr/lib/grub/i386-pc`, or its package in the package "
    "cache), PARTUUID=/PARTLABEL= references";
constexpr const char* kChanges =
    "runs under `--profile aws-2017` (MBR required) or when asked with `--fix gpt-to-mbr`. Each kept "
    "partition stays on its sectors (nothing moves); types mapped as gdisk does (Linux 0x83, swap "
    "0x82, LVM 0x8e, RAID 0xfd, basic data 0x07, ESP 0xef, recovery 0x27); GPT numbers 1-4 keep "
    "their slots, more than four become three primaries and logical partitions where a free sector "
    "precedes each for its EBR; the BIOS boot and Microsoft reserved partitions are dropped; the "
    "/boot (or /) partition is active; the disk gets a signature. Both GPT headers and entry arrays "
    "are zeroed, `PARTUUID=` and `hd0,gptN` hints are renamed, and the guest's `grub-install "
    "--target=i386-pc` puts GRUB's core image after the MBR (given the disk by the link udev makes "
    "from the label each drive is added with, `/dev/disk/guestfs/vmfixa` for the first: the "
    "appliance's kernel names its disks as their probes finish, so its `/dev/sda` can be another "
    "disk, even the appliance's own; GRUB legacy gets the kernel's name read from the link, and a "
    "device map naming it hd0 while it runs). Refused, with the reason: 4 KiB "
    "sectors, a damaged GPT, partitions past 2^32 sectors, types with no MBR form, dynamic disks, "
    "too many partitions without EBR room, a gap too small for GRUB's core image, no GRUB for BIOS, "
    "`PARTLABEL=` references, and Windows (BIOS boot would need a new BCD store and MountedDevices; "
    "the report says when AWS converts the disk itself)";

class GptToMbr : public Fixer {
 public:
  std::string_view id() const override { return kId; }
  std::string_view summary() const override {
    return "GPT boot disk to MBR without moving data; GRUB reinstalled for BIOS by the guest's grub-install "
           "(under profiles that need MBR, or when asked with --fix)";
  }
  std::vector<FixerDoc> documentation() const override { return {{std::string(id()), "", kChecks, kChanges}}; }
  std::vector<std::string> rules() const override { return {kRule}; }
  bool applies(const inspect::Facts& facts) const override {
    const inspect::DiskFacts* disk = inspect::boot_disk(facts);
    return disk && disk->partition_table == "gpt" && (facts.os_type == "linux" || facts.os_type == "windows");
  }

  std::vector<Finding> check(guest::Guest& guest, const inspect::Facts& facts) override {
    Assessment a = assess(guest, facts);
    if (a.device.empty()) return {};
    Finding finding{kRule, Status::pass, "the boot disk is MBR",
                    fmt::format("{}: {} partition table", a.device, a.table.kind)};
    if (a.table.kind == "none")
      return {
          {kRule, Status::fail, "the boot disk has no partition table (No valid partitions)", finding.evidence, false}};
    if (!a.is_gpt()) return {finding};
    finding.status = Status::fail;
    if (a.possible()) {
      finding.message = "the boot disk is GPT; it converts to MBR without moving data";
      finding.evidence = describe_plan(a.result.plan);
    } else {
      finding.message = "the boot disk is GPT and cannot be converted to MBR";
      finding.evidence = fmt::format("{}", fmt::join(a.reasons, "; "));
      finding.repairable = false;
    }
    return {finding};
  }

  std::vector<Change> fix(guest::Guest& guest, const inspect::Facts& facts) override {
    Assessment a = assess(guest, facts);
    if (!a.possible()) return {};
    const disk::MbrPlan& plan = a.result.plan;
    std::vector<Change> changes;
    if (!a.package.empty()) {
      guest.run(facts.package_format == "rpm" ? std::vector<std::string>{"rpm", "-i", "--nodeps", a.package}
                                              : std::vector<std::string>{"dpkg", "-i", a.package});
      changes.push_back(
          {kId, a.package, "not installed", "installed from the guest's package cache (GRUB modules for BIOS)", ""});
    }

    auto read = [&](uint64_t offset, size_t length) { return guest.read_device(a.device, offset, length); };
    const std::string before = describe_table(a.table);
    auto writes = disk::gpt_wipes(read, a.size, plan);
    for (disk::SectorWrite& w : disk::encode_mbr(plan, read(0, 512))) writes.push_back(std::move(w));
    for (const disk::SectorWrite& w : writes) guest.write_device(a.device, w.offset, w.bytes);
    changes.push_back({kId, a.device + " (partition table)", before, "MBR: " + describe_plan(plan), ""});
    const disk::MbrEntry& first = plan.entries.front();  // a primary: primaries come first
    if (const uint8_t seen = guest.mbr_partition_type(a.device, first.number); seen != first.type)
      throw Error(fmt::format("{}: partition {} reads back as type {:#04x}, not {:#04x}, after the conversion",
                              a.device, first.number, seen, first.type));

    for (const std::string& file : a.config_files) {
      std::string old_text = guest.read(file);
      std::string new_text = disk::with_mbr_names(old_text, a.table, plan);
      if (new_text == old_text) continue;
      if (file.ends_with("/grubenv")) new_text = same_block_size(std::move(new_text), old_text.size());
      guest.replace_file(file, new_text);
      changes.push_back(
          {kId, file, "names GPT partitions", "names the MBR partitions", unified_diff(old_text, new_text, file)});
    }

    // The appliance's kernel may call this disk something else than libguestfs does (even the
    // appliance's own disk, an ext2 filesystem without partitions: grub-install then refused with
    // "embedding is not possible, but this is required for cross-disk install"), so grub-install
    // gets the disk by its label's link, which GRUB 2 follows.
    if (a.legacy)
      install_grub_legacy(guest, a);
    else
      guest.run({a.installer, "--target=i386-pc", guest::program_device(a.device)});
    changes.push_back({kId, a.device + " (boot code)", "GRUB core image in the BIOS boot partition",
                       fmt::format("GRUB installed for BIOS by the guest's {} (core image after the MBR)", a.installer),
                       ""});

    // What the disk says now is what the plan said.
    disk::PartitionTable now = disk::read_partition_table(read, a.size);
    if (now.kind != "mbr" || !now.problems.empty() ||
        now.partitions.size() != plan.entries.size() + (plan.extended_last ? 1 : 0))
      throw Error(fmt::format("{}: the partition table reads back as {} ({}) after the conversion", a.device, now.kind,
                              fmt::join(now.problems, "; ")));
    return changes;
  }

 private:
  // GRUB legacy's installer finds the BIOS drive of a disk by its name as written in the device
  // map, and one it makes itself counts the appliance's disks. So it gets the kernel's name for
  // the disk, read from the label's link in the appliance, and a map that makes that disk hd0 for
  // the while; the guest's own map, if any, is put back.
  static void install_grub_legacy(guest::Guest& guest, const Assessment& a) {
    const std::string link = guest::program_device(a.device);
    const std::string kernel_name(trim(guest.run({"readlink", "-f", link})));
    if (!kernel_name.starts_with("/dev/") || kernel_name == link)
      throw Error(
          fmt::format("{}: the appliance has no disk behind {} (readlink says \"{}\")", a.device, link, kernel_name));
    const std::string map = "/boot/grub/device.map";
    const std::optional<std::string> guests_map = guest.read_if_exists(map);
    guest.write(map, "(hd0) " + kernel_name + "\n");
    std::exception_ptr failure;
    try {
      guest.run({a.installer, kernel_name});
    } catch (...) {
      failure = std::current_exception();
    }
    guests_map ? guest.write(map, *guests_map) : guest.rm(map);
    if (failure) std::rethrow_exception(failure);
  }

  static std::string describe_table(const disk::PartitionTable& table) {
    std::vector<std::string> parts;
    for (const disk::Partition& p : table.partitions) {
      std::string_view role = disk::role_of_gpt_type(p.gpt_type);
      parts.push_back(fmt::format("{} {} sectors {}-{}", p.number, role.empty() ? p.gpt_type : std::string(role),
                                  p.first_sector, p.last_sector));
    }
    return fmt::format("GPT: {}", fmt::join(parts, "; "));
  }
};

}  // namespace

std::unique_ptr<Fixer> make_gpt_to_mbr() { return std::make_unique<GptToMbr>(); }

}  // namespace vmfix::fixers

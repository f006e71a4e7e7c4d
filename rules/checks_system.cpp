// Rules about the operating system, the image, the disks and the network.
#include <fmt/core.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <set>

#include "rules/checks.h"
#include "support/text.h"

namespace vmfix::rules {

using inspect::Facts;

Outcome pass(std::string message, std::vector<std::string> evidence) {
  return {Status::pass, std::move(message), std::move(evidence)};
}
Outcome fail(std::string message, std::vector<std::string> evidence) {
  return {Status::fail, std::move(message), std::move(evidence)};
}
Outcome unknown(std::string message, std::vector<std::string> evidence) {
  return {Status::unknown, std::move(message), std::move(evidence)};
}

DefaultKernel default_kernel(const Facts& facts) {
  const auto& boot = facts.linux.boot;
  if (boot && boot->default_entry) {
    const bootloader::BootEntry& entry = boot->entries[*boot->default_entry];
    std::string version = bootloader::kernel_version_of(entry.kernel);
    if (!version.empty())
      return {version, fmt::format("default entry '{}' in {}: {}", entry.title, boot->config, entry.kernel)};
  }
  if (!facts.linux.kernels.empty())
    return {facts.linux.kernels.front().version,
            fmt::format("newest kernel in /boot: {}", facts.linux.kernels.front().path)};
  return {"", "no kernel found in /boot"};
}

namespace {

std::string clean_product_name(std::string name) {
  for (std::string_view junk : {"Microsoft ", "(R)", "\xc2\xae", "(TM)"}) {
    for (size_t at; (at = name.find(junk)) != std::string::npos;) name.erase(at, junk.size());
  }
  return std::string(trim(name));
}

// The major.minor libguestfs reports, as the tables write it ("12.04" is 12.4).
bool linux_entry_matches(const nlohmann::json& entry, const Facts& facts) {
  if (entry.value("distro", "") != facts.distro) return false;
  for (const auto& version : entry.value("versions", nlohmann::json::array()))
    if (version_in_range(facts.major_version, facts.minor_version, version, version)) return true;
  for (const auto& range : entry.value("ranges", nlohmann::json::array()))
    if (version_in_range(facts.major_version, facts.minor_version, range.at(0), range.at(1))) return true;
  return false;
}

std::string listed_versions(const Profile& profile, const std::string& distro) {
  std::vector<std::string> listed;
  for (const auto& entry : profile.linux) {
    if (entry.value("distro", "") != distro) continue;
    for (const auto& version : entry.value("versions", nlohmann::json::array())) listed.push_back(version);
    for (const auto& range : entry.value("ranges", nlohmann::json::array()))
      listed.push_back(range.at(0).get<std::string>() + "-" + range.at(1).get<std::string>());
  }
  return fmt::format("{}", fmt::join(listed, ", "));
}

bool edition_matches(const std::string& edition, const Facts& facts) {
  const std::string name = to_lower(facts.product_name), id = to_lower(facts.windows.edition_id);
  const std::string wanted = to_lower(edition);
  if (name.find(" " + wanted) != std::string::npos || (!id.empty() && id.find(wanted) != std::string::npos))
    return true;
  if (wanted == "professional") return name.find(" pro") != std::string::npos;
  if (wanted == "home") return id.rfind("core", 0) == 0 || name.find(" home") != std::string::npos;
  if (wanted == "web server") return id.find("web") != std::string::npos;
  return false;
}

int bits_of(const Facts& facts) {
  if (facts.arch == "x86_64" || facts.arch == "aarch64") return 64;
  if (facts.arch == "i386" || facts.arch == "i686") return 32;
  return 0;
}

Outcome check_os_recognized(const Context& c) {
  const Facts& f = c.facts;
  std::string evidence =
      fmt::format("libguestfs: type '{}', distro '{}', product '{}'", f.os_type, f.distro, f.product_name);
  if (f.os_type.empty()) return fail("the operating system was not recognised", {evidence});
  if (f.os_type == "linux" && (f.distro.empty() || f.distro == "unknown" || f.distro == "linux"))
    return fail("the Linux distribution was not recognised", {evidence});
  if (f.os_type != "linux" && f.os_type != "windows")
    return fail(fmt::format("{} guests are not imported", f.os_type), {evidence});
  return pass(fmt::format("{} {}.{} ({})", f.distro, f.major_version, f.minor_version, f.product_name));
}

Outcome check_linux_supported(const Context& c) {
  const Facts& f = c.facts;
  std::string found = fmt::format("{} {}.{} ({})", f.distro, f.major_version, f.minor_version, f.product_name);
  for (const auto& entry : c.profile.linux)
    if (linux_entry_matches(entry, f)) return pass(found + " is on the list");
  std::string listed = listed_versions(c.profile, f.distro);
  if (listed.empty()) return fail(fmt::format("{} is not a distribution this profile lists", f.distro), {found});
  return fail(
      fmt::format("{} {}.{} is not a listed version (listed: {})", f.distro, f.major_version, f.minor_version, listed),
      {found});
}

Outcome check_windows_supported(const Context& c) {
  const Facts& f = c.facts;
  const std::string product = windows_product(c.profile, f);
  std::string found = fmt::format(
      "{} (EditionID '{}', {}, {}-bit)", f.product_name, f.windows.edition_id,
      f.windows.installation_type.empty() ? "installation type unknown" : f.windows.installation_type, bits_of(f));
  if (product.empty()) return fail("this Windows product is not on the list", {found});
  if (f.windows.installation_type == "Nano Server") return fail("Nano Server installations are not supported", {found});
  for (const auto& entry : c.profile.windows) {
    if (entry.value("product", "") != product) continue;
    auto bits = entry.value("bits", std::vector<int>{});
    if (std::find(bits.begin(), bits.end(), bits_of(f)) == bits.end())
      return fail(fmt::format("{} is supported as {}-bit only", product, fmt::join(bits, "/")), {found});
    auto editions = entry.value("editions", std::vector<std::string>{});
    for (const std::string& edition : editions)
      if (edition_matches(edition, f))
        return pass(fmt::format("{} {}, {}-bit is on the list", product, edition, bits_of(f)));
    if (f.windows.edition_id.empty() && clean_product_name(f.product_name) == product)
      return unknown("the edition is not recorded (no EditionID); supported editions: " +
                         fmt::format("{}", fmt::join(editions, ", ")),
                     {found});
    return fail(fmt::format("the edition is not one of {}", fmt::join(editions, ", ")), {found});
  }
  return fail("this Windows product is not on the list", {found});
}

Outcome check_os_supported(const Context& c) {
  if (c.facts.os_type == "windows") return check_windows_supported(c);
  if (c.facts.os_type == "linux") return check_linux_supported(c);
  return fail("only Linux and Windows guests are imported", {c.facts.os_type});
}

Outcome check_os_architecture(const Context& c) {
  const Facts& f = c.facts;
  std::string evidence = "architecture: " + (f.arch.empty() ? std::string("unknown") : f.arch);
  if (f.arch.empty()) return unknown("the architecture could not be read from the guest's binaries");
  if (f.arch == "aarch64" || f.arch.find("arm") == 0) return fail("ARM guests are not imported", {evidence});
  if (f.os_type == "linux" && f.arch != "x86_64") return fail("Linux guests must be 64-bit (x86_64)", {evidence});
  if (f.arch != "x86_64" && f.arch != "i386" && f.arch != "i686")
    return fail("only x86 and x86_64 guests are imported", {evidence});
  return pass(evidence);
}

Outcome check_kernel_supported(const Context& c) {
  const Facts& f = c.facts;
  DefaultKernel kernel = default_kernel(f);
  if (kernel.version.empty()) return fail("no kernel found to boot", {kernel.evidence});
  bool listed_distro = false;
  for (const auto& entry : c.profile.linux) {
    if (!linux_entry_matches(entry, f)) continue;
    listed_distro = true;
    if (!entry.contains("kernels"))
      return pass(fmt::format("this profile lists no kernels for {} {}.{}", f.distro, f.major_version, f.minor_version),
                  {kernel.evidence});
    for (const auto& excluded : entry.value("exclude_kernels", std::vector<std::string>{}))
      if (kernel_matches(kernel.version, excluded))
        return fail(fmt::format("kernel {} is excluded for this release", kernel.version), {kernel.evidence});
    for (const auto& series : entry.at("kernels"))
      if (kernel_matches(kernel.version, series))
        return pass(fmt::format("kernel {} is in the listed series {}", kernel.version, series.get<std::string>()),
                    {kernel.evidence});
  }
  if (!listed_distro)
    return unknown(fmt::format("{} {}.{} is not listed (see os-supported), so neither are its kernels", f.distro,
                               f.major_version, f.minor_version),
                   {kernel.evidence});
  std::vector<std::string> series;
  for (const auto& entry : c.profile.linux)
    if (linux_entry_matches(entry, f))
      for (const auto& s : entry.value("kernels", std::vector<std::string>{})) series.push_back(s);
  return fail(fmt::format("Unsupported kernel version {} (listed for {} {}.{}: {})", kernel.version, f.distro,
                          f.major_version, f.minor_version, fmt::join(series, ", ")),
              {kernel.evidence});
}

Outcome check_default_kernel(const Context& c) {
  const Facts& f = c.facts;
  DefaultKernel kernel = default_kernel(f);
  if (kernel.version.empty()) return fail("no kernel found to boot", {kernel.evidence});
  if (!f.packages_known)
    return unknown("the package database could not be read, so the kernel's origin is unknown", {kernel.evidence});
  const auto& packages = f.packages;
  auto has = [&](const std::string& name) { return std::binary_search(packages.begin(), packages.end(), name); };
  if (f.package_format == "deb") {
    if (has("linux-image-" + kernel.version))
      return pass(fmt::format("package linux-image-{} provides it", kernel.version), {kernel.evidence});
    return fail(fmt::format("no package linux-image-{} is installed: a custom kernel", kernel.version),
                {kernel.evidence});
  }
  for (const char* name : {"kernel", "kernel-core", "kernel-default", "kernel-uek", "kernel-uek-core", "kernel-xen"})
    if (has(name))
      return pass(fmt::format("the distribution's kernel package ({}) is installed", name), {kernel.evidence});
  return fail("no distribution kernel package is installed: a custom kernel", {kernel.evidence});
}

Outcome check_windows_language(const Context& c) {
  const Facts& f = c.facts;
  if (c.profile.limits.value("us_english", "all") == "client" && is_windows_server(f))
    return pass("this profile asks US English of client editions only");
  if (f.windows.install_language.empty())
    return unknown("the install language is not recorded (Control\\Nls\\Language)");
  std::string evidence = fmt::format("{}\\Control\\Nls\\Language InstallLanguage = {}", f.windows_current_control_set,
                                     f.windows.install_language);
  if (equals_icase(f.windows.install_language, "0409")) return pass("US English (0409)", {evidence});
  return fail(fmt::format("the system language is {} , not US English (0409)", f.windows.install_language), {evidence});
}

Outcome check_os_single(const Context& c) {
  if (c.facts.os_count <= 1) return pass("one operating system");
  return fail(fmt::format("{} operating systems on the disks (multi-boot)", c.facts.os_count),
              {"root used: " + c.facts.root_device});
}

Outcome check_os_deprecated(const Context& c) {
  const Facts& f = c.facts;
  const auto& deprecated = c.profile.deprecated;
  std::string since = deprecated.value("since", "");
  if (deprecated.value("i386", false) && bits_of(f) == 32)
    return fail(fmt::format("32-bit guests are deprecated from {}", since), {"architecture " + f.arch});
  if (f.os_type == "windows") {
    std::string product = windows_product(c.profile, f);
    for (const auto& listed : deprecated.value("windows", std::vector<std::string>{}))
      if (listed == product) return fail(fmt::format("{} is deprecated from {}", product, since), {f.product_name});
  } else {
    for (const auto& entry : deprecated.value("linux", nlohmann::json::array()))
      if (linux_entry_matches(entry, f))
        return fail(fmt::format("{} {}.{} is deprecated from {}", f.distro, f.major_version, f.minor_version, since),
                    {f.product_name});
  }
  return pass("not on the deprecation list");
}

std::string format_key(const std::string& format, const std::string& variant) {
  if (format == "vmdk") return variant == "streamOptimized" ? "vmdk-stream" : "vmdk";
  if (format == "vhd-fixed") return "vhd";
  if (format == "ova") return variant == "streamOptimized" || variant.empty() ? "ova" : "ova-" + variant;
  return format;
}

Outcome check_image_format(const Context& c) {
  auto accepted = c.profile.limits.value("accepted_formats", std::vector<std::string>{});
  auto is_accepted = [&](const std::string& key) {
    return std::find(accepted.begin(), accepted.end(), key) != accepted.end();
  };
  if (!c.image.output_format.empty()) {
    std::string key = format_key(c.image.output_format, "streamOptimized");
    if (is_accepted(key)) return pass(fmt::format("the output is {}", c.image.output_format));
    return fail(fmt::format("the output format {} is not accepted", c.image.output_format));
  }
  std::string key = format_key(c.image.format, c.image.variant);
  std::string found =
      c.image.variant.empty() ? c.image.format : fmt::format("{} ({})", c.image.format, c.image.variant);
  if (is_accepted(key)) return pass(fmt::format("{} is accepted as it is", found));
  return fail(fmt::format("{} is not accepted (accepted: {}); vmfix writes an accepted format", found,
                          fmt::join(accepted, ", ")));
}

Outcome check_image_rdm(const Context& c) {
  return pass(fmt::format("{} disk image file(s); Raw Device Mapping descriptors are refused when the image is opened",
                          c.image.disks));
}

const inspect::DiskFacts* boot_disk(const Facts& facts) { return facts.disks.empty() ? nullptr : &facts.disks.front(); }

Outcome check_boot_partitioning(const Context& c) {
  const auto* disk = boot_disk(c.facts);
  if (!disk) return unknown("no disk");
  std::string evidence = fmt::format("{}: {} partition table", disk->device, disk->partition_table);
  if (disk->partition_table == "mbr") return pass("MBR", {evidence});
  if (disk->partition_table == "none")
    return fail("the boot disk has no partition table (No valid partitions)", {evidence});
  if (c.profile.limits.value("boot_partitioning", "mbr") == "mbr")
    return fail("the boot disk is GPT; this profile needs MBR", {evidence});
  if (c.facts.os_type == "windows" && c.facts.boot_mode != bootloader::BootMode::uefi)
    return fail("a GPT Windows boot disk that does not boot by UEFI cannot be imported", {evidence});
  return pass(
      c.facts.boot_mode == bootloader::BootMode::uefi ? "GPT, imported with --boot-mode uefi" : "GPT is accepted",
      {evidence});
}

Outcome check_partition_tables(const Context& c) {
  std::vector<std::string> problems;
  for (const auto& disk : c.facts.disks)
    for (const std::string& problem : disk.table_problems)
      problems.push_back(fmt::format("{}: {}", disk.device, problem));
  if (problems.empty()) return pass(fmt::format("{} disk(s), every partition table consistent", c.facts.disks.size()));
  return fail("a partition table is damaged; the importer and the guest may not read it as vmfix did", problems);
}

Outcome check_boot_mode(const Context& c) {
  const Facts& f = c.facts;
  std::string evidence = fmt::format("boot mode {}: {}", bootloader::to_string(f.boot_mode), f.boot_mode_evidence);
  std::string policy = c.profile.limits.value("uefi", "unsupported");
  bool needs_uefi = false;
  if (f.os_type == "windows") {
    std::string product = windows_product(c.profile, f);
    for (const auto& entry : c.profile.windows)
      if (entry.value("product", "") == product) needs_uefi = entry.value("uefi_required", false);
  }
  if (f.boot_mode == bootloader::BootMode::unknown) return unknown("the boot mode could not be told", {evidence});
  if (f.boot_mode == bootloader::BootMode::bios) {
    if (needs_uefi) return fail("this Windows release needs UEFI boot", {evidence});
    return pass("BIOS boot", {evidence});
  }
  if (policy == "unsupported") return fail("the guest boots by UEFI, which this profile does not import", {evidence});
  return pass("UEFI boot, imported with --boot-mode uefi", {evidence});
}

Outcome check_active_partition(const Context& c) {
  const auto* disk = boot_disk(c.facts);
  if (!disk || disk->partition_table != "mbr") return pass("not an MBR boot disk");
  for (const auto& p : disk->partitions)
    if (p.bootable) return pass(fmt::format("{} is active", p.device));
  return fail("no partition on the MBR boot disk is marked active", {disk->device});
}

std::string tib(uint64_t bytes) { return fmt::format("{:.2f} TiB", static_cast<double>(bytes) / (1ULL << 40)); }

Outcome check_boot_disk_size(const Context& c) {
  const auto* disk = boot_disk(c.facts);
  if (!disk) return unknown("no disk");
  uint64_t limit = c.profile.limits.value("boot_disk_max_bytes", uint64_t{0});
  std::string evidence = fmt::format("{} is {} ({} bytes)", disk->device, tib(disk->size), disk->size);
  if (disk->size <= limit) return pass(fmt::format("within {}", tib(limit)), {evidence});
  return fail(fmt::format("the boot disk is larger than {}", tib(limit)), {evidence});
}

Outcome check_data_disk_size(const Context& c) {
  uint64_t limit = c.profile.limits.value("data_disk_max_bytes", uint64_t{0});
  std::vector<std::string> over;
  for (size_t i = 1; i < c.facts.disks.size(); ++i)
    if (c.facts.disks[i].size > limit)
      over.push_back(fmt::format("{} is {}", c.facts.disks[i].device, tib(c.facts.disks[i].size)));
  if (over.empty())
    return pass(fmt::format("{} other disk(s), each within {}", c.facts.disks.size() ? c.facts.disks.size() - 1 : 0,
                            tib(limit)));
  return fail(fmt::format("disks larger than {}", tib(limit)), over);
}

// "/dev/sda3" -> "/dev/sda", "/dev/nvme0n1p2" -> "/dev/nvme0n1"; "" for LVM and md devices.
std::string disk_of(const std::string& device) {
  for (const auto& prefix : {"/dev/sd", "/dev/vd", "/dev/hd", "/dev/xvd"})
    if (device.rfind(prefix, 0) == 0) {
      size_t end = device.find_first_of("0123456789", std::string_view(prefix).size());
      return device.substr(0, end);
    }
  return "";
}

Outcome check_root_on_boot_disk(const Context& c) {
  const auto* disk = boot_disk(c.facts);
  if (!disk) return unknown("no disk");
  std::string root = c.facts.root_device;
  if (root.rfind("btrfsvol:", 0) == 0) root = root.substr(9, root.find('/', 14) - 9);
  std::string root_disk = disk_of(root);
  if (root_disk.empty()) {
    if (c.facts.disks.size() == 1) return pass("one disk holds everything", {"root on " + c.facts.root_device});
    return unknown("root is on a volume (LVM or RAID) that may span disks", {"root on " + c.facts.root_device});
  }
  if (root_disk == disk->device)
    return pass(fmt::format("root {} is on the boot disk {}", c.facts.root_device, disk->device));
  return fail(fmt::format("root {} is not on the boot disk {}", c.facts.root_device, disk->device));
}

Outcome check_volume_count(const Context& c) {
  int limit = c.profile.limits.value("max_volumes", 0);
  int count = static_cast<int>(c.facts.disks.size());
  if (count <= limit) return pass(fmt::format("{} volume(s), at most {}", count, limit));
  return fail(fmt::format("{} volumes; an import takes at most {}", count, limit));
}

const std::set<std::string> kLinuxFilesystems{"ext2", "ext3", "ext4", "btrfs", "jfs", "xfs"};

Outcome check_root_filesystem(const Context& c) {
  const Facts& f = c.facts;
  for (const auto& fs : f.filesystems) {
    if (fs.mountpoint != "/") continue;
    std::string evidence = fmt::format("{} on {} is {}", fs.mountpoint, fs.device, fs.type);
    if (f.os_type == "windows")
      return fs.type == "ntfs" ? pass("NTFS", {evidence}) : fail("the Windows system volume must be NTFS", {evidence});
    if (!kLinuxFilesystems.count(fs.type))
      return fail(fmt::format("{} is not a supported root filesystem", fs.type), {evidence});
    return pass(fs.type, {evidence});
  }
  for (const auto& mp : f.mountpoints)
    if (mp.path == "/" && mp.device.rfind("btrfsvol:", 0) == 0) {
      if (c.profile.id == "aws-2017") return pass("btrfs", {"root is the subvolume " + mp.device});
      return fail("root is a Btrfs subvolume; the importer needs root at the top of the filesystem",
                  {"root is " + mp.device});
    }
  return unknown("the root filesystem's type could not be read");
}

Outcome check_filesystem_types(const Context& c) {
  std::vector<std::string> odd;
  for (const auto& fs : c.facts.filesystems) {
    if (fs.mountpoint.empty() || fs.mountpoint == "/") continue;
    bool ok = c.facts.os_type == "windows" ? fs.type == "ntfs" || fs.type == "vfat"
                                           : kLinuxFilesystems.count(fs.type) || fs.type == "vfat";
    if (!ok) odd.push_back(fmt::format("{} on {} is {}", fs.mountpoint, fs.device, fs.type));
  }
  if (odd.empty()) return pass("every mounted filesystem is of a supported type");
  return fail("filesystems of types the importer does not handle", odd);
}

std::string mib(uint64_t bytes) { return fmt::format("{} MiB", bytes >> 20); }

Outcome check_free_space(const Context& c) {
  const Facts& f = c.facts;
  uint64_t need =
      c.profile.limits.value(f.os_type == "windows" ? "windows_min_free_bytes" : "linux_min_free_bytes", uint64_t{0});
  for (const auto& fs : f.filesystems) {
    if (fs.mountpoint != "/" || !fs.free) continue;
    std::string evidence = fmt::format("{} has {} free", fs.device, mib(*fs.free));
    if (*fs.free >= need) return pass(fmt::format("at least {} free", mib(need)), {evidence});
    return fail(fmt::format("the root volume needs {} free", mib(need)), {evidence});
  }
  return unknown("the free space of the root filesystem could not be read");
}

Outcome check_encrypted(const Context& c) {
  std::vector<std::string> encrypted;
  for (const auto& fs : c.facts.filesystems)
    if (fs.type == "crypto_LUKS") encrypted.push_back(fs.device + " is LUKS-encrypted");
  if (encrypted.empty()) return pass("no encrypted volumes");
  return fail("encrypted volumes cannot be read by the importer (it needs to install drivers)", encrypted);
}

// BitLocker metadata (Vista, 7 and later, To Go signatures, as libblkid reports them): neither the
// importer nor vmfix can read what the volume holds, the OS included.
Outcome check_bitlocker(const Context& c) {
  std::vector<std::string> encrypted;
  for (const auto& fs : c.facts.filesystems)
    if (fs.type == "BitLocker")
      encrypted.push_back(
          fmt::format("{} is BitLocker-encrypted{}", fs.device, fs.size ? " (" + mib(*fs.size) + ")" : ""));
  if (encrypted.empty()) return pass("no BitLocker volumes");
  return fail("BitLocker volumes cannot be imported: decrypt them (manage-bde -off) in the VM, then export again",
              encrypted);
}

Outcome check_single_nic(const Context& c) {
  std::vector<std::string> evidence;
  if (c.image.ovf_nics > 1) evidence.push_back(fmt::format("the OVF describes {} network adapters", c.image.ovf_nics));
  if (c.facts.os_type == "linux") {
    std::set<std::string> names;
    for (const auto& n : c.facts.network)
      if (n.interface != "lo" && !n.interface.empty()) names.insert(n.interface);
    if (names.size() > 1)
      evidence.push_back(fmt::format("{} interfaces configured: {}", names.size(), fmt::join(names, ", ")));
  }
  if (evidence.empty())
    return pass(c.image.ovf_nics < 0 ? "one interface configured (no VM description to count adapters)"
                                     : "one network adapter");
  return fail("AWS gives the instance one network interface", evidence);
}

Outcome check_ipv6(const Context& c) {
  std::vector<std::string> v6;
  for (const auto& n : c.facts.network)
    for (const auto& address : n.addresses)
      if (address.find(':') != std::string::npos) v6.push_back(fmt::format("{} {} {}", n.interface, address, n.file));
  if (v6.empty()) return pass("no static IPv6 addresses");
  return fail("static IPv6 addresses are not supported", v6);
}

}  // namespace

std::string windows_product(const Profile& profile, const Facts& facts) {
  std::string name = clean_product_name(facts.product_name);
  int build = std::atoi(facts.windows.current_build.c_str());
  if (name.rfind("Windows 10", 0) == 0 && build >= 22000)
    name = "Windows 11" + name.substr(10);  // Windows 11 still says 10
  std::string best;
  for (const auto& entry : profile.windows) {
    std::string product = entry.value("product", "");
    bool prefix =
        name.compare(0, product.size(), product) == 0 && (name.size() == product.size() || name[product.size()] == ' ');
    if (prefix && product.size() > best.size()) best = product;
  }
  return best;
}

bool is_windows_server(const Facts& facts) {
  return facts.product_name.find("Server") != std::string::npos || facts.product_variant == "Server" ||
         starts_with_icase(facts.windows.installation_type, "Server");
}

void add_system_checks(std::map<std::string, Evaluator>& table) {
  table["os-recognized"] = check_os_recognized;
  table["os-supported"] = check_os_supported;
  table["os-architecture"] = check_os_architecture;
  table["linux-kernel-supported"] = check_kernel_supported;
  table["linux-default-kernel"] = check_default_kernel;
  table["windows-language"] = check_windows_language;
  table["os-single"] = check_os_single;
  table["os-deprecated"] = check_os_deprecated;
  table["image-format"] = check_image_format;
  table["image-rdm"] = check_image_rdm;
  table["boot-partitioning"] = check_boot_partitioning;
  table["boot-mode"] = check_boot_mode;
  table["disk-partition-table"] = check_partition_tables;
  table["boot-active-partition"] = check_active_partition;
  table["boot-disk-size"] = check_boot_disk_size;
  table["data-disk-size"] = check_data_disk_size;
  table["root-on-boot-disk"] = check_root_on_boot_disk;
  table["volume-count"] = check_volume_count;
  table["root-filesystem"] = check_root_filesystem;
  table["filesystem-types"] = check_filesystem_types;
  table["free-space"] = check_free_space;
  table["linux-encrypted-root"] = check_encrypted;
  table["bitlocker"] = check_bitlocker;
  table["network-single-nic"] = check_single_nic;
  table["network-ipv6"] = check_ipv6;
}

const std::map<std::string, Evaluator>& evaluators() {
  static const std::map<std::string, Evaluator> table = [] {
    std::map<std::string, Evaluator> t;
    add_system_checks(t);
    add_guest_checks(t);
    add_windows_checks(t);
    return t;
  }();
  return table;
}

}  // namespace vmfix::rules

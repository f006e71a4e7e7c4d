#include "inspect/linux_root.h"

#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <charconv>

#include "inspect/device_name.h"
#include "support/text.h"

namespace vmfix::inspect {

namespace {

// What libguestfs's release parsers keep between files: a file that does not settle the answer
// leaves what it found for the next one to complete or overwrite.
struct ReleaseData {
  std::optional<std::string> distro;
  std::optional<std::string> product_name;
  std::optional<std::pair<int, int>> version;
};

// The end of the run of digits that starts at `at`.
size_t digits_end(std::string_view text, size_t at) {
  while (at < text.size() && is_ascii_digit(text[at])) ++at;
  return at;
}

std::optional<int> to_int(std::string_view digits) {
  int value = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (error != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return value;
}

// "12.4" -> 12.4, "18.04 LTS" -> 18.4, "12" -> 12.0: the first "N.M" anywhere in the text, else
// its first number. A number too long for an int is no version.
void parse_version(std::string_view text, ReleaseData& data) {
  std::optional<std::pair<size_t, size_t>> first_number;  // where it starts and ends
  for (size_t at = 0; at < text.size();) {
    if (!is_ascii_digit(text[at])) {
      ++at;
      continue;
    }
    const size_t end = digits_end(text, at);
    if (!first_number) first_number = {at, end};
    if (end + 1 < text.size() && text[end] == '.' && is_ascii_digit(text[end + 1])) {
      const std::optional<int> major = to_int(text.substr(at, end - at));
      const std::optional<int> minor = to_int(text.substr(end + 1, digits_end(text, end + 1) - end - 1));
      if (major && minor) data.version = {*major, *minor};
      return;
    }
    at = end;
  }
  if (!first_number) return;
  if (auto major = to_int(text.substr(first_number->first, first_number->second - first_number->first)))
    data.version = {*major, 0};
}

// os-release IDs libguestfs knows; those outside the Debian family are answered by inspect_os.
enum class Family { debian, other, unknown };
Family os_release_family(const std::string& id, std::string& distro) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 3> kDebian{
      {{"debian", "debian"}, {"ubuntu", "ubuntu"}, {"kali", "kalilinux"}}};
  static constexpr std::array<std::string_view, 14> kOther{"alpine", "altlinux",   "arch",   "centos",   "coreos",
                                                           "fedora", "frugalware", "mageia", "neokylin", "opensuse",
                                                           "pld",    "rhel",       "sles",   "sled"};
  for (const auto& [key, name] : kDebian)
    if (id == key) {
      distro = name;
      return Family::debian;
    }
  if (std::find(kOther.begin(), kOther.end(), id) != kOther.end() || id.starts_with("opensuse-") || id == "void")
    return Family::other;
  return Family::unknown;
}

std::string first_line(std::string_view text) { return std::string(text.substr(0, text.find('\n'))); }

}  // namespace

std::optional<LinuxRelease> read_debian_family_release(const ReadGuestFile& read) {
  ReleaseData data;
  bool settled = false;
  if (auto text = read("/etc/os-release")) {
    for (const auto& [key, value] : parse_shell_assignments(*text)) {
      if (key == "ID") {
        std::string distro;
        switch (os_release_family(value, distro)) {
          case Family::debian:
            data.distro = distro;
            break;
          case Family::other:
            return std::nullopt;
          case Family::unknown:
            break;  // libguestfs ignores the ID and reads on
        }
      } else if (key == "PRETTY_NAME") {
        data.product_name = value;
      } else if (key == "VERSION_ID") {
        parse_version(value, data);
      }
    }
    // Debian's VERSION_ID is the major release only: libguestfs then takes the point release
    // from /etc/debian_version, and its product name too.
    settled =
        data.distro && data.product_name && data.version && !(*data.distro == "debian" && data.version->second == 0);
  }
  if (!settled) {
    if (auto text = read("/etc/lsb-release")) {
      for (const auto& [key, value] : parse_shell_assignments(*text)) {
        if (key == "DISTRIB_ID") {
          if (value == "Ubuntu")
            data.distro = "ubuntu", settled = true;
          else if (value == "LinuxMint")
            data.distro = "linuxmint", settled = true;
          else if (value == "CoreOS" || value == "Mageia")
            return std::nullopt;
        } else if (key == "DISTRIB_RELEASE") {
          parse_version(value, data);
        } else if (key == "DISTRIB_DESCRIPTION") {
          data.product_name = value;
          settled = true;
        }
      }
    }
  }
  if (!settled) {
    // libguestfs reads these before debian_version; this path does not.
    for (const char* file :
         {"/etc/oracle-release", "/etc/centos-release", "/etc/altlinux-release", "/etc/redhat-release"})
      if (read(file)) return std::nullopt;
    if (auto text = read("/etc/debian_version"); text && !first_line(*text).empty()) {
      data.product_name = first_line(*text);
      data.distro = "debian";
      parse_version(*data.product_name, data);
      settled = true;
    }
  }
  if (!settled || !data.distro) return std::nullopt;
  LinuxRelease release;
  release.distro = *data.distro;
  release.product_name = data.product_name.value_or("");
  if (data.version) std::tie(release.major, release.minor) = *data.version;
  return release;
}

std::string read_linux_hostname(const ReadGuestFile& read) {
  for (const char* file : {"/etc/HOSTNAME", "/etc/hostname"})
    if (auto text = read(file); text && !first_line(*text).empty()) return first_line(*text);
  if (auto text = read("/etc/sysconfig/network"))
    for (const auto& [key, value] : parse_shell_assignments(*text))
      if (key == "HOSTNAME") return value;
  return "";
}

std::string elf_architecture(std::string_view header) {
  if (header.size() < 20 || header.substr(0, 4) !=
                                "\x7f"
                                "ELF")
    return "";
  const bool wide = header[4] == 2;    // EI_CLASS: ELFCLASS64
  const bool little = header[5] == 1;  // EI_DATA: ELFDATA2LSB
  const auto b0 = static_cast<uint8_t>(header[18]), b1 = static_cast<uint8_t>(header[19]);
  switch (little ? (b0 | b1 << 8) : (b1 | b0 << 8)) {  // e_machine
    case 3:
      return "i386";
    case 62:
      return "x86_64";
    case 183:
      return "aarch64";
    case 40:
      return "arm";
    case 20:
      return "ppc";
    case 21:
      return little ? "ppc64le" : "ppc64";
    case 22:
      return wide ? "s390x" : "s390";
    case 243:
      return wide ? "riscv64" : "riscv32";
    case 8:
      return wide ? "mips64" : "mips";
    case 2:
      return "sparc";
    case 43:
      return "sparc64";
    case 50:
      return "ia64";
    default:
      return "";
  }
}

namespace {

// /dev/disk/by-id/...-partN and /dev/disk/by-path/...-partN (one line): N.
std::optional<std::string_view> by_id_or_path_partition(std::string_view spec) {
  size_t prefix = 0;
  if (spec.starts_with("/dev/disk/by-id/")) prefix = 16;
  if (spec.starts_with("/dev/disk/by-path/")) prefix = 18;
  const size_t part = spec.rfind("-part");
  if (prefix == 0 || part == std::string_view::npos || part < prefix) return std::nullopt;
  const std::string_view number = spec.substr(part + 5);
  if (number.empty() || digits_end(number, 0) != number.size()) return std::nullopt;
  if (spec.substr(prefix, part - prefix).find_first_of("\r\n") != std::string_view::npos) return std::nullopt;
  return number;
}

}  // namespace

std::optional<std::string> resolve_fstab_device(const std::string& spec, const BlockDevices& devices) {
  auto filesystem_where = [&](auto matches) -> std::optional<std::string> {
    for (const FilesystemFacts& fs : devices.filesystems)
      if (matches(fs)) return fs.device;
    return std::nullopt;
  };
  auto partition_where = [&](auto matches) -> std::optional<std::string> {
    for (const PartitionFacts& p : devices.partitions)
      if (matches(p)) return p.device;
    return std::nullopt;
  };
  auto is_partition = [&](const std::string& device) {
    return partition_where([&](const PartitionFacts& p) { return p.device == device; }).has_value();
  };
  auto tag = [&](std::string_view prefix) { return unquote(std::string_view(spec).substr(prefix.size())); };

  auto with_uuid = [&](const std::string& uuid) {
    return filesystem_where([&](const FilesystemFacts& fs) { return !fs.uuid.empty() && equals_icase(fs.uuid, uuid); });
  };
  if (spec.starts_with("UUID=")) return with_uuid(tag("UUID="));
  if (spec.starts_with("LABEL=")) {
    const std::string label = tag("LABEL=");
    return filesystem_where([&](const FilesystemFacts& fs) { return !fs.label.empty() && fs.label == label; });
  }
  if (spec.starts_with("PARTUUID=")) {
    const std::string uuid = tag("PARTUUID=");
    return partition_where(
        [&](const PartitionFacts& p) { return !p.partuuid.empty() && equals_icase(p.partuuid, uuid); });
  }
  if (spec.starts_with("PARTLABEL=")) {
    const std::string label = tag("PARTLABEL=");
    return partition_where([&](const PartitionFacts& p) { return !p.name.empty() && p.name == label; });
  }
  if (!spec.starts_with("/dev/")) return std::nullopt;  // tmpfs, proc, server:/export...

  if (spec.starts_with("/dev/disk/by-uuid/")) return with_uuid(spec.substr(18)).value_or(spec);
  if (spec.starts_with("/dev/mapper/")) {
    if (devices.lvm_canonical)
      if (auto lv = devices.lvm_canonical(spec)) return lv;
    return spec;
  }
  if (auto name = parse_kernel_device_name(spec)) {
    // The guest's n-th disk is the appliance's n-th, whether the guest called it sdb, xvdb or nvme1n1.
    if (name->disk && *name->disk < devices.disks.size()) {
      const std::string device = devices.disks[*name->disk] + std::string(name->partition);
      if (is_partition(device)) return device;
    }
    return spec;
  }
  if (auto number = by_id_or_path_partition(spec); number && devices.disks.size() == 1) {
    // Serial numbers and bus paths do not survive the conversion; with one disk the partition
    // number is enough.
    const std::string device = devices.disks.front() + std::string(*number);
    if (is_partition(device)) return device;
  }
  return spec;
}

std::vector<guest::Mountpoint> fstab_mountpoints(std::string_view fstab, const std::string& root_device,
                                                 const BlockDevices& devices) {
  std::vector<guest::Mountpoint> mountpoints{{"/", root_device}};
  for (std::string_view line : split_lines(fstab)) {
    line = trim(line);
    if (line.empty() || line.front() == '#') continue;
    const std::vector<std::string> fields = split_words(line);
    if (fields.size() < 3) continue;  // no filesystem type: libguestfs's parser skips it too
    const std::string& spec = fields[0];
    const bool removable = (spec.size() >= 8 && (spec.starts_with("/dev/fd") || spec.starts_with("/dev/cd")) &&
                            std::isdigit(static_cast<unsigned char>(spec[7]))) ||
                           spec == "/dev/floppy" || spec == "/dev/cdrom" || spec.starts_with("/dev/iso9660/");
    if (removable) continue;
    // "///usr//local/" is /usr/local.
    std::string path;
    for (char c : fields[1])
      if (c != '/' || path.empty() || path.back() != '/') path += c;
    if (path.size() > 1 && path.back() == '/') path.pop_back();
    if (path.empty() || path.front() != '/' || path == "/") continue;  // swap ("none"), and the root is known
    auto under = [&](std::string_view top) { return path == top || path.starts_with(std::string(top) + "/"); };
    if (under("/dev") || path.starts_with("/media/") || under("/proc") || under("/selinux") || under("/sys")) continue;
    std::optional<std::string> device = spec == "/dev/root" ? root_device : resolve_fstab_device(spec, devices);
    if (!device) continue;
    mountpoints.push_back({path, *device});
  }
  return mountpoints;
}

std::vector<std::string> dpkg_installed_packages(std::string_view status) {
  std::vector<std::string> packages;
  std::string name;
  bool present = false;
  auto finish = [&] {
    if (present && !name.empty()) packages.push_back(name);
    name.clear();
    present = false;
  };
  for (std::string_view line : split_lines(status)) {
    if (line.empty())
      finish();
    else if (line.starts_with("Package:"))
      name = std::string(trim(line.substr(8)));
    else if (line.starts_with("Status:")) {
      // "want flag state": the state is the last word.
      const std::vector<std::string> words = split_words(trim(line.substr(7)));
      present = !words.empty() && words.back() != "not-installed" && words.back() != "config-files";
    }
  }
  finish();
  std::sort(packages.begin(), packages.end());
  packages.erase(std::unique(packages.begin(), packages.end()), packages.end());
  return packages;
}

}  // namespace vmfix::inspect

// What inspection reads from a Linux root on the host: the release files (os-release,
// lsb-release, debian_version), the host name files, fstab's mountpoints and device specs, and
// dpkg's status file. The input is split at NUL bytes into those files, in that order.
#include <algorithm>
#include <map>
#include <string>

#include "fuzz/properties.h"
#include "inspect/linux_root.h"
#include "support/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vmfix::inspect;
  static const char* const kFiles[] = {"/etc/os-release", "/etc/lsb-release", "/etc/debian_version",
                                       "/etc/hostname",   "/etc/fstab",       "/var/lib/dpkg/status"};
  std::map<std::string, std::string> files;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t at = 0;
  for (const char* name : kFiles) {
    if (at > input.size()) break;
    size_t end = input.find('\0', at);
    if (end == std::string_view::npos) end = input.size();
    files[name] = std::string(input.substr(at, end - at));
    at = end + 1;
  }
  const ReadGuestFile read = [&](const std::string& path) -> std::optional<std::string> {
    auto it = files.find(path);
    return it == files.end() ? std::nullopt : std::optional(it->second);
  };
  try {
    read_debian_family_release(read);
    read_linux_hostname(read);
    elf_architecture(files["/etc/os-release"]);
    BlockDevices devices;
    devices.disks = {"/dev/sda", "/dev/sdb"};
    devices.partitions.push_back({.number = 1, .device = "/dev/sda1"});
    devices.partitions.push_back({.number = 2, .device = "/dev/sda2"});
    for (const auto& mount : fstab_mountpoints(files["/etc/fstab"], "/dev/sda1", devices))
      vmfix::fuzz::require(!mount.path.empty(), "a mountpoint without a path");
    const std::vector<std::string> packages = dpkg_installed_packages(files["/var/lib/dpkg/status"]);
    vmfix::fuzz::require(std::is_sorted(packages.begin(), packages.end()), "packages are not sorted");
  } catch (const vmfix::Error&) {
  }
  return 0;
}

// /etc/fstab as guests have it: the fstab rewriter (device names to UUID=, noauto,nofail for
// removable media, nofail for network mounts), resume= rewriting, and the mountpoint reader
// inspection uses. Properties: a second rewrite changes nothing, comments and entries the
// rewriter has no reason to touch come out byte for byte, no removable medium is left mounted at
// boot, and what was written reads again.
#include <algorithm>
#include <cctype>
#include <string>

#include "fixers/fstab.h"
#include "fuzz/properties.h"
#include "inspect/linux_root.h"
#include "support/error.h"

namespace {

// Whole disks have no filesystem; partitions 1-9 of any disk have one whose UUID is their name.
std::string uuid_of(const std::string& device) {
  if (device.empty() || device.back() < '1' || device.back() > '9') return "";
  std::string uuid = "fuzz";
  for (char c : device)
    if (std::isalnum(static_cast<unsigned char>(c))) uuid += c;
  return uuid;
}

std::vector<std::string> fields_of(std::string_view line) {
  std::vector<std::string> fields;
  size_t at = 0;
  while (at < line.size()) {
    at = line.find_first_not_of(" \t", at);
    if (at == std::string_view::npos) break;
    size_t end = line.find_first_of(" \t", at);
    if (end == std::string_view::npos) end = line.size();
    fields.emplace_back(line.substr(at, end - at));
    at = end;
  }
  return fields;
}

// A comment, a blank line, or a local filesystem named by UUID= or LABEL=: nothing to change.
bool untouchable(std::string_view line) {
  const std::vector<std::string> fields = fields_of(line);
  if (fields.empty() || fields[0].starts_with('#')) return true;
  if (fields.size() < 3) return false;
  static const std::vector<std::string> kLocal{"ext2", "ext3", "ext4", "xfs", "btrfs", "vfat", "swap"};
  const bool local = std::find(kLocal.begin(), kLocal.end(), fields[2]) != kLocal.end();
  return local && (fields[0].starts_with("UUID=") || fields[0].starts_with("LABEL=")) &&
         line.find('\r') == std::string_view::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vmfix;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const inspect::BlockDevices devices{{"/dev/sda"}, {}, {}, {}};
  try {
    inspect::fstab_mountpoints(text, "/dev/sda1", devices);
    std::vector<std::string> unresolved;
    const std::string out = fixers::rewrite_fstab(text, uuid_of, &unresolved);
    fuzz::require_idempotent([](std::string_view t) { return fixers::rewrite_fstab(t, uuid_of); }, text, "fstab");
    fuzz::require_unowned_lines_kept(
        text, out, [](size_t, std::string_view line) { return !untouchable(line); }, "fstab");
    const std::vector<std::string> mounted = fixers::removable_media_mounted_at_boot(out);
    fuzz::require(mounted.empty(), "fstab: a removable medium is still mounted at boot",
                  mounted.empty() ? "" : mounted[0]);
    inspect::fstab_mountpoints(out, "/dev/sda1", devices);

    fuzz::require_idempotent([](std::string_view t) { return fixers::rewrite_resume(t, uuid_of); }, text, "resume=");
  } catch (const Error&) {
  }
  return 0;
}

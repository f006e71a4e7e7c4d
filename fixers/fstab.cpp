// fstab: on EC2 the disks get other kernel names (xvda on Xen, nvme0n1 on Nitro), so entries that
// name /dev/sdX, /dev/vdX, /dev/hdX... mount nothing and the boot stops. They become UUID= (the
// filesystem's own). Optical and floppy drives are gone on EC2: noauto,nofail. Network mounts get
// nofail, so an unreachable server does not hold the boot. The same goes for resume= and crypttab.
#include "fixers/fstab.h"

#include <fmt/core.h>

#include <algorithm>
#include <optional>

#include "fixers/table.h"
#include "inspect/device_name.h"
#include "support/diff.h"
#include "support/text.h"

namespace vmfix::fixers {

namespace {

// The whitespace-separated fields of a line, with where each starts.
std::vector<std::pair<size_t, std::string>> fields_of(std::string_view line) {  // with offsets: edits keep spacing
  std::vector<std::pair<size_t, std::string>> fields;
  for (size_t at = 0; at < line.size();) {
    size_t start = line.find_first_not_of(" \t", at);
    if (start == std::string_view::npos) break;
    size_t end = line.find_first_of(" \t", start);
    if (end == std::string_view::npos) end = line.size();
    fields.emplace_back(start, std::string(line.substr(start, end - start)));
    at = end;
  }
  return fields;
}

std::string replace_field(std::string line, const std::pair<size_t, std::string>& field, const std::string& value) {
  return line.replace(field.first, field.second.size(), value);
}

bool has_option(const std::string& options, std::string_view option) {
  const std::vector<std::string_view> all = split_list(options, ',');
  return std::find(all.begin(), all.end(), option) != all.end();
}

std::string with_options(std::string options, std::initializer_list<std::string_view> wanted) {
  for (std::string_view option : wanted)
    if (!has_option(options, option)) options += (options.empty() ? "" : ",") + std::string(option);
  return options;
}

bool network_filesystem(const std::string& type) {
  return type == "nfs" || type == "nfs4" || type == "cifs" || type == "smbfs" || type == "glusterfs" ||
         type == "ceph" || type == "fuse.sshfs" || type == "davfs";
}

}  // namespace

bool is_kernel_device_name(std::string_view spec) { return inspect::parse_kernel_device_name(spec).has_value(); }

std::string appliance_device(std::string_view guest_device) {
  const std::optional<inspect::KernelDeviceName> device = inspect::parse_kernel_device_name(guest_device);
  if (!device || !device->disk) return "";
  return "/dev/" + inspect::sd_disk_name(*device->disk) + std::string(device->partition);
}

bool is_removable_media(const std::string& spec, const std::string& type) {
  if (spec == "/dev/cdrom" || spec.starts_with("/dev/sr") || spec.starts_with("/dev/scd") ||
      spec.starts_with("/dev/fd") || spec == "/dev/floppy" || spec.starts_with("/dev/dvd"))
    return true;
  for (size_t start = 0; start <= type.size();) {  // "udf,iso9660": mount tries each
    const size_t comma = std::min(type.find(',', start), type.size());
    const std::string_view one = std::string_view(type).substr(start, comma - start);
    if (one == "iso9660" || one == "udf") return true;
    start = comma + 1;
  }
  return false;
}

std::vector<std::string> removable_media_mounted_at_boot(std::string_view fstab) {
  std::vector<std::string> entries;
  for (std::string_view line : split_lines(fstab)) {
    // Fields as the rewriter and libmount split them: at spaces and tabs only ("\r/dev/sr0" is no
    // optical drive to either).
    auto fields = fields_of(line);
    if (fields.size() < 3 || fields[0].second.starts_with("#")) continue;
    const std::string options = fields.size() >= 4 ? fields[3].second : "defaults";
    if (is_removable_media(fields[0].second, fields[2].second) && !has_option(options, "noauto"))
      entries.emplace_back(trim(line));
  }
  return entries;
}

std::string rewrite_fstab(std::string_view text, const UuidOf& uuid_of, std::vector<std::string>* unresolved) {
  std::string out;
  for (std::string_view raw : split_lines(text)) {
    std::string line(raw);
    auto fields = fields_of(line);
    if (fields.size() < 3 || fields[0].second.starts_with("#")) {
      out += line + "\n";
      continue;
    }
    const std::string spec = fields[0].second, type = fields[2].second;
    std::string options = fields.size() >= 4 ? fields[3].second : "defaults";
    std::string new_options = options;
    if (is_removable_media(spec, type))
      new_options = with_options(options, {"noauto", "nofail"});
    else if (network_filesystem(type))
      new_options = with_options(options, {"nofail"});
    if (new_options != options) {
      if (fields.size() >= 4)
        line = replace_field(line, fields[3], new_options);
      else
        line += "\t" + new_options;
    }
    if (!is_removable_media(spec, type) && is_kernel_device_name(spec)) {
      std::string uuid = uuid_of(spec);
      if (!uuid.empty())
        line = replace_field(line, fields[0], "UUID=" + uuid);
      else if (unresolved)
        unresolved->push_back(spec);
    }
    out += line + "\n";
  }
  if (!text.empty() && text.back() != '\n' && !out.empty()) out.pop_back();
  return out;
}

std::string filesystem_uuid(const inspect::Facts& facts, const std::string& guest_device) {
  const std::string device = appliance_device(guest_device);
  for (const auto& fs : facts.filesystems)
    if (fs.device == device && !fs.uuid.empty()) return fs.uuid;
  return "";
}

std::string rewrite_resume(std::string_view text, const UuidOf& uuid_of) {
  // resume=/dev/NAME and RESUME=/dev/NAME wherever they stand, NAME being ASCII letters, digits
  // and slashes; each is looked at once, from left to right.
  auto in_name = [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '/';
  };
  constexpr std::string_view kValue = "=/dev/";
  std::string result;
  size_t copied = 0;
  for (size_t at = text.find(kValue); at != std::string_view::npos; at = text.find(kValue, at + 1)) {
    if (at < 6 + copied) continue;
    const std::string_view key = text.substr(at - 6, 6);
    if (key != "resume" && key != "RESUME") continue;
    size_t end = at + kValue.size();
    while (end < text.size() && in_name(text[end])) ++end;
    if (end == at + kValue.size()) continue;
    const std::string device(text.substr(at + 1, end - at - 1));
    const std::string uuid = is_kernel_device_name(device) ? uuid_of(device) : "";
    result.append(text.substr(copied, at - 6 - copied));
    result += uuid.empty() ? std::string(text.substr(at - 6, end - at + 6)) : std::string(key) + "=UUID=" + uuid;
    copied = end;
  }
  result.append(text.substr(copied));
  return result;
}

namespace {

// The README's fixer table (scripts/fixer-table.sh).
constexpr const char* kChecks = "`/etc/fstab`, `/etc/crypttab`, initramfs-tools' `RESUME=`";
constexpr const char* kChanges =
    "kernel device names (`/dev/sdX`, `vdX`, `xvdX`, `nvmeXnY`, `cciss`) become `UUID=`; CD-ROM and "
    "floppy `noauto,nofail`; network mounts `nofail`";

class FstabFixer : public Fixer {
 public:
  std::string_view id() const override { return "fstab"; }
  std::string_view summary() const override {
    return "Linux: fstab, crypttab and resume= name filesystems by UUID; CD-ROM/floppy noauto,nofail; network mounts "
           "nofail";
  }
  std::vector<FixerDoc> documentation() const override { return {{std::string(id()), "", kChecks, kChanges}}; }
  std::vector<std::string> rules() const override { return {"linux-fstab"}; }
  bool applies(const inspect::Facts& facts) const override { return facts.os_type == "linux"; }

  std::vector<Finding> check(guest::Guest& guest, const inspect::Facts& facts) override {
    std::vector<Finding> findings;
    for (const Edit& edit : plan(guest, facts))
      findings.push_back({"linux-fstab", Status::fail, kMessage, fmt::format("{}: {}", edit.file, edit.why)});
    for (const std::string& device : unresolved_)
      findings.push_back(
          {"linux-fstab", Status::fail, kMessage, fmt::format("{} names no filesystem vmfix found", device)});
    if (findings.empty()) findings.push_back({"linux-fstab", Status::pass, kMessage, ""});
    return findings;
  }

  std::vector<Change> fix(guest::Guest& guest, const inspect::Facts& facts) override {
    std::vector<Change> changes;
    for (const Edit& edit : plan(guest, facts)) {
      guest.replace_file(edit.file, edit.after);
      changes.push_back({"fstab", edit.file, edit.why, "UUID=, noauto/nofail where needed",
                         unified_diff(edit.before, edit.after, edit.file)});
    }
    return changes;
  }

 private:
  static constexpr const char* kMessage =
      "filesystems are named by UUID and removable or network mounts cannot stop the boot";
  struct Edit {
    std::string file, before, after, why;
  };

  std::vector<Edit> plan(guest::Guest& guest, const inspect::Facts& facts) {
    unresolved_.clear();
    UuidOf uuid_of = [&](const std::string& guest_device) { return filesystem_uuid(facts, guest_device); };
    std::vector<Edit> edits;
    auto consider = [&](const std::string& file, const std::string& after, const std::string& why) {
      auto before = guest.read_if_exists(file);
      if (before && *before != after) edits.push_back({file, *before, after, why});
    };
    if (auto fstab = guest.read_if_exists("/etc/fstab"))
      consider("/etc/fstab", rewrite_fstab(*fstab, uuid_of, &unresolved_),
               "kernel device names or removable/network mounts");
    if (auto crypttab = guest.read_if_exists("/etc/crypttab")) {
      // crypttab's second field is the device: the same rule, through the fstab rewriter's field logic.
      std::string after;
      for (std::string_view raw : split_lines(*crypttab)) {
        std::string line(raw);
        auto fields = fields_of(line);
        if (fields.size() >= 2 && !fields[0].second.starts_with("#") && is_kernel_device_name(fields[1].second)) {
          std::string uuid = uuid_of(fields[1].second);
          if (!uuid.empty()) line = replace_field(line, fields[1], "UUID=" + uuid);
        }
        after += line + "\n";
      }
      consider("/etc/crypttab", after, "a device named by its kernel name");
    }
    // The kernel command line's resume= is the grub fixer's (with root=); this is initramfs-tools' own.
    if (auto text = guest.read_if_exists("/etc/initramfs-tools/conf.d/resume"))
      consider("/etc/initramfs-tools/conf.d/resume", rewrite_resume(*text, uuid_of), "resume= names a kernel device");
    return edits;
  }

  std::vector<std::string> unresolved_;
};

}  // namespace

std::unique_ptr<Fixer> make_fstab() { return std::make_unique<FstabFixer>(); }

}  // namespace vmfix::fixers

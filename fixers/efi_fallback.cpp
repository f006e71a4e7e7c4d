// efi-fallback: an instance imported for UEFI boot starts with empty boot variables, so the
// firmware loads the removable-media path EFI/BOOT/BOOTX64.EFI from the ESP. A guest that only has
// its vendor entry (EFI/debian/shimx64.efi, ...) needs its own loader copied there, as
// `grub-install --removable` would: shim as BOOTX64.EFI with GRUB (and MokManager) beside it, or,
// without shim, GRUB itself. GRUB keeps finding its grub.cfg through the prefix built into it.
#include <fmt/core.h>

#include <algorithm>

#include "fixers/table.h"
#include "support/text.h"

namespace vmfix::fixers {

namespace {

constexpr const char* kId = "efi-fallback";
constexpr const char* kRule = "linux-efi-fallback";

struct Source {
  std::string efi_dir;                                      // the ESP's EFI directory, in the guest's case
  std::string vendor;                                       // EFI/<vendor> holding the loader
  std::vector<std::pair<std::string, std::string>> copies;  // from, to (full guest paths)
  std::string fallback;                                     // the existing EFI/BOOT/BOOTX64.EFI, or ""
  std::string problem;                                      // why nothing can be copied
};

std::string find_icase(guest::Guest& guest, const std::string& directory, std::string_view name) {
  for (const std::string& entry : guest.ls(directory))
    if (equals_icase(entry, name)) return guest::join_path(directory, entry);
  return "";
}

// Vendor directories, the one named like the distribution first ("redhat" for RHEL).
std::vector<std::string> vendors(guest::Guest& guest, const std::string& efi_dir, const inspect::Facts& facts) {
  std::vector<std::string> found;
  for (const std::string& name : guest.ls(efi_dir))
    if (!equals_icase(name, "BOOT") && guest.is_dir(guest::join_path(efi_dir, name))) found.push_back(name);
  const std::string preferred = facts.distro == "rhel" ? "redhat" : facts.distro;
  std::stable_partition(found.begin(), found.end(),
                        [&](const std::string& name) { return equals_icase(name, preferred); });
  return found;
}

Source assess(guest::Guest& guest, const inspect::Facts& facts) {
  Source s;
  std::string esp;
  for (const char* path : {"/boot/efi", "/efi", "/boot"})
    for (const auto& mp : facts.mountpoints)
      if (esp.empty() && mp.path == path && guest.is_dir(guest.resolve_case(std::string(path) + "/EFI"))) esp = path;
  if (esp.empty()) {
    s.problem = "no EFI System Partition is mounted at /boot/efi, /efi or /boot";
    return s;
  }
  s.efi_dir = guest.resolve_case(esp + "/EFI");
  const std::string boot_dir = find_icase(guest, s.efi_dir, "BOOT");
  if (!boot_dir.empty()) s.fallback = find_icase(guest, boot_dir, "BOOTX64.EFI");
  if (!s.fallback.empty()) return s;
  const std::string target = boot_dir.empty() ? guest::join_path(s.efi_dir, "BOOT") : boot_dir;
  for (const std::string& vendor : vendors(guest, s.efi_dir, facts)) {
    const std::string dir = guest::join_path(s.efi_dir, vendor);
    std::string shim = find_icase(guest, dir, "shimx64.efi"), grub = find_icase(guest, dir, "grubx64.efi");
    if (grub.empty()) continue;  // shim alone would load nothing
    s.vendor = vendor;
    if (!shim.empty()) {
      s.copies.emplace_back(shim, guest::join_path(target, "BOOTX64.EFI"));
      s.copies.emplace_back(grub, guest::join_path(target, "grubx64.efi"));
      if (std::string mok = find_icase(guest, dir, "mmx64.efi"); !mok.empty())
        s.copies.emplace_back(mok, guest::join_path(target, "mmx64.efi"));
    } else {
      s.copies.emplace_back(grub, guest::join_path(target, "BOOTX64.EFI"));
    }
    return s;
  }
  s.problem =
      fmt::format("no vendor directory in {} has a grubx64.efi (with or without shimx64.efi) to copy", s.efi_dir);
  return s;
}

// The README's fixer table (scripts/fixer-table.sh).
constexpr const char* kChecks = "a UEFI Linux guest's ESP: `EFI/BOOT/BOOTX64.EFI`";
constexpr const char* kChanges =
    "copies the guest's own `shimx64.efi` there, with `grubx64.efi` and `mmx64.efi` beside it (as "
    "`grub-install --removable` does), or `grubx64.efi` alone without shim; the distribution's own "
    "vendor directory first";

class EfiFallback : public Fixer {
 public:
  std::string_view id() const override { return kId; }
  std::string_view summary() const override {
    return "UEFI Linux: the guest's own shim and GRUB copied to the fallback path EFI/BOOT/BOOTX64.EFI on the ESP";
  }
  std::vector<FixerDoc> documentation() const override { return {{std::string(id()), "", kChecks, kChanges}}; }
  std::vector<std::string> rules() const override { return {kRule}; }
  bool applies(const inspect::Facts& facts) const override {
    return facts.os_type == "linux" && facts.boot_mode == bootloader::BootMode::uefi;
  }

  std::vector<Finding> check(guest::Guest& guest, const inspect::Facts& facts) override {
    if (facts.boot_mode != bootloader::BootMode::uefi)
      return {{kRule, Status::pass, fmt::format("boot mode {}", bootloader::to_string(facts.boot_mode)), ""}};
    Source s = assess(guest, facts);
    Finding finding{kRule, Status::pass, "the ESP has the fallback loader", s.fallback};
    if (!s.fallback.empty()) return {finding};
    finding.status = Status::fail;
    finding.message = "a UEFI Linux guest needs the fallback loader EFI/BOOT/BOOTX64.EFI on its ESP";
    if (!s.problem.empty()) {
      finding.evidence = s.problem;
      finding.repairable = false;
    } else {
      finding.evidence = fmt::format("{} is copied to {}", s.copies.front().first, s.copies.front().second);
    }
    return {finding};
  }

  std::vector<Change> fix(guest::Guest& guest, const inspect::Facts& facts) override {
    Source s = assess(guest, facts);
    if (!s.fallback.empty() || !s.problem.empty()) return {};
    std::vector<Change> changes;
    guest.mkdir_p(s.copies.front().second.substr(0, s.copies.front().second.rfind('/')));
    for (const auto& [from, to] : s.copies) {
      const std::string bytes = guest.read(from);
      const std::string before = guest.exists(to) ? "replaced" : "absent";
      guest.write(to, bytes);
      if (guest.read(to) != bytes) throw Error(fmt::format("{}: the copy of {} reads back differently", to, from));
      changes.push_back({kId, to, before, fmt::format("copy of {} ({} bytes)", from, bytes.size()), ""});
    }
    return changes;
  }
};

}  // namespace

std::unique_ptr<Fixer> make_efi_fallback() { return std::make_unique<EfiFallback>(); }

}  // namespace vmfix::fixers

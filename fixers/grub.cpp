// grub: the boot menu an EC2 instance starts from without anyone at its console. The kernel's
// console goes to ttyS0 as well as tty0 (EC2's console output and serial console read ttyS0),
// root= and resume= name filesystems by UUID (disks are xvdX on Xen and nvmeXnY on Nitro), a
// kernel with NVMe waits for EBS as long as it can, the menu does not wait, and the default entry
// boots a kernel and initramfs that exist.
//
// The guest's menu is edited in place (grub.cfg, BLS entries and grubenv's kernelopts, GRUB
// legacy's menu.lst), and so are the inputs of its update-grub (/etc/default/grub and its
// drop-ins), so that the next update-grub in the guest writes the same. The guest's grub-mkconfig
// runs only when no in-place edit gives a bootable menu (no entry boots an installed kernel): it
// runs in the appliance, whose disks are not the guest's, so every device name and drive hint it
// wrote is repaired and checked before the menu is kept.
#include <fmt/core.h>
#include <fmt/ranges.h>

#include <cctype>
#include <set>

#include "bootloader/grub_edit.h"
#include "bootloader/initramfs.h"
#include "bootloader/kernels.h"
#include "fixers/fstab.h"
#include "fixers/table.h"
#include "support/diff.h"
#include "support/text.h"

namespace vmfix::fixers {

namespace {

using bootloader::BootConfig;
using bootloader::BootEntry;
using guest::join_path;

constexpr const char* kRootMessage = "boot entries name root= and resume= by UUID";
constexpr const char* kConsoleMessage = "the kernel console includes ttyS0 and the menu does not wait";
constexpr const char* kDefaultMessage = "the default boot entry boots a kernel and initramfs that exist";

std::string directory_of(const std::string& path) { return path.substr(0, path.rfind('/')); }

std::string grubenv_path(guest::Guest& guest, const BootConfig& boot) {
  if (boot.kind == "grub2") return join_path(directory_of(boot.config), "grubenv");
  for (const char* directory : {"/boot/grub2", "/boot/grub"})
    if (guest.is_file(join_path(directory, "grubenv"))) return join_path(directory, "grubenv");
  return "/boot/grub2/grubenv";
}

// The appliance's name for the whole disk holding /boot ("/dev/sda"), "" when that is not a
// plain partition (LVM, RAID).
std::string disk_holding_boot(guest::Guest& guest) {
  std::string device;
  for (const guest::Mountpoint& mount : guest.mountpoints())
    if (mount.path == "/boot" || (mount.path == "/" && device.empty())) device = mount.device;
  if (!device.starts_with("/dev/sd") && !device.starts_with("/dev/vd")) return "";
  while (!device.empty() && std::isdigit(static_cast<unsigned char>(device.back()))) device.pop_back();
  return device;
}

bool boots(guest::Guest& guest, const BootEntry& entry) {
  return !entry.kernel.empty() && !entry.initrd.empty() &&
         !bootloader::resolve_boot_path(guest, entry.kernel).empty() &&
         !bootloader::resolve_boot_path(guest, entry.initrd).empty();
}

// Where the menu's default stands and, when it boots nothing, the entry that should be default:
// the newest installed kernel that has an initramfs and a menu entry.
struct DefaultPlan {
  enum class State { ok, repair, cannot } state = State::ok;
  std::string evidence;
  BootEntry target;
};

DefaultPlan plan_default(guest::Guest& guest, const BootConfig& boot) {
  if (boot.default_entry && boots(guest, boot.entries[*boot.default_entry]))
    return {DefaultPlan::State::ok, boot.default_evidence, {}};
  std::string problem = boot.default_entry
                            ? fmt::format("{}, whose kernel or initramfs does not exist", boot.default_evidence)
                            : boot.default_evidence;
  for (const bootloader::Kernel& kernel : bootloader::installed_kernels(guest)) {
    if (kernel.initrd.empty()) continue;
    for (const BootEntry& entry : boot.entries)
      if (boots(guest, entry) && bootloader::resolve_boot_path(guest, entry.kernel) == kernel.path)
        return {DefaultPlan::State::repair, fmt::format("{}; newest bootable entry: '{}'", problem, entry.title),
                entry};
  }
  return {DefaultPlan::State::cannot, problem + "; no menu entry boots an installed kernel with an initramfs", {}};
}

// When there is no menu vmfix can edit, the default entry as inspection read it.
Finding default_from_inspection(guest::Guest& guest, const inspect::Facts& facts) {
  auto fail = [](std::string message, std::string evidence = "") {
    return Finding{"linux-grub-default", Status::fail, std::move(message), std::move(evidence), false};
  };
  const auto& boot = facts.linux.boot;
  if (!boot) return fail("no GRUB menu to read the default entry from");
  if (!boot->default_entry) return fail("the default boot entry cannot be determined", boot->default_evidence);
  const BootEntry& entry = boot->entries[*boot->default_entry];
  if (entry.kernel.empty()) return fail("the default entry names no kernel", boot->default_evidence);
  if (bootloader::resolve_boot_path(guest, entry.kernel).empty())
    return fail(fmt::format("the default entry's kernel {} does not exist", entry.kernel), boot->default_evidence);
  if (entry.initrd.empty() || bootloader::resolve_boot_path(guest, entry.initrd).empty())
    return fail(
        fmt::format("the default entry's initrd {} does not exist", entry.initrd.empty() ? "(none)" : entry.initrd),
        boot->default_evidence);
  return {"linux-grub-default", Status::pass, fmt::format("'{}' boots {}", entry.title, entry.kernel),
          boot->default_evidence};
}

constexpr const char* kNvmeMessage = "a kernel with NVMe waits for EBS as long as it can (nvme_core.io_timeout)";

struct Edit {
  std::string file, before, after;
  bool root = false, nvme = false, console = false;  // what it changes
};

struct Plan {
  std::optional<BootConfig> boot;
  bootloader::Ec2Args ec2;
  std::vector<Edit> edits;
  std::string mkconfig;                 // the guest's grub-mkconfig, when grub.cfg must be regenerated
  std::vector<std::string> unresolved;  // "FILE:LINE: root=/dev/sdz9": device names no filesystem answers
  DefaultPlan default_plan;
};

// The version of the installed kernel the menu boots by default, else of the newest one.
std::string default_kernel_version(guest::Guest& guest, const BootConfig& boot) {
  auto kernels = bootloader::installed_kernels(guest);
  if (kernels.empty()) return "";
  const std::string wanted =
      boot.default_entry ? bootloader::kernel_version_of(boot.entries[*boot.default_entry].kernel) : "";
  for (const bootloader::Kernel& kernel : kernels)
    if (kernel.version == wanted) return wanted;
  return kernels.front().version;
}

// The guest's own disks as a regenerated menu must name them.
bootloader::GuestDisks guest_disks(const inspect::Facts& facts, const std::string& old_menu) {
  bootloader::GuestDisks disks;
  std::vector<std::string> swaps;
  for (const auto& fs : facts.filesystems) {
    if (fs.mountpoint == "/") disks.root_uuid = fs.uuid;
    if (fs.type == "swap" && !fs.uuid.empty()) swaps.push_back(fs.uuid);
  }
  if (swaps.size() == 1) disks.resume_uuid = swaps.front();
  if (facts.boot_mode == bootloader::BootMode::uefi)
    disks.efi_kernel = old_menu.find("linuxefi") != std::string::npos ? "linuxefi" : "linux";
  return disks;
}

// "/etc/default/grub:7: GRUB_CMDLINE_LINUX=\"root=/dev/sdz9\"" for each device name in `text`.
void locate(const std::string& file, const std::string& text, const std::set<std::string>& devices,
            std::vector<std::string>& out) {
  size_t number = 0;
  for (std::string_view line : split_lines(text)) {
    ++number;
    for (const std::string& device : devices)
      if (line.find("=" + device) != std::string_view::npos)
        out.push_back(fmt::format("{}:{}: {} names no filesystem vmfix found", file, number, trim(line)));
  }
}

// The README's fixer table (scripts/fixer-table.sh).
constexpr const char* kChecks =
    "GRUB 2 (`grub.cfg`, `/etc/default/grub` and its `grub.d` drop-ins), BLS entries with grubenv's "
    "`kernelopts` and `saved_entry`, GRUB legacy (`menu.lst`/`grub.conf`)";
constexpr const char* kChanges =
    "`console=tty0 console=ttyS0,115200` (EC2's console output reads ttyS0), `root=`/`resume=` by "
    "UUID, `nvme_core.io_timeout=4294967295` for a kernel with NVMe (255 before Linux 4.15, "
    "`nvme.io_timeout` without nvme-core), a timeout of -1 or over 5 s becomes 1 s, a default that "
    "boots nothing points at the newest entry that does. Menus are edited in place, and so is "
    "`/etc/default/grub` (`GRUB_DISABLE_LINUX_UUID=true` becomes `false`, device names typed into "
    "`GRUB_CMDLINE_LINUX*` become UUIDs) so that a later `update-grub` in the guest writes the same; "
    "for GRUB legacy, Debian's `update-grub` writes its kernel lines from menu.lst's `# kopt=`, "
    "which is edited as the kernel lines are, and `# defoptions=` (its device names by UUID). "
    "Only when no entry boots an installed kernel does the guest's `grub-mkconfig` run in the "
    "appliance (os-prober off, a temporary device map naming the disk by its label's link, such as "
    "`/dev/disk/guestfs/vmfixa`); then every "
    "device name, `--hint` and `set "
    "root='hdN,...'` it wrote for the appliance's disks is repaired (root and swap by UUID, hints "
    "dropped, `hd0`), a UEFI guest's `linux16`/`initrd16` become `linux`/`initrd` again, and the "
    "menu is checked; a device name vmfix cannot resolve is a blocker naming the file and line";

class GrubFixer : public Fixer {
 public:
  std::string_view id() const override { return "grub"; }
  std::string_view summary() const override {
    return "Linux: GRUB boots unattended on EC2: console=ttyS0 (tty0 kept), root=/resume= by UUID (also for a later "
           "update-grub), "
           "NVMe I/O timeout, short timeout, a default entry that exists; menus edited in place";
  }
  std::vector<FixerDoc> documentation() const override { return {{std::string(id()), "", kChecks, kChanges}}; }
  std::vector<std::string> rules() const override {
    return {"linux-grub-root", "linux-grub-console", "linux-nvme-timeout", "linux-grub-default"};
  }
  bool applies(const inspect::Facts& facts) const override {
    return facts.os_type == "linux" && facts.linux.boot.has_value();
  }

  std::vector<Finding> check(guest::Guest& guest, const inspect::Facts& facts) override {
    if (!applies(facts)) return {default_from_inspection(guest, facts)};
    Plan plan = make_plan(guest, facts);
    if (!plan.boot) return {default_from_inspection(guest, facts)};
    std::vector<Finding> findings;
    for (const Edit& edit : plan.edits) {
      if (edit.root)
        findings.push_back({"linux-grub-root", Status::fail, kRootMessage,
                            edit.file + ": a root= or resume= names a disk, or GRUB_DISABLE_LINUX_UUID=true"});
      if (edit.nvme)
        findings.push_back({"linux-nvme-timeout", Status::fail, kNvmeMessage,
                            fmt::format("{}: without {}", edit.file, plan.ec2.nvme_timeout)});
      if (edit.console)
        findings.push_back({"linux-grub-console", Status::fail, kConsoleMessage,
                            edit.file + ": no ttyS0 console or a long menu timeout"});
    }
    for (const std::string& where : plan.unresolved)
      findings.push_back({"linux-grub-root", Status::fail, kRootMessage, where, false});
    auto passes = [&](const char* rule, const char* message, std::string evidence) {
      if (std::none_of(findings.begin(), findings.end(), [&](const Finding& f) { return f.rule == rule; }))
        findings.push_back({rule, Status::pass, message, std::move(evidence)});
    };
    passes("linux-grub-root", kRootMessage, "");
    passes("linux-grub-console", kConsoleMessage, "");
    passes("linux-nvme-timeout", kNvmeMessage,
           plan.ec2.nvme_timeout.empty() ? "the default kernel has no NVMe driver (see linux-initramfs-drivers)"
                                         : plan.ec2.nvme_timeout);
    const DefaultPlan& dp = plan.default_plan;
    if (dp.state == DefaultPlan::State::ok)
      findings.push_back({"linux-grub-default", Status::pass, kDefaultMessage, dp.evidence});
    else
      findings.push_back({"linux-grub-default", Status::fail, kDefaultMessage, dp.evidence,
                          dp.state == DefaultPlan::State::repair || !plan.mkconfig.empty()});
    return findings;
  }

  std::vector<Change> fix(guest::Guest& guest, const inspect::Facts& facts) override {
    std::vector<Change> changes;
    Plan plan = make_plan(guest, facts);
    if (!plan.boot) return changes;
    for (const Edit& edit : plan.edits) {
      guest.replace_file(edit.file, edit.after);
      changes.push_back({"grub", edit.file, "", what_changed(edit), unified_diff(edit.before, edit.after, edit.file)});
    }
    if (!plan.mkconfig.empty()) regenerate(guest, facts, plan, changes);
    repair_default(guest, facts, plan.ec2, changes);
    return changes;
  }

 private:
  static std::string what_changed(const Edit& edit) {
    std::vector<std::string> parts;
    if (edit.root) parts.push_back("root=/resume= by UUID");
    if (edit.nvme) parts.push_back("NVMe I/O timeout");
    if (edit.console) parts.push_back("console=ttyS0, short timeout");
    return parts.empty() ? "default entry" : fmt::format("{}", fmt::join(parts, ", "));
  }

  static std::string find_mkconfig(guest::Guest& guest) {
    if (!guest.is_file("/etc/default/grub")) return "";
    return guest.find_program({"grub2-mkconfig", "grub-mkconfig"});
  }

  // Device names in the guest's own files name the guest's disks (sda is the first disk).
  static bootloader::Ec2Args ec2_args(guest::Guest& guest, const inspect::Facts& facts, const BootConfig& boot,
                                      std::set<std::string>* unresolved) {
    bootloader::Ec2Args ec2;
    ec2.uuid_of = [&facts, unresolved](const std::string& device) -> std::string {
      if (!is_kernel_device_name(device)) return "";
      std::string uuid = filesystem_uuid(facts, device);
      if (uuid.empty() && unresolved) unresolved->insert(device);
      return uuid;
    };
    const std::string version = default_kernel_version(guest, boot);
    if (!version.empty()) ec2.nvme_timeout = bootloader::nvme_timeout_argument(guest, version);
    return ec2;
  }

  Plan make_plan(guest::Guest& guest, const inspect::Facts& facts) {
    Plan plan;
    plan.boot = bootloader::read_boot_config(guest, facts.bootloaders);
    if (!plan.boot) return plan;
    const BootConfig& boot = *plan.boot;
    plan.default_plan = plan_default(guest, boot);
    std::set<std::string> unresolved;
    plan.ec2 = ec2_args(guest, facts, boot, &unresolved);
    bootloader::Ec2Args without_uuids = plan.ec2, plain;
    without_uuids.uuid_of = nullptr;
    using EditFn = std::function<std::string(const std::string&, const bootloader::Ec2Args&)>;
    // The edit with all, without UUIDs and with neither UUIDs nor NVMe tells which rule a file fails.
    auto consider = [&](const std::string& file, const EditFn& edit) {
      auto before = guest.read_if_exists(file);
      if (!before) return;
      unresolved.clear();
      Edit planned{file, *before, edit(*before, plan.ec2)};
      locate(file, *before, unresolved, plan.unresolved);
      std::string no_uuid = edit(*before, without_uuids), bare = edit(*before, plain);
      planned.root = planned.after != no_uuid;
      planned.nvme = no_uuid != bare;
      planned.console = bare != planned.before;
      if (planned.after != planned.before) plan.edits.push_back(std::move(planned));
    };

    const bool stale_default = plan.default_plan.state != DefaultPlan::State::ok;
    if (boot.kind == "grub-legacy") {
      consider(boot.config, [](const std::string& text, const bootloader::Ec2Args& a) {
        return bootloader::ec2_grub_legacy(text, a);
      });
      return plan;
    }
    const std::string cfg = boot.kind == "grub2" ? boot.config : "";
    const bool saved = !cfg.empty() && bootloader::grub_cfg_uses_saved_entry(guest.read(cfg));
    consider("/etc/default/grub", [&](const std::string& text, const bootloader::Ec2Args& a) {
      return bootloader::ec2_default_grub(text, a, {stale_default && !saved, false});
    });
    for (const std::string& drop_in : guest.files_in("/etc/default/grub.d", ".cfg"))
      consider(drop_in, [](const std::string& text, const bootloader::Ec2Args& a) {
        return bootloader::ec2_default_grub(text, a, {false, true});
      });
    if (boot.kind == "bls") {
      for (const std::string& entry : guest.files_in("/boot/loader/entries", ".conf"))
        consider(entry, [](const std::string& text, const bootloader::Ec2Args& a) {
          return bootloader::ec2_bls_entry(text, a);
        });
      const std::string env = grubenv_path(guest, boot);
      consider(env, [](const std::string& block, const bootloader::Ec2Args& a) {
        auto variables = bootloader::parse_grubenv(block);
        auto options = variables.find("kernelopts");
        if (options == variables.end()) return block;
        std::string edited = bootloader::ec2_kernel_args(options->second, a);
        return edited == options->second ? block : bootloader::grubenv_with(block, "kernelopts", edited);
      });
      consider("/etc/kernel/cmdline", [](const std::string& text, const bootloader::Ec2Args& a) {
        std::string edited = bootloader::ec2_kernel_args(trim(text), a) + "\n";
        return edited == std::string(trim(text)) + "\n" ? text : edited;
      });
      for (const char* menu : {"/boot/grub2/grub.cfg", "/boot/grub/grub.cfg"})  // where `set timeout` lives
        consider(menu, [](const std::string& text, const bootloader::Ec2Args& a) {
          return bootloader::ec2_grub_cfg(text, a);
        });
      return plan;
    }
    // GRUB 2 with its own menu: edited in place, unless no entry of it boots an installed kernel.
    const bool menu_boots = !bootloader::linux_command_lines(guest.read(cfg), bootloader::MenuSyntax::grub2).empty() &&
                            plan.default_plan.state != DefaultPlan::State::cannot;
    if (!menu_boots) plan.mkconfig = find_mkconfig(guest);
    if (!plan.mkconfig.empty()) return plan;  // fix() regenerates the menu, then repairs it
    consider(cfg,
             [](const std::string& text, const bootloader::Ec2Args& a) { return bootloader::ec2_grub_cfg(text, a); });
    return plan;
  }

  void regenerate(guest::Guest& guest, const inspect::Facts& facts, const Plan& plan, std::vector<Change>& changes) {
    const std::string cfg = plan.boot->config;
    const std::string before = guest.read(cfg);
    std::string failure;
    // Without a device map grub-probe counts the appliance's own disk too and writes hd1 hints;
    // one naming the disk that holds /boot as hd0 (by the path that reaches it whatever the
    // appliance's kernel named it) keeps most of them right. What is still wrong is repaired below.
    const std::string device_map = join_path(directory_of(cfg), "device.map");
    const std::string boot_disk = disk_holding_boot(guest);
    const bool temporary_map = !boot_disk.empty() && !guest.exists(device_map);
    if (temporary_map) guest.write(device_map, "(hd0) " + guest::program_device(boot_disk) + "\n");
    try {
      // os-prober would list the appliance's own disks as other systems.
      guest.run({"/usr/bin/env", "GRUB_DISABLE_OS_PROBER=true", plan.mkconfig, "-o", cfg});
    } catch (const Error& error) {
      failure = fmt::format("{} failed: {}", plan.mkconfig, error.what());
    }
    if (temporary_map) guest.rm(device_map);
    std::string generated = guest.read_if_exists(cfg).value_or("");
    std::string after =
        bootloader::ec2_grub_cfg(bootloader::repair_appliance_names(generated, guest_disks(facts, before)), plan.ec2);
    if (failure.empty()) {
      auto command_lines = bootloader::linux_command_lines(after, bootloader::MenuSyntax::grub2);
      auto wrong = bootloader::device_names_in_menu(after);
      if (command_lines.empty())
        failure = fmt::format("{} wrote a menu without Linux entries", plan.mkconfig);
      else if (!wrong.empty())
        failure = fmt::format("{} wrote device names vmfix cannot repair: {}", plan.mkconfig, fmt::join(wrong, "; "));
    }
    if (failure.empty()) {
      if (after != generated) guest.replace_file(cfg, after);
      changes.push_back({"grub", cfg, "", "regenerated with " + plan.mkconfig + ", device names and hints repaired",
                         unified_diff(before, after, cfg)});
      return;
    }
    after = bootloader::ec2_grub_cfg(before, plan.ec2);
    guest.replace_file(cfg, after);
    changes.push_back({"grub", cfg, failure, "edited in place instead", unified_diff(before, after, cfg)});
  }

  // After the menu is final: a default that boots nothing is pointed at the newest bootable entry.
  void repair_default(guest::Guest& guest, const inspect::Facts& facts, const bootloader::Ec2Args& ec2,
                      std::vector<Change>& changes) {
    auto boot = bootloader::read_boot_config(guest, facts.bootloaders);
    if (!boot) return;
    DefaultPlan dp = plan_default(guest, *boot);
    if (dp.state != DefaultPlan::State::repair) return;
    std::string file, before, after;
    if (boot->kind == "grub-legacy") {
      file = boot->config;
      before = guest.read(file);
      after = bootloader::ec2_grub_legacy(before, ec2, std::stoi(dp.target.path));
    } else if (boot->kind == "grub2" && !bootloader::grub_cfg_uses_saved_entry(guest.read(boot->config))) {
      file = boot->config;
      before = guest.read(file);
      after = bootloader::with_grub_cfg_default(before, dp.target.path);
    } else {
      file = grubenv_path(guest, *boot);
      before = guest.read_if_exists(file).value_or("");
      after = bootloader::grubenv_with(before, "saved_entry", boot->kind == "bls" ? dp.target.id : dp.target.path);
    }
    if (guest.exists(file))
      guest.replace_file(file, after);
    else
      guest.write(file, after);
    changes.push_back({"grub", file, dp.evidence, fmt::format("default entry '{}'", dp.target.title),
                       file.ends_with("grubenv") ? "" : unified_diff(before, after, file)});
  }
};

}  // namespace

std::unique_ptr<Fixer> make_grub() { return std::make_unique<GrubFixer>(); }

}  // namespace vmfix::fixers

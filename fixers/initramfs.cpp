// initramfs: the default kernel must reach its root disk on EC2 (xen-blkfront on Xen, nvme on
// Nitro) before the root filesystem is mounted, so those drivers are built in or packed in the
// initramfs; the network drivers (xen-netfront, ena) only need to be installed. A guest built on
// VMware often has a host-only initramfs (dracut's default) with vmw_pvscsi and nothing else.
// The fix asks the guest's own tool (dracut, update-initramfs or mkinitrd) to add what is
// missing, records the drivers for later kernels too, and reads the new image back to prove it.
#include "bootloader/initramfs.h"

#include <fmt/core.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "bootloader/kernels.h"
#include "fixers/table.h"
#include "support/files.h"
#include "support/text.h"

namespace vmfix::fixers {

namespace {

constexpr const char* kRule = "linux-initramfs-drivers";
constexpr const char* kMessage = "the default kernel reaches its disk and network on Xen and Nitro";
constexpr const char* kDracutConf = "/etc/dracut.conf.d/90-vmfix-ec2.conf";
constexpr const char* kInitramfsToolsModules = "/etc/initramfs-tools/modules";

struct Target {
  std::string version, initrd;
};

// The kernel the menu boots by default, else the newest installed one, with its initramfs.
Target default_target(guest::Guest& guest, const inspect::Facts& facts) {
  auto kernels = bootloader::installed_kernels(guest);
  std::string version;
  if (auto boot = bootloader::read_boot_config(guest, facts.bootloaders); boot && boot->default_entry)
    version = bootloader::kernel_version_of(boot->entries[*boot->default_entry].kernel);
  for (const auto& kernel : kernels)
    if (version.empty() || kernel.version == version) return {kernel.version, kernel.initrd};
  return {version, ""};
}

struct Assessment {
  Target target;
  std::vector<bootloader::DriverState> states;
  std::string unreadable;  // why the initramfs could not be listed
};

// The file list of an initramfs, downloaded and listed once per version of the file (size and
// mtime): check, fix and re-check read the same image otherwise, and it is tens of MiB.
class ListingCache {
 public:
  const bootloader::InitramfsListing& get(guest::Guest& guest, const std::string& path) {
    auto info = guest.stat(path);
    std::pair<uint64_t, int64_t> key{info ? info->size : 0, info ? info->mtime_ns : 0};
    auto it = entries_.find(path);
    if (it != entries_.end() && it->second.first == key && info && info->kind == guest::FileInfo::Kind::file)
      return it->second.second;
    // Read whole into memory: the largest real images (dracut without hostonly) are a few hundred MiB.
    guest.require_regular_file(path, uint64_t{1} << 30);
    TempDir scratch("vmfix-initramfs");
    const std::string copy = (scratch.path() / "initrd").string();
    guest.download(path, copy);
    auto& entry = entries_[path];
    entry = {key, bootloader::list_initramfs(read_host_file(copy))};
    return entry.second;
  }

 private:
  std::map<std::string, std::pair<std::pair<uint64_t, int64_t>, bootloader::InitramfsListing>> entries_;
};

Assessment assess(guest::Guest& guest, const inspect::Facts& facts, ListingCache& cache) {
  Assessment a{default_target(guest, facts), {}, ""};
  if (a.target.initrd.empty()) return a;
  try {
    a.states = bootloader::ec2_driver_states(guest, a.target.version, cache.get(guest, a.target.initrd).files);
  } catch (const BadInput& error) {
    a.unreadable = fmt::format("{}: {}", a.target.initrd, error.what());
  }
  return a;
}

std::vector<std::string> modules_in_state(const Assessment& a, std::string_view state) {
  std::vector<std::string> modules;
  for (const auto& s : a.states)
    if (s.state == state) modules.push_back(s.module);
  return modules;
}

// ENA is how Nitro instances network; Xen-based ones use xen-netfront. The report says which the
// kernel allows (an info finding: the instance type is chosen at launch).
Finding ena_finding(const std::string& version, const bootloader::DriverState& state) {
  constexpr const char* kEnaMessage = "the default kernel has the ENA driver that Nitro instance types network through";
  if (state.state == "absent")
    return {"linux-ena", Status::fail, kEnaMessage,
            fmt::format("kernel {} has no ena driver ({}): only Xen-based instance types (t2, m4, c4, r4, ...) will "
                        "have a network; "
                        "install a kernel with ENA for Nitro types",
                        version, state.evidence)};
  return {"linux-ena", Status::pass, kEnaMessage,
          fmt::format("kernel {}: ena {} ({}): Nitro instance types network through ENA", version, state.state,
                      state.evidence)};
}

// The README's fixer table (scripts/fixer-table.sh).
constexpr const char* kChecks =
    "the default kernel's initramfs, listed on the host (cpio newc; gzip, xz, lzma, zstd, lz4, early "
    "microcode archives), against `/boot/config-V`, `modules.builtin` and `modules.dep`: "
    "xen-blkfront and nvme must be built in or packed, xen-netfront installed; whether ENA is there "
    "(module or built in) is reported as `linux-ena` with what it means: without it only Xen-based "
    "instance types get a network";
constexpr const char* kChanges =
    "only when a block driver is missing: the guest's own `dracut -f` (with "
    "`/etc/dracut.conf.d/90-vmfix-ec2.conf`), `update-initramfs -u` (with "
    "`/etc/initramfs-tools/modules`) or `mkinitrd --with=`, then the new image is listed again; a "
    "kernel without the driver at all is a blocker no rebuild fixes";

class InitramfsFixer : public Fixer {
 public:
  std::string_view id() const override { return "initramfs"; }
  std::string_view summary() const override {
    return "Linux: xen-blkfront and nvme in the default kernel's initramfs (rebuilt with the guest's dracut, "
           "update-initramfs or mkinitrd when missing); ena and xen-netfront installed";
  }
  std::vector<FixerDoc> documentation() const override { return {{std::string(id()), "", kChecks, kChanges}}; }
  std::vector<std::string> rules() const override { return {kRule, "linux-ena"}; }
  bool applies(const inspect::Facts& facts) const override {
    return facts.os_type == "linux" && !facts.linux.kernels.empty();
  }

  std::vector<Finding> check(guest::Guest& guest, const inspect::Facts& facts) override {
    if (!applies(facts)) return {};  // no kernel: linux-default-kernel says so
    Assessment a = assess(guest, facts, cache_);
    if (a.target.initrd.empty())
      return {{kRule, Status::unknown, kMessage,
               fmt::format("kernel {} has no initramfs to read (see linux-initramfs)", a.target.version)}};
    if (!a.unreadable.empty()) return {{kRule, Status::unknown, kMessage, a.unreadable}};
    std::vector<Finding> findings;
    const std::string tool = rebuild_tool(guest);
    for (const auto& state : a.states) {
      if (state.module == "ena") {
        findings.push_back(ena_finding(a.target.version, state));
        continue;
      }
      if (state.state == "absent")
        findings.push_back({kRule, Status::fail, kMessage,
                            fmt::format("kernel {} has no {} driver: {}; install a kernel that has it",
                                        a.target.version, state.module, state.evidence),
                            false});
      else if (state.state == "not-in-initramfs")
        findings.push_back(
            {kRule, Status::fail, kMessage,
             tool.empty() ? state.evidence + "; the guest has no dracut, update-initramfs or mkinitrd to rebuild it"
                          : state.evidence,
             !tool.empty()});
    }
    if (std::none_of(findings.begin(), findings.end(), [](const Finding& f) { return f.rule == kRule; })) {
      std::vector<std::string> summary;
      for (const auto& state : a.states) summary.push_back(state.module + " " + state.state);
      findings.push_back(
          {kRule, Status::pass, kMessage, fmt::format("{}: {}", a.target.initrd, fmt::join(summary, ", "))});
    }
    return findings;
  }

  std::vector<Change> fix(guest::Guest& guest, const inspect::Facts& facts) override {
    Assessment a = assess(guest, facts, cache_);
    std::vector<std::string> missing = modules_in_state(a, "not-in-initramfs");
    const std::string tool = rebuild_tool(guest);
    if (missing.empty() || tool.empty()) return {};
    std::vector<Change> changes;
    std::vector<std::string> wanted;  // every root driver that is a module, for later kernels too
    for (const auto& state : a.states)
      if (state.state == "in-initramfs" || state.state == "not-in-initramfs") wanted.push_back(state.module);
    const std::string tool_name = tool.substr(tool.rfind('/') + 1);
    if (tool_name == "dracut") {
      const std::string conf = fmt::format(
          "# Written by vmfix: EC2's disk drivers (Xen and Nitro) in every initramfs.\nadd_drivers+=\" {} \"\n",
          fmt::join(wanted, " "));
      guest.mkdir_p("/etc/dracut.conf.d");
      if (guest.read_if_exists(kDracutConf) != conf) {
        guest.write(kDracutConf, conf);
        changes.push_back(
            {"initramfs", kDracutConf, "", "add_drivers: " + fmt::format("{}", fmt::join(wanted, " ")), ""});
      }
      guest.run({tool, "-f", a.target.initrd, a.target.version});
    } else if (tool_name == "update-initramfs") {
      std::string modules = guest.read_if_exists(kInitramfsToolsModules).value_or("");
      std::string before = modules;
      for (const std::string& module : wanted) {
        bool listed = false;
        for (std::string_view line : split_lines(modules)) listed = listed || trim(line) == module;
        if (!listed) modules += (modules.empty() || modules.back() == '\n' ? "" : "\n") + module + "\n";
      }
      if (modules != before) {
        if (guest.exists(kInitramfsToolsModules))
          guest.replace_file(kInitramfsToolsModules, modules);
        else
          guest.write(kInitramfsToolsModules, modules);
        changes.push_back({"initramfs", kInitramfsToolsModules, "", fmt::format("{}", fmt::join(wanted, " ")), ""});
      }
      guest.run({tool, "-u", "-k", a.target.version});
    } else {  // mkinitrd (RHEL 5, old SUSE)
      std::vector<std::string> argv{tool, "-f"};
      for (const std::string& module : wanted) argv.push_back("--with=" + module);
      argv.insert(argv.end(), {a.target.initrd, a.target.version});
      guest.run(argv);
    }
    Assessment after = assess(guest, facts, cache_);
    std::vector<std::string> still = after.unreadable.empty() ? modules_in_state(after, "not-in-initramfs")
                                                              : std::vector<std::string>{"(unreadable)"};
    changes.push_back({"initramfs", a.target.initrd, fmt::format("without {}", fmt::join(missing, ", ")),
                       still.empty()
                           ? fmt::format("rebuilt with {}", tool_name)
                           : fmt::format("rebuilt with {}, still without {}", tool_name, fmt::join(still, ", ")),
                       ""});
    return changes;
  }

 private:
  static std::string rebuild_tool(guest::Guest& guest) {
    return guest.find_program({"dracut", "update-initramfs", "mkinitrd"});
  }
  ListingCache cache_;
};

}  // namespace

std::unique_ptr<Fixer> make_initramfs() { return std::make_unique<InitramfsFixer>(); }

}  // namespace vmfix::fixers

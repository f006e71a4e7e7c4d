// vmware-tools (Linux side): packages go through the guest's own package manager, run in the
// appliance (dpkg --purge, rpm -e: never a dependency solver that could take more with it); when
// the package manager refuses because something needs the package, its services are masked and
// the report says what kept it. A tarball install is removed from its own file list (the
// uninstaller script is not run: it rebuilds initrds, minutes under emulation), with its init
// scripts and units. VMware package repositories are disabled.
#include <fmt/core.h>

#include <algorithm>
#include <functional>

#include "fixers/table.h"
#include "support/text.h"

namespace vmfix::fixers {

namespace {

using guest::join_path;

constexpr const char* kLocations = "/etc/vmware-tools/locations";
const std::vector<std::string> kUnits{
    "open-vm-tools.service",          "vmtoolsd.service",          "vgauth.service", "vmware-tools.service",
    "vmware-tools-thinprint.service", "run-vmblock\\x2dfuse.mount"};

bool is_vmware_package(const std::string& package) {
  std::string name = to_lower(package);
  return name.starts_with("open-vm-tools") || name.starts_with("vmware-tools") ||
         name.starts_with("kmod-vmware-tools") || name == "vmwaretools";
}

// Paths in the tarball's database that are VMware's own; anything else it lists is left alone.
bool vmware_path(const std::string& path) {
  std::string lower = to_lower(path);
  for (std::string_view marker :
       {"vmware", "vmtoolsd", "vmhgfs", "vmxnet", "vmci", "vsock", "vmblock", "vmmemctl", "vmsync"})
    if (lower.find(marker) != std::string::npos) return true;
  return false;
}

// SysV runlevel links (/etc/rc.d/rcN.d and /etc/rcN.d) whose name passes `wanted`.
std::vector<std::string> rc_links(guest::Guest& guest, const std::function<bool(const std::string&)>& wanted) {
  std::vector<std::string> links;
  for (const char* rc : {"/etc/rc.d", "/etc"})
    for (int level = 0; level <= 6; ++level) {
      const std::string directory = fmt::format("{}/rc{}.d", rc, level);
      if (!guest.is_dir(directory)) continue;
      for (const std::string& name : guest.ls(directory))
        if (name.size() > 3 && wanted(name)) links.push_back(join_path(directory, name));
    }
  return links;
}

struct Plan {
  std::vector<std::string> packages;
  std::vector<std::string> tarball_files;  // files and links to delete, then directories
  std::vector<std::string> tarball_dirs;
  std::vector<std::string> repo_files;  // with an enabled VMware repository
  std::vector<std::string> masked;      // units already masked (/dev/null links)
};

bool masked(guest::Guest& guest, const std::string& unit) {
  auto info = guest.stat("/etc/systemd/system/" + unit);
  return info && info->kind == guest::FileInfo::Kind::symlink;
}

std::vector<std::string> enabled_vmware_repos(guest::Guest& guest) {
  std::vector<std::string> files;
  for (const char* directory : {"/etc/yum.repos.d", "/etc/zypp/repos.d"})
    for (const std::string& file : guest.files_in(directory, ".repo")) {
      std::string text = to_lower(guest.read(file));
      if (text.find("vmware") != std::string::npos && text.find("enabled=0") == std::string::npos)
        files.push_back(file);
    }
  for (const std::string& file : guest.files_in("/etc/apt/sources.list.d", ".list")) {
    if (to_lower(file).find("vmware") == std::string::npos &&
        to_lower(guest.read(file)).find("packages.vmware.com") == std::string::npos)
      continue;
    for (std::string_view line : split_lines(guest.read(file)))
      if (trim(line).starts_with("deb")) {
        files.push_back(file);
        break;
      }
  }
  return files;
}

Plan plan(guest::Guest& guest, const inspect::Facts& facts) {
  Plan p;
  for (const std::string& package : facts.packages)
    if (is_vmware_package(package)) p.packages.push_back(package);
  if (auto locations = guest.read_if_exists(kLocations)) {
    for (std::string_view line : split_lines(*locations)) {
      std::string_view body = trim(line);
      bool file = body.starts_with("file "), directory = body.starts_with("directory ");
      if (!file && !directory) continue;
      std::string_view rest = trim(body.substr(file ? 5 : 10));
      std::string path(rest.substr(0, rest.find(' ')));
      if (!path.starts_with("/") || path.find("..") != std::string::npos || !vmware_path(path)) continue;
      if (!guest.exists(path)) continue;
      (file ? p.tarball_files : p.tarball_dirs).push_back(path);
    }
    for (const char* path : {"/etc/init.d/vmware-tools", "/etc/rc.d/init.d/vmware-tools",
                             "/etc/systemd/system/vmware-tools.service", "/usr/bin/vmware-uninstall-tools.pl"})
      if (guest.exists(path)) p.tarball_files.push_back(path);
    for (const std::string& link :
         rc_links(guest, [](const std::string& name) { return name.substr(3) == "vmware-tools"; }))
      p.tarball_files.push_back(link);
    for (const char* directory : {"/usr/lib/vmware-tools", "/etc/vmware-tools"})
      if (guest.is_dir(directory)) p.tarball_dirs.push_back(directory);
    std::sort(p.tarball_files.begin(), p.tarball_files.end());
    p.tarball_files.erase(std::unique(p.tarball_files.begin(), p.tarball_files.end()), p.tarball_files.end());
    std::sort(p.tarball_dirs.begin(), p.tarball_dirs.end());
    p.tarball_dirs.erase(std::unique(p.tarball_dirs.begin(), p.tarball_dirs.end()), p.tarball_dirs.end());
  }
  p.repo_files = enabled_vmware_repos(guest);
  for (const std::string& unit : kUnits)
    if (masked(guest, unit)) p.masked.push_back(unit);
  return p;
}

// The README's fixer table (scripts/fixer-table.sh).
constexpr const char* kChecks =
    "open-vm-tools and its sub-packages, vmware-tools-*, kmod-vmware-tools*, VMwareTools in the "
    "package database; tarball installs (`/etc/vmware-tools/locations`); their units and SysV links; "
    "VMware repositories";
constexpr const char* kChanges =
    "the guest's own `dpkg --purge` / `rpm -e` in the appliance (no dependencies pulled out); a "
    "package a metapackage needs stays and its units are masked, and the report says so; tarball "
    "files removed from their own file list; repositories `enabled=0`";

class VmwareToolsLinux : public Fixer {
 public:
  std::string_view id() const override { return "vmware-tools"; }
  std::string_view summary() const override {
    return "Linux: remove VMware Tools (packages, tarball installs), disable VMware repositories";
  }
  std::vector<FixerDoc> documentation() const override { return {{std::string(id()), "", kChecks, kChanges}}; }
  std::vector<std::string> rules() const override { return {"vmware-tools"}; }
  bool applies(const inspect::Facts& facts) const override { return facts.os_type == "linux"; }

  std::vector<Finding> check(guest::Guest& guest, const inspect::Facts& facts) override {
    Plan p = plan(guest, facts);
    std::vector<Finding> findings;
    auto fail = [&](std::string evidence) {
      findings.push_back({"vmware-tools", Status::fail, "VMware Tools are removed and nothing of them starts at boot",
                          std::move(evidence)});
    };
    const bool units_masked = p.masked.size() >= 2;  // kept packages whose services are masked
    for (const std::string& package : p.packages)
      if (!units_masked) fail(fmt::format("package {} is installed", package));
    if (!p.tarball_files.empty() || !p.tarball_dirs.empty())
      fail(fmt::format("tarball install: {} files and {} directories listed in {}", p.tarball_files.size(),
                       p.tarball_dirs.size(), kLocations));
    for (const std::string& file : p.repo_files) fail(fmt::format("{} enables a VMware repository", file));
    if (findings.empty())
      findings.push_back(
          {"vmware-tools", Status::pass, "VMware Tools are removed and nothing of them starts at boot",
           p.packages.empty() ? "" : fmt::format("kept {} package(s), services masked", p.packages.size())});
    return findings;
  }

  std::vector<Change> fix(guest::Guest& guest, const inspect::Facts& facts) override {
    Plan p = plan(guest, facts);
    std::vector<Change> changes;
    if (!p.packages.empty() && p.masked.size() < 2) remove_packages(guest, facts, p.packages, changes);
    for (const std::string& file : p.tarball_files) guest.rm_rf(file);
    for (auto it = p.tarball_dirs.rbegin(); it != p.tarball_dirs.rend(); ++it) guest.rm_rf(*it);
    if (!p.tarball_files.empty() || !p.tarball_dirs.empty())
      changes.push_back(
          {"vmware-tools", kLocations,
           fmt::format("tarball install: {} files, {} directories", p.tarball_files.size(), p.tarball_dirs.size()),
           "removed (with its init scripts and rc links)", ""});
    for (const std::string& file : p.repo_files) {
      std::string text = guest.read(file), edited;
      const bool apt = file.ends_with(".list");
      for (std::string_view line : split_lines(text)) {
        std::string_view body = trim(line);
        if (apt && body.starts_with("deb"))
          edited += "# disabled by vmfix: " + std::string(line) + "\n";
        else if (!apt && body.starts_with("enabled"))
          edited += "enabled=0\n";
        else
          edited += std::string(line) + "\n";
      }
      if (!apt && edited.find("enabled=0") == std::string::npos) edited += "enabled=0\n";
      guest.replace_file(file, edited);
      changes.push_back({"vmware-tools", file, "VMware repository enabled", "disabled", ""});
    }
    return changes;
  }

 private:
  static void remove_packages(guest::Guest& guest, const inspect::Facts& facts,
                              const std::vector<std::string>& packages, std::vector<Change>& changes) {
    std::vector<std::string> argv;
    if (facts.package_format == "deb")
      argv = {"dpkg", "--purge"};
    else if (facts.package_format == "rpm")
      argv = {"rpm", "-e"};
    std::string why;
    if (!argv.empty()) {
      argv.insert(argv.end(), packages.begin(), packages.end());
      try {
        guest.run(argv);
        for (const std::string& package : packages)
          changes.push_back(
              {"vmware-tools", "package " + package, "installed", fmt::format("removed ({})", argv[0]), ""});
        return;
      } catch (const Error& e) {
        why = e.what();
      }
    } else {
      why = fmt::format("no package manager vmfix can run for '{}'", facts.package_format);
    }
    // Kept (another package needs it, or the package manager cannot run): nothing of it starts.
    // Masks (harmless where systemd is absent, and what the check looks for) and SysV start links.
    guest.mkdir_p("/etc/systemd/system");
    for (const std::string& unit : kUnits) guest.symlink("/dev/null", "/etc/systemd/system/" + unit);
    for (const std::string& link : rc_links(guest, [](const std::string& name) {
           return name.starts_with("S") && (name.ends_with("open-vm-tools") || name.ends_with("vmware-tools"));
         }))
      guest.rm(link);  // SysV start links
    for (const std::string& package : packages)
      changes.push_back({"vmware-tools", "package " + package, "installed",
                         fmt::format("kept, its services masked ({}: {})", argv.empty() ? "" : argv[0], one_line(why)),
                         ""});
  }

  static std::string one_line(std::string text) {
    std::replace(text.begin(), text.end(), '\n', ' ');
    return text.size() > 300 ? text.substr(0, 300) + "..." : text;
  }
};

}  // namespace

std::unique_ptr<Fixer> make_vmware_tools_linux() { return std::make_unique<VmwareToolsLinux>(); }

}  // namespace vmfix::fixers

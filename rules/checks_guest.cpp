// Rules about preparing the guest: tools, devices, shutdown, and the Windows and Linux lists.
#include <fmt/core.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>

#include "fixers/fstab.h"
#include "rules/checks.h"
#include "support/text.h"

namespace vmfix::rules {

using inspect::Facts;

namespace {

Outcome check_cdrom(const Context& c) {
  std::vector<std::string> evidence;
  if (c.image.ovf_cdroms > 0)
    evidence.push_back(fmt::format("the OVF attaches {} CD-ROM drive(s)", c.image.ovf_cdroms));
  if (c.image.ovf_floppies > 0)
    evidence.push_back(fmt::format("the OVF attaches {} floppy drive(s)", c.image.ovf_floppies));
  if (c.facts.os_type == "linux" && c.guest)
    if (auto fstab = c.guest->read_if_exists("/etc/fstab"))
      for (const std::string& entry : fixers::removable_media_mounted_at_boot(*fstab))
        evidence.push_back("/etc/fstab: " + entry);
  if (evidence.empty())
    return pass(c.image.ovf_cdroms < 0 ? "no CD-ROM mounted at boot (a disk image carries no drives)"
                                       : "no CD-ROM drive");
  return fail("CD-ROM or floppy drives are attached or mounted at boot", evidence);
}

Outcome check_shut_down(const Context& c) {
  const Facts& f = c.facts;
  std::vector<std::string> evidence;
  if (f.os_type == "windows") {
    if (equals_icase(f.windows.hiberfil_signature, "hibr"))
      evidence.push_back(
          fmt::format("hiberfil.sys starts with '{}': Windows is hibernated or was stopped by Fast Startup",
                      f.windows.hiberfil_signature));
  } else {
    for (const auto& fs : f.filesystems)
      if (fs.clean && !*fs.clean)
        evidence.push_back(fmt::format("{} ({}) was not unmounted cleanly", fs.device, fs.type));
  }
  if (evidence.empty()) {
    if (f.os_type == "windows" && f.windows.fast_startup)
      return pass("not hibernated (Fast Startup is on: shut down with 'shutdown /s /t 0' before export)");
    return pass("shut down cleanly");
  }
  return fail("the VM was not shut down cleanly; boot it and shut it down, then export again", evidence);
}

// Services of endpoint protection products that interfere with driver installation on import.
constexpr std::array<std::string_view, 34> kAntivirusServices{"McShield",      "mfemms",
                                                              "mfevtp",        "masvc",
                                                              "macmnsvc",      "SepMasterService",
                                                              "ccSvcHst",      "Symantec Endpoint Protection",
                                                              "ntrtscan",      "TmListen",
                                                              "ds_agent",      "Amsp",
                                                              "SAVService",    "Sophos Agent",
                                                              "SophosHealth",  "CSFalconService",
                                                              "CbDefense",     "carbonblack",
                                                              "SentinelAgent", "ekrn",
                                                              "klnagent",      "AVP",
                                                              "CylanceSvc",    "EPSecurityService",
                                                              "bdredline",     "xagt",
                                                              "TaniumClient",  "cyserver",
                                                              "MsSense",       "AvastSvc",
                                                              "avgsvc",        "WRSVC",
                                                              "ossec",         "wazuh"};
constexpr std::array<std::string_view, 14> kAntivirusPackages{
    "clamav-daemon", "clamd",       "falcon-sensor", "mdatp",     "sentinelagent", "ds_agent", "aide",
    "ossec-hids",    "wazuh-agent", "cbagentd",      "sophos-av", "mcafeetp",      "tripwire", "cylance-protect"};

Outcome check_antivirus(const Context& c) {
  std::vector<std::string> found;
  if (c.facts.os_type == "windows") {
    for (const auto& service : c.facts.windows.services) {
      if (service.start == 4) continue;
      for (std::string_view name : kAntivirusServices)
        if (equals_icase(service.name, name) || starts_with_icase(service.name, std::string(name) + "_"))
          found.push_back(fmt::format("service {} (Start={})", service.name, service.start));
    }
  } else {
    for (std::string_view name : kAntivirusPackages)
      if (std::binary_search(c.facts.packages.begin(), c.facts.packages.end(), std::string(name)))
        found.push_back(fmt::format("package {}", name));
    if (!c.facts.packages_known) return unknown("the package database could not be read");
  }
  if (found.empty()) return pass("no known antivirus or intrusion-detection product");
  return fail("disable these until the import is done", found);
}

Outcome check_windows_passwords(const Context& c) {
  const auto& windows = c.facts.windows;
  if (!windows.accounts_read) return unknown("the SAM hive could not be read", {windows.accounts_evidence});
  if (!windows.accounts_without_password.empty())
    return fail(
        fmt::format("enabled accounts without a password: {}", fmt::join(windows.accounts_without_password, ", ")),
        {windows.accounts_evidence});
  return pass(
      fmt::format(
          "enabled accounts, all with a password: {}",
          windows.enabled_accounts.empty() ? "(none)" : fmt::format("{}", fmt::join(windows.enabled_accounts, ", "))),
      {windows.accounts_evidence});
}

Outcome check_dotnet(const Context& c) {
  const auto& dotnet = c.facts.windows.dotnet;
  std::string evidence = dotnet.empty() ? "no .NET Framework under SOFTWARE\\Microsoft\\NET Framework Setup\\NDP"
                                        : fmt::format("NDP: {}", fmt::join(dotnet, ", "));
  for (const std::string& version : dotnet)
    if (version.rfind("v4", 0) == 0 || (version.rfind("v3.5", 0) == 0 && version.find(" SP") != std::string::npos))
      return pass(".NET Framework 3.5 SP1 or later is installed", {evidence});
  return fail(".NET Framework 3.5 SP1 or later is needed by the EC2 agents the import installs", {evidence});
}

Outcome check_windows_updates(const Context& c) {
  const auto& windows = c.facts.windows;
  if (!windows.pending_reboot.empty())
    return fail("updates or file renames wait for a reboot; the first boot on EC2 would install them",
                windows.pending_reboot);
  if (!windows.automatic_install.empty())
    return fail(
        "Windows Update installs updates on its own schedule and restarts; AWS asks that the computer not be set to "
        "install software when it reboots",
        {windows.automatic_install});
  return pass("no pending reboot or update installation, and Windows Update does not install on its own");
}

Outcome check_dirty_hive(const Context& c) {
  if (!c.facts.windows.system_hive_dirty)
    return pass("the SYSTEM hive is consistent", {c.facts.windows.system_hive_state});
  return fail(
      "Windows would replay the SYSTEM hive's transaction logs at boot and undo offline edits; boot and shut down "
      "cleanly first",
      {c.facts.windows.system_hive_state});
}

Outcome check_ssh(const Context& c) {
  const auto& linux = c.facts.linux;
  if (linux.ssh_server.empty()) return fail("no SSH server is installed (no sshd)");
  if (linux.ssh_enabled.empty()) return fail("sshd is installed but nothing starts it at boot", {linux.ssh_server});
  return pass("sshd starts at boot", {linux.ssh_enabled});
}

Outcome check_firewall_ssh(const Context& c) {
  const auto& linux = c.facts.linux;
  if (linux.firewall.empty()) return pass("no host firewall is enabled");
  if (!linux.firewall_allows_ssh)
    return unknown(fmt::format("{} is enabled; its rules were not understood", linux.firewall),
                   {linux.firewall_evidence});
  if (*linux.firewall_allows_ssh) return pass(fmt::format("{} lets SSH in", linux.firewall), {linux.firewall_evidence});
  return fail(fmt::format("{} blocks SSH (port 22)", linux.firewall), {linux.firewall_evidence});
}

Outcome check_ssh_user(const Context& c) {
  const auto& linux = c.facts.linux;
  if (!linux.key_users.empty()) return pass(fmt::format("users with keys: {}", fmt::join(linux.key_users, ", ")));
  return fail("no non-root user has ~/.ssh/authorized_keys; AWS does not create ec2-user on import",
              {linux.root_has_keys ? "only root has authorized_keys" : "no authorized_keys found"});
}

Outcome check_grub(const Context& c) {
  std::vector<std::string> found;
  for (const auto& loader : c.facts.bootloaders) {
    if (loader.kind == "grub2" || loader.kind == "grub-legacy")
      return pass(fmt::format("{} ({})", loader.kind, loader.config));
    found.push_back(loader.kind + " " + loader.config);
  }
  return fail("no GRUB found; the importer expects GRUB legacy or GRUB 2",
              found.empty() ? std::vector<std::string>{"no boot loader found"} : found);
}

Outcome check_grub_single(const Context& c) {
  const auto& configs = c.facts.linux.grub_configs;
  if (configs.size() == 1) return pass("one GRUB menu", configs);
  if (configs.empty()) return unknown("no GRUB menu file found in the OS tree (see linux-grub)");
  return fail("Multiple different grub/menu.lst files found", configs);
}

Outcome check_initramfs(const Context& c) {
  DefaultKernel kernel = default_kernel(c.facts);
  if (kernel.version.empty()) return fail("no kernel found", {kernel.evidence});
  for (const auto& installed : c.facts.linux.kernels)
    if (installed.version == kernel.version) {
      if (installed.initrd.empty())
        return fail(fmt::format("kernel {} has no initramfs in /boot", kernel.version), {kernel.evidence});
      return pass(fmt::format("{} has {}", kernel.version, installed.initrd), {kernel.evidence});
    }
  return fail(fmt::format("kernel {} is not installed in /boot", kernel.version), {kernel.evidence});
}

}  // namespace

void add_guest_checks(std::map<std::string, Evaluator>& table) {
  table["cdrom"] = check_cdrom;
  table["shut-down"] = check_shut_down;
  table["antivirus"] = check_antivirus;
  table["windows-passwords"] = check_windows_passwords;
  table["windows-dotnet"] = check_dotnet;
  table["windows-updates"] = check_windows_updates;
  table["windows-dirty-hive"] = check_dirty_hive;
  table["linux-ssh"] = check_ssh;
  table["linux-firewall-ssh"] = check_firewall_ssh;
  table["linux-ssh-user"] = check_ssh_user;
  table["linux-grub"] = check_grub;
  table["linux-grub-single"] = check_grub_single;
  table["linux-initramfs"] = check_initramfs;
}

}  // namespace vmfix::rules

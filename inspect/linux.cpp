#include "inspect/linux.h"

#include <fmt/core.h>

#include <algorithm>
#include <cctype>

#include "support/text.h"

namespace vmfix::inspect {

namespace {

// systemd enables a unit with a link in some *.wants directory under /etc/systemd/system.
std::string enabled_systemd_unit(guest::Guest& guest, const std::vector<std::string>& units) {
  const std::string base = "/etc/systemd/system";
  if (!guest.is_dir(base)) return "";
  for (const std::string& directory : guest.ls(base)) {
    if (directory.size() < 6 || directory.compare(directory.size() - 6, 6, ".wants") != 0) continue;
    for (const std::string& unit : units) {
      std::string link = fmt::format("{}/{}/{}", base, directory, unit);
      if (guest.exists(link)) return link;
    }
  }
  return "";
}

// SysV init: an S link in a multi-user runlevel.
std::string enabled_sysv_service(guest::Guest& guest, const std::vector<std::string>& names) {
  for (const char* rc : {"/etc/rc3.d", "/etc/rc2.d", "/etc/rc.d/rc3.d", "/etc/rc5.d"}) {
    if (!guest.is_dir(rc)) continue;
    for (const std::string& entry : guest.ls(rc)) {
      if (entry.size() < 4 || entry[0] != 'S') continue;
      for (const std::string& name : names)
        if (entry.substr(3) == name) return fmt::format("{}/{}", rc, entry);
    }
  }
  return "";
}

// A rule that lets port 22 (or the ssh service) in, in iptables, ufw or firewalld syntax.
bool mentions_ssh_port(std::string_view text) {
  for (std::string_view needle : {"--dport 22", "dport=22", "port=\"22\"", "allow tcp 22 ", "allow any 22 "}) {
    for (size_t at = text.find(needle); at != std::string_view::npos; at = text.find(needle, at + 1)) {
      size_t after = at + needle.size();
      if (after >= text.size() || !std::isdigit(static_cast<unsigned char>(text[after]))) return true;
    }
  }
  return text.find("--dport ssh") != std::string_view::npos ||
         text.find("<service name=\"ssh\"/>") != std::string_view::npos;
}

}  // namespace

void read_ssh(guest::Guest& guest, LinuxFacts& linux) {
  for (const char* daemon : {"/usr/sbin/sshd", "/sbin/sshd"})
    if (guest.exists(daemon)) linux.ssh_server = daemon;
  if (linux.ssh_server.empty()) return;
  linux.ssh_enabled = enabled_systemd_unit(guest, {"ssh.service", "sshd.service", "ssh.socket", "sshd.socket"});
  if (linux.ssh_enabled.empty()) linux.ssh_enabled = enabled_sysv_service(guest, {"ssh", "sshd"});
  if (linux.ssh_enabled.empty() && guest.is_file("/etc/init/ssh.conf")) linux.ssh_enabled = "/etc/init/ssh.conf";
}

void read_key_users(guest::Guest& guest, LinuxFacts& linux) {
  auto passwd = guest.read_if_exists("/etc/passwd");
  if (!passwd) return;
  auto has_keys = [&](const std::string& home) {
    auto info = guest.stat(home + "/.ssh/authorized_keys");
    return info && info->kind == guest::FileInfo::Kind::file && info->size > 0;
  };
  for (std::string_view line : split_lines(*passwd)) {
    std::vector<std::string> fields;
    size_t start = 0;
    for (size_t colon; (colon = line.find(':', start)) != std::string_view::npos; start = colon + 1)
      fields.emplace_back(line.substr(start, colon - start));
    fields.emplace_back(line.substr(start));
    if (fields.size() < 7 || fields[5].empty() || fields[5].front() != '/') continue;
    const std::string& shell = fields[6];
    if (shell.find("nologin") != std::string::npos || shell.find("false") != std::string::npos) continue;
    if (!has_keys(fields[5])) continue;
    if (fields[2] == "0")
      linux.root_has_keys = true;
    else
      linux.key_users.push_back(fields[0]);
  }
}

void read_firewall(guest::Guest& guest, LinuxFacts& linux) {
  if (!enabled_systemd_unit(guest, {"firewalld.service"}).empty()) {
    linux.firewall = "firewalld";
    std::string zone = "public";
    if (auto conf = guest.read_if_exists("/etc/firewalld/firewalld.conf"))
      for (const auto& [key, value] : parse_shell_assignments(*conf))
        if (key == "DefaultZone" && !value.empty()) zone = value;
    for (const std::string& file :
         {"/etc/firewalld/zones/" + zone + ".xml", "/usr/lib/firewalld/zones/" + zone + ".xml"}) {
      auto text = guest.read_if_exists(file);
      if (!text) continue;
      linux.firewall_allows_ssh = mentions_ssh_port(*text) || text->find("target=\"ACCEPT\"") != std::string::npos;
      linux.firewall_evidence = fmt::format("default zone '{}' in {}", zone, file);
      return;
    }
    if (zone == "public") {  // firewalld's shipped public zone lets ssh in
      linux.firewall_allows_ssh = true;
      linux.firewall_evidence = "default zone 'public' as shipped (ssh allowed)";
    }
    return;
  }
  if (auto ufw = guest.read_if_exists("/etc/ufw/ufw.conf")) {
    bool enabled = false;
    for (const auto& [key, value] : parse_shell_assignments(*ufw))
      enabled = enabled || (key == "ENABLED" && value == "yes");
    if (enabled) {
      linux.firewall = "ufw";
      auto rules = guest.read_if_exists("/etc/ufw/user.rules").value_or("");
      auto defaults = guest.read_if_exists("/etc/default/ufw").value_or("");
      bool drops = defaults.find("DEFAULT_INPUT_POLICY=\"ACCEPT\"") == std::string::npos;
      linux.firewall_allows_ssh = !drops || mentions_ssh_port(rules);
      linux.firewall_evidence = "/etc/ufw/ufw.conf ENABLED=yes; rules in /etc/ufw/user.rules";
      return;
    }
  }
  for (const char* saved : {"/etc/sysconfig/iptables", "/etc/iptables/rules.v4"}) {
    auto text = guest.read_if_exists(saved);
    if (!text) continue;
    linux.firewall = "iptables";
    bool drops = text->find(":INPUT DROP") != std::string::npos || text->find(":INPUT REJECT") != std::string::npos ||
                 text->find("-A INPUT -j REJECT") != std::string::npos ||
                 text->find("-A INPUT -j DROP") != std::string::npos;
    linux.firewall_allows_ssh = !drops || mentions_ssh_port(*text);
    linux.firewall_evidence = saved;
    return;
  }
}

LinuxFacts read_linux_facts(guest::Guest& guest, const std::vector<bootloader::Bootloader>& loaders) {
  LinuxFacts linux;
  linux.kernels = bootloader::installed_kernels(guest);
  linux.boot = bootloader::read_boot_config(guest, loaders);
  for (const bootloader::Bootloader& loader : loaders) {
    if (!loader.location.empty() || (loader.kind != "grub2" && loader.kind != "grub-legacy")) continue;
    auto text = guest.read_if_exists(loader.config);
    bool is_menu = text && (text->find("menuentry") != std::string::npos || text->find("blscfg") != std::string::npos ||
                            text->find("title") != std::string::npos);
    if (is_menu) linux.grub_configs.push_back(loader.config);
  }
  // BLS entries read through a stub config are the menu themselves.
  const bool bls =
      std::any_of(loaders.begin(), loaders.end(), [](const auto& l) { return l.kind == "bls" && l.location.empty(); });
  if (bls && linux.grub_configs.empty()) linux.grub_configs.push_back("/boot/loader/entries");
  read_ssh(guest, linux);
  read_key_users(guest, linux);
  read_firewall(guest, linux);
  return linux;
}

}  // namespace vmfix::inspect

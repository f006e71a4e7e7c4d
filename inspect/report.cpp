#include "inspect/report.h"

#include <fmt/core.h>
#include <fmt/ranges.h>

namespace vmfix::inspect {

using nlohmann::ordered_json;

namespace {

ordered_json optional_number(const std::optional<uint64_t>& value) {
  return value ? ordered_json(*value) : ordered_json(nullptr);
}

std::string human_size(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 4) {
    value /= 1024;
    ++unit;
  }
  return unit == 0 ? fmt::format("{} B", bytes) : fmt::format("{:.1f} {}", value, units[unit]);
}

ordered_json filesystems_json(const Facts& facts) {
  ordered_json list = ordered_json::array();
  for (const auto& fs : facts.filesystems)
    list.push_back({{"device", fs.device},
                    {"type", fs.type},
                    {"label", fs.label},
                    {"uuid", fs.uuid},
                    {"mountpoint", fs.mountpoint},
                    {"size", optional_number(fs.size)},
                    {"free", optional_number(fs.free)},
                    {"clean", fs.clean ? ordered_json(*fs.clean) : ordered_json(nullptr)}});
  return list;
}

ordered_json disks_json(const Facts& facts) {
  ordered_json list = ordered_json::array();
  for (const auto& disk : facts.disks) {
    ordered_json partitions = ordered_json::array();
    for (const auto& p : disk.partitions)
      partitions.push_back({{"number", p.number},
                            {"device", p.device},
                            {"start", p.start},
                            {"end", p.end},
                            {"size", p.size},
                            {"type", p.type},
                            {"role", p.role},
                            {"name", p.name},
                            {"bootable", p.bootable}});
    list.push_back({{"device", disk.device},
                    {"source", disk.source},
                    {"size", disk.size},
                    {"partition_table", disk.partition_table},
                    {"partitions", partitions},
                    {"table_problems", disk.table_problems}});
  }
  return list;
}

ordered_json network_json(const Facts& facts) {
  ordered_json list = ordered_json::array();
  for (const auto& n : facts.network)
    list.push_back({{"stack", n.stack},
                    {"file", n.file},
                    {"interface", n.interface},
                    {"method", n.method},
                    {"addresses", n.addresses},
                    {"mac_binding", n.mac_binding}});
  return list;
}

ordered_json windows_json(const WindowsFacts& w) {
  ordered_json services = ordered_json::array();
  for (const auto& service : w.services)
    services.push_back({{"name", service.name}, {"start", service.start}, {"image_path", service.image_path}});
  ordered_json firewall = ordered_json::array();
  for (const FirewallProfile& profile : w.firewall_profiles)
    firewall.push_back({{"name", profile.name},
                        {"enabled", profile.enabled},
                        {"blocks_every_rule", profile.blocks_every_rule},
                        {"evidence", profile.evidence}});
  return {{"edition_id", w.edition_id},
          {"installation_type", w.installation_type},
          {"current_build", w.current_build},
          {"install_language", w.install_language},
          {"dotnet", w.dotnet},
          {"pending_reboot", w.pending_reboot},
          {"automatic_install", w.automatic_install},
          {"fast_startup", w.fast_startup},
          {"hiberfil_size", optional_number(w.hiberfil_size)},
          {"system_hive_state", w.system_hive_state},
          {"accounts", w.accounts_read ? ordered_json{{"enabled", w.enabled_accounts},
                                                      {"without_password", w.accounts_without_password}}
                                       : ordered_json{{"unread", w.accounts_evidence}}},
          {"services", services},
          {"vmware_tools_msi", w.vmware_tools_msi},
          {"setup", {{"type", w.setup_type}, {"command", w.setup_command}}},
          {"rdp_port", optional_number(w.rdp_port)},
          {"firewall_profiles", firewall},
          {"hyper_v", w.hyper_v},
          {"ec2_agents", w.ec2_agents}};
}

ordered_json linux_boot_json(const std::optional<bootloader::BootConfig>& boot) {
  if (!boot) return nullptr;
  ordered_json entries = ordered_json::array();
  for (const auto& e : boot->entries)
    entries.push_back({{"title", e.title}, {"kernel", e.kernel}, {"initrd", e.initrd}, {"options", e.options}});
  return {{"kind", boot->kind},
          {"config", boot->config},
          {"entries", entries},
          {"default_entry", boot->default_entry ? ordered_json(*boot->default_entry) : ordered_json(nullptr)},
          {"default_evidence", boot->default_evidence}};
}

ordered_json linux_json(const LinuxFacts& l) {
  ordered_json kernels = ordered_json::array();
  for (const auto& k : l.kernels)
    kernels.push_back({{"version", k.version}, {"path", k.path}, {"initrd", k.initrd}, {"modules", k.modules}});
  return {{"kernels", kernels},
          {"boot", linux_boot_json(l.boot)},
          {"grub_configs", l.grub_configs},
          {"ssh_server", l.ssh_server},
          {"ssh_enabled", l.ssh_enabled},
          {"key_users", l.key_users},
          {"root_has_keys", l.root_has_keys},
          {"firewall", l.firewall},
          {"firewall_allows_ssh", l.firewall_allows_ssh ? ordered_json(*l.firewall_allows_ssh) : ordered_json(nullptr)},
          {"firewall_evidence", l.firewall_evidence}};
}

}  // namespace

ordered_json to_json(const Facts& facts) {
  ordered_json out;
  out["os_type"] = facts.os_type;
  out["distro"] = facts.distro;
  out["product_name"] = facts.product_name;
  out["product_variant"] = facts.product_variant;
  out["major_version"] = facts.major_version;
  out["minor_version"] = facts.minor_version;
  out["arch"] = facts.arch;
  out["hostname"] = facts.hostname;
  out["root_device"] = facts.root_device;
  out["package_format"] = facts.package_format;
  out["package_management"] = facts.package_management;
  if (facts.os_type == "windows") {
    out["windows_systemroot"] = facts.windows_systemroot;
    out["windows_current_control_set"] = facts.windows_current_control_set;
  }
  out["mountpoints"] = ordered_json::array();
  for (const auto& mp : facts.mountpoints) out["mountpoints"].push_back({{"path", mp.path}, {"device", mp.device}});
  out["filesystems"] = filesystems_json(facts);
  out["disks"] = disks_json(facts);
  out["boot_mode"] = bootloader::to_string(facts.boot_mode);
  out["boot_mode_evidence"] = facts.boot_mode_evidence;
  out["bootloaders"] = ordered_json::array();
  for (const auto& b : facts.bootloaders)
    out["bootloaders"].push_back(
        {{"kind", b.kind},
         {"firmware", b.firmware == bootloader::BootMode::unknown ? "" : bootloader::to_string(b.firmware)},
         {"config", b.config},
         {"location", b.location}});
  out["boot_menus"] = ordered_json::array();
  for (const BootMenu& menu : facts.boot_menus)
    out["boot_menus"].push_back({{"store", menu.store},
                                 {"location", menu.location},
                                 {"entries", menu.entries},
                                 {"timeout", optional_number(menu.timeout)},
                                 {"default", menu.default_entry},
                                 {"hypervisor_launch", optional_number(menu.hypervisor_launch)},
                                 {"error", menu.error}});
  out["network"] = network_json(facts);
  out["hypervisor_tools"] = ordered_json::array();
  for (const auto& t : facts.hypervisor_tools)
    out["hypervisor_tools"].push_back({{"name", t.name}, {"form", t.form}, {"evidence", t.evidence}});
  if (facts.os_type == "windows") out["windows"] = windows_json(facts.windows);
  if (facts.os_type == "linux") out["linux"] = linux_json(facts.linux);
  out["os_count"] = facts.os_count;
  out["packages_count"] = facts.packages_known ? ordered_json(facts.packages.size()) : ordered_json(nullptr);
  out["notes"] = facts.notes;
  return out;
}

std::string render_text(const Facts& facts) {
  std::string out;
  auto line = [&](std::string_view key, std::string_view value) {
    if (!value.empty()) out += fmt::format("{:<14} {}\n", key, value);
  };
  line("OS", fmt::format("{} / {} / {} (version {}, minor {})", facts.os_type, facts.distro, facts.arch,
                         facts.major_version, facts.minor_version));
  line("Product", facts.product_name);
  line("Hostname", facts.hostname);
  line("Root", facts.root_device);
  line("Packages",
       facts.package_format.empty() ? ""
       : facts.packages_known
           ? fmt::format("{} ({}), {} installed", facts.package_format, facts.package_management, facts.packages.size())
           : fmt::format("{} ({}), package database unreadable", facts.package_format, facts.package_management));
  if (!facts.windows_current_control_set.empty()) line("Control set", facts.windows_current_control_set);
  line("Boot mode", fmt::format("{} ({})", bootloader::to_string(facts.boot_mode), facts.boot_mode_evidence));
  for (const auto& b : facts.bootloaders)
    line("Boot loader",
         fmt::format(
             "{}{} {}{}", b.kind,
             b.firmware == bootloader::BootMode::unknown ? "" : fmt::format(" [{}]", bootloader::to_string(b.firmware)),
             b.config, b.location.empty() ? "" : " on " + b.location));
  if (facts.os_type == "windows") {
    line("Edition", fmt::format("{} {} build {}", facts.windows.edition_id, facts.windows.installation_type,
                                facts.windows.current_build));
    line(".NET", fmt::format("{}", fmt::join(facts.windows.dotnet, ", ")));
  }
  if (facts.os_type == "linux" && facts.linux.boot && facts.linux.boot->default_entry)
    line("Default boot", facts.linux.boot->entries[*facts.linux.boot->default_entry].title);
  for (const auto& k : facts.linux.kernels)
    line("Kernel", fmt::format("{} {}", k.version, k.initrd.empty() ? "(no initrd)" : k.initrd));
  out += "\nDisks\n";
  for (const auto& disk : facts.disks) {
    out += fmt::format("  {} {} {} ({})\n", disk.device, disk.partition_table, human_size(disk.size), disk.source);
    for (const auto& p : disk.partitions)
      out += fmt::format("    {:<10} {:>10} {:<38} {}{}\n", p.device, human_size(p.size), p.type, p.role,
                         p.bootable ? " *active" : "");
  }
  out += "\nFilesystems\n";
  for (const auto& fs : facts.filesystems)
    out += fmt::format("  {:<10} {:<6} {:>10} {:>10} free  {:<12} {}\n", fs.device, fs.type,
                       fs.size ? human_size(*fs.size) : "-", fs.free ? human_size(*fs.free) : "-",
                       fs.mountpoint.empty() ? "-" : fs.mountpoint, fs.label);
  out += "\nNetwork\n";
  if (facts.network.empty()) out += "  (no configuration found)\n";
  for (const auto& n : facts.network)
    out += fmt::format("  {:<16} {:<12} {:<7} {}{} [{}]\n", n.stack, n.interface, n.method, fmt::join(n.addresses, ","),
                       n.mac_binding.empty() ? "" : " mac " + n.mac_binding, n.file);
  out += "\nHypervisor tools\n";
  if (facts.hypervisor_tools.empty()) out += "  (none)\n";
  for (const auto& t : facts.hypervisor_tools) out += fmt::format("  {:<14} {:<16} {}\n", t.name, t.form, t.evidence);
  if (!facts.notes.empty()) {
    out += "\nNotes\n";
    for (const auto& note : facts.notes) out += fmt::format("  {}\n", note);
  }
  return out;
}

}  // namespace vmfix::inspect

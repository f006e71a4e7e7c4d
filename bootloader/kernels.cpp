#include "bootloader/kernels.h"

#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <map>

#include "bootloader/grub_edit.h"
#include "support/text.h"

namespace vmfix::bootloader {

using guest::join_path;

namespace {

constexpr std::string_view kKernelPrefixes[] = {"vmlinuz-", "kernel-", "bzImage-"};

std::string initrd_for(guest::Guest& guest, const std::string& version) {
  for (const std::string& name :
       {"initrd.img-" + version, "initramfs-" + version + ".img", "initrd-" + version + ".img", "initrd-" + version})
    if (guest.is_file("/boot/" + name)) return "/boot/" + name;
  return "";
}

// The first quoted word of a menuentry/submenu line, and the --id / $menuentry_id_option word.
std::vector<std::string> quoted_words(std::string_view line) {
  std::vector<std::string> words;
  for (size_t i = 0; i < line.size(); ++i) {
    if (line[i] != '\'' && line[i] != '"') continue;
    size_t end = line.find(line[i], i + 1);
    if (end == std::string_view::npos) break;
    words.emplace_back(line.substr(i + 1, end - i - 1));
    i = end;
  }
  return words;
}

std::string first_word(std::string_view text) {
  text = trim(text);
  return std::string(text.substr(0, text.find_first_of(" \t")));
}

std::string rest_after_word(std::string_view text) {
  text = trim(text);
  size_t space = text.find_first_of(" \t");
  return space == std::string_view::npos ? "" : std::string(trim(text.substr(space)));
}

std::map<std::string, std::string> read_grubenv(guest::Guest& guest, const std::string& directory) {
  auto block = guest.read_if_exists(join_path(directory, "grubenv"));
  return block ? parse_grubenv(*block) : std::map<std::string, std::string>{};
}

// Chooses the default from GRUB's "default" value: an index ("0", "1>2"), an entry id or title.
void choose_default(BootConfig& boot, const std::vector<std::string>& index_paths, const std::string& value,
                    const std::string& how) {
  for (size_t i = 0; i < boot.entries.size(); ++i) {
    if (index_paths[i] == value || boot.entries[i].title == value ||
        (!boot.entries[i].id.empty() && boot.entries[i].id == value)) {
      boot.default_entry = i;
      boot.default_evidence = fmt::format("{} '{}' is entry '{}'", how, value, boot.entries[i].title);
      return;
    }
  }
  boot.default_evidence = fmt::format("{} '{}' matches no boot entry", how, value);
}

BootConfig read_bls(guest::Guest& guest, const std::string& grub_cfg, const std::map<std::string, std::string>& env) {
  BootConfig boot{"bls", "/boot/loader/entries", {}, std::nullopt, ""};
  for (const std::string& file : guest.files_in("/boot/loader/entries", ".conf")) {
    BootEntry entry;
    std::string name = file.substr(file.rfind('/') + 1);
    entry.id = name.substr(0, name.size() - 5);
    std::string version;
    const std::string text = guest.read(file);
    for (std::string_view line : split_lines(text)) {
      std::string key = first_word(line), value = rest_after_word(line);
      if (key == "title")
        entry.title = value;
      else if (key == "version")
        version = value;
      else if (key == "linux")
        entry.kernel = value;
      else if (key == "initrd")
        entry.initrd = first_word(value);
      else if (key == "options")
        entry.options = value;
    }
    if (entry.options == "$kernelopts" && env.count("kernelopts")) entry.options = env.at("kernelopts");
    if (entry.title.empty()) entry.title = version.empty() ? entry.id : version;
    boot.entries.push_back(std::move(entry));
  }
  // grub's blscfg lists entries newest first.
  std::sort(boot.entries.begin(), boot.entries.end(),
            [](const BootEntry& a, const BootEntry& b) { return version_less(b.id, a.id); });
  for (size_t i = 0; i < boot.entries.size(); ++i) boot.entries[i].path = std::to_string(i);
  auto saved = env.find("saved_entry");
  if (saved == env.end() || saved->second.empty()) {
    boot.default_evidence = fmt::format("{} uses BLS entries and grubenv has no saved_entry", grub_cfg);
    return boot;
  }
  std::vector<std::string> index_paths;
  for (size_t i = 0; i < boot.entries.size(); ++i) index_paths.push_back(boot.entries[i].path = std::to_string(i));
  choose_default(boot, index_paths, saved->second, "grubenv saved_entry");
  return boot;
}

BootConfig read_grub2(guest::Guest& guest, const std::string& config) {
  const std::string directory = config.substr(0, config.rfind('/'));
  const auto env = read_grubenv(guest, directory);
  const std::string text = guest.read(config);
  BootConfig boot{"grub2", config, {}, std::nullopt, ""};
  std::vector<std::string> index_paths;
  enum class Block { entry, submenu, other };
  std::vector<Block> blocks;     // open { } blocks
  std::vector<int> counters{0};  // next entry index, per menu level
  std::vector<int> prefix;       // indices of the enclosing submenus
  std::string default_value;
  bool uses_bls = false;
  for (std::string_view raw : split_lines(text)) {
    std::string_view line = trim(raw);
    if (line.empty() || line.front() == '#') continue;
    std::string word = first_word(line);
    if (word == "menuentry" || word == "submenu") {
      auto words = quoted_words(line);
      std::string path;
      for (int index : prefix) path += std::to_string(index) + ">";
      path += std::to_string(counters.back());
      if (word == "submenu") {
        prefix.push_back(counters.back()++);
        counters.push_back(0);
        blocks.push_back(Block::submenu);
        continue;
      }
      counters.back()++;
      BootEntry entry;
      entry.title = words.empty() ? "" : words.front();
      if (words.size() > 1) entry.id = words.back();
      entry.path = path;
      boot.entries.push_back(std::move(entry));
      index_paths.push_back(path);
      blocks.push_back(Block::entry);
      continue;
    }
    if (line == "}") {
      if (!blocks.empty() && blocks.back() == Block::submenu) {
        prefix.pop_back();
        counters.pop_back();
      }
      if (!blocks.empty()) blocks.pop_back();
      continue;
    }
    if (line.back() == '{') {  // function and other blocks are not menu levels
      blocks.push_back(Block::other);
      continue;
    }
    bool in_entry = !blocks.empty() && blocks.back() == Block::entry;
    if (in_entry && (word == "linux" || word == "linux16" || word == "linuxefi")) {
      std::string rest = rest_after_word(line);
      boot.entries.back().kernel = first_word(rest);
      boot.entries.back().options = rest_after_word(rest);
    } else if (in_entry && (word == "initrd" || word == "initrd16" || word == "initrdefi")) {
      boot.entries.back().initrd = first_word(rest_after_word(line));
    } else if (word == "blscfg") {
      uses_bls = true;
    } else if (word == "set" && starts_with_icase(rest_after_word(line), "default=")) {
      std::string value = unquote(rest_after_word(line).substr(8));
      if (value != "${next_entry}") default_value = value;
    }
  }
  if (uses_bls && boot.entries.empty()) return read_bls(guest, config, env);
  if (default_value.empty()) default_value = "0";
  std::string how = fmt::format("{} default", config);
  if (default_value == "${saved_entry}") {
    auto saved = env.find("saved_entry");
    default_value = saved == env.end() || saved->second.empty() ? "0" : saved->second;
    how = saved == env.end() ? "no saved_entry in grubenv; default" : "grubenv saved_entry";
  }
  choose_default(boot, index_paths, default_value, how);
  return boot;
}

BootConfig read_grub_legacy(guest::Guest& guest, const std::string& config) {
  BootConfig boot{"grub-legacy", config, {}, std::nullopt, ""};
  std::string default_value = "0";
  const std::string text = guest.read(config);
  for (std::string_view raw : split_lines(text)) {
    std::string_view line = trim(raw);
    if (line.empty() || line.front() == '#') continue;
    std::string word = first_word(line), rest = rest_after_word(line);
    if (size_t eq = word.find('='); eq != std::string::npos) {  // "default=1" as anaconda writes it
      rest = word.substr(eq + 1);
      word = word.substr(0, eq);
    }
    if (word == "default")
      default_value = rest;
    else if (word == "title")
      boot.entries.push_back({rest, "", "", "", "", ""});
    else if (word == "kernel" && !boot.entries.empty()) {
      boot.entries.back().kernel = first_word(rest);
      boot.entries.back().options = rest_after_word(rest);
    } else if (word == "initrd" && !boot.entries.empty()) {
      boot.entries.back().initrd = first_word(rest);
    }
  }
  if (default_value == "saved") {
    std::string directory = config.substr(0, config.rfind('/'));
    auto saved = guest.read_if_exists(join_path(directory, "default"));
    default_value = saved ? first_word(*saved) : "0";
  }
  std::vector<std::string> index_paths;
  for (size_t i = 0; i < boot.entries.size(); ++i) index_paths.push_back(boot.entries[i].path = std::to_string(i));
  choose_default(boot, index_paths, default_value, fmt::format("{} default", config));
  return boot;
}

}  // namespace

std::string kernel_version_of(const std::string& path) {
  std::string name = path.substr(path.rfind('/') + 1);
  for (std::string_view prefix : kKernelPrefixes)
    if (name.size() > prefix.size() && name.compare(0, prefix.size(), prefix) == 0) {
      std::string version = name.substr(prefix.size());
      if (version.find("rescue") != std::string::npos) return "";
      if (version.size() > 4 && version.compare(version.size() - 4, 4, ".img") == 0) return "";
      return std::isdigit(static_cast<unsigned char>(version.front())) ? version : "";
    }
  return "";
}

std::vector<Kernel> installed_kernels(guest::Guest& guest) {
  std::vector<Kernel> kernels;
  if (!guest.is_dir("/boot")) return kernels;
  for (const std::string& name : guest.ls("/boot")) {
    std::string version = kernel_version_of(name);
    if (version.empty() || !guest.is_file("/boot/" + name)) continue;
    kernels.push_back({version, "/boot/" + name, initrd_for(guest, version), guest.is_dir("/lib/modules/" + version)});
  }
  std::sort(kernels.begin(), kernels.end(),
            [](const Kernel& a, const Kernel& b) { return version_less(b.version, a.version); });
  return kernels;
}

std::optional<BootConfig> read_boot_config(guest::Guest& guest, const std::vector<Bootloader>& loaders) {
  for (const Bootloader& loader : loaders) {
    if (!loader.location.empty()) continue;  // the OS's own tree only
    if (loader.kind == "grub2" && loader.firmware != BootMode::uefi) return read_grub2(guest, loader.config);
    if (loader.kind == "grub2" && guest.read(loader.config).find("menuentry") != std::string::npos)
      return read_grub2(guest, loader.config);  // a full config on the ESP (RHEL 7 style)
    if (loader.kind == "grub-legacy") return read_grub_legacy(guest, loader.config);
  }
  // RHEL 9 style: a stub grub.cfg on the ESP, BLS entries and grubenv under /boot.
  for (const Bootloader& loader : loaders)
    if (loader.kind == "bls" && loader.location.empty()) {
      for (const char* directory : {"/boot/grub2", "/boot/grub"})
        if (guest.is_file(join_path(directory, "grubenv")))
          return read_bls(guest, loader.config, read_grubenv(guest, directory));
      return read_bls(guest, loader.config, {});
    }
  return std::nullopt;
}

std::string resolve_boot_path(guest::Guest& guest, const std::string& path) {
  std::string file = path;
  if (!file.empty() && file.front() == '(') {  // "(hd0,msdos1)/vmlinuz"
    size_t close = file.find(')');
    file = close == std::string::npos ? "" : file.substr(close + 1);
  }
  if (file.empty() || file.front() != '/') return "";
  if (guest.is_file(file)) return file;
  if (guest.is_file("/boot" + file)) return "/boot" + file;
  return "";
}

}  // namespace vmfix::bootloader

#include "bootloader/initramfs.h"

#include <fmt/core.h>

#include <algorithm>
#include <set>

#include "bootloader/kernels.h"
#include "support/decompress.h"
#include "support/error.h"
#include "support/text.h"

namespace vmfix::bootloader {

namespace {

bool has_magic(std::string_view data, std::string_view magic) { return data.substr(0, magic.size()) == magic; }

uint64_t hex_field(std::string_view header, size_t index) {
  uint64_t value = 0;
  for (char c : header.substr(6 + index * 8, 8)) {
    int digit = std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
                : (c >= 'a' && c <= 'f')                    ? c - 'a' + 10
                : (c >= 'A' && c <= 'F')                    ? c - 'A' + 10
                                                            : -1;
    if (digit < 0) throw BadInput("initramfs: damaged cpio header");
    value = value * 16 + static_cast<uint64_t>(digit);
  }
  return value;
}

size_t align4(size_t value) { return (value + 3) & ~size_t{3}; }

// One newc archive from `at`; returns where it ends (after TRAILER!!!).
size_t read_cpio(std::string_view data, size_t at, std::vector<std::string>& files) {
  constexpr size_t kHeader = 110;
  while (true) {
    if (at > data.size() || data.size() - at < kHeader ||
        (!has_magic(data.substr(at), "070701") && !has_magic(data.substr(at), "070702")))
      throw BadInput("initramfs: a cpio archive ends without its trailer");
    std::string_view header = data.substr(at, kHeader);
    uint64_t file_size = hex_field(header, 6), name_size = hex_field(header, 11);
    if (name_size == 0 || name_size > data.size() - at - kHeader) throw BadInput("initramfs: damaged cpio entry name");
    std::string name(data.substr(at + kHeader, name_size - 1));
    size_t data_at = align4(at + kHeader + name_size);
    if (file_size > data.size() || data_at > data.size() - file_size)
      throw BadInput("initramfs: a cpio entry runs past the archive");
    at = align4(data_at + file_size);
    if (name == "TRAILER!!!") return std::min(at, data.size());
    while (name.starts_with("./")) name.erase(0, 2);
    while (name.starts_with("/")) name.erase(0, 1);
    files.push_back(std::move(name));
  }
}

void read_archives(std::string_view data, InitramfsListing& listing, size_t limit, int depth) {
  size_t at = 0;
  while (true) {
    while (at < data.size() && data[at] == '\0') ++at;  // padding between archives
    if (at >= data.size()) return;
    std::string_view rest = data.substr(at);
    if (has_magic(rest, "0707")) {
      if (depth == 0) listing.compressions.push_back("none");
      at = read_cpio(data, at, listing.files);
      continue;
    }
    if (depth > 0) throw BadInput("initramfs: a compressed archive inside a compressed archive");
    if (has_magic(rest, "BZh")) throw BadInput("initramfs: bzip2 compression is not read");
    const auto kind = compression_of(rest);
    if (!kind) throw BadInput("initramfs: neither a cpio archive nor a known compression");
    std::string plain = decompress(*kind, rest, limit, "initramfs");
    listing.compressions.emplace_back(compression_name(*kind));
    read_archives(plain, listing, limit, depth + 1);
    return;  // a compressed stream runs to the end of the image
  }
}

std::string normalized(std::string_view module) {
  std::string name(module);
  std::replace(name.begin(), name.end(), '_', '-');
  return name;
}

// The names of the modules listed in a modules.builtin or modules.dep file (first field of each line).
std::set<std::string> module_names(std::string_view text) {
  std::set<std::string> names;
  for (std::string_view line : split_lines(text)) {
    std::string_view path = line.substr(0, line.find(':'));
    if (std::string name = module_name_of(path); !name.empty()) names.insert(normalized(name));
  }
  return names;
}

}  // namespace

InitramfsListing list_initramfs(std::string_view image, size_t limit) {
  InitramfsListing listing;
  if (image.empty()) throw BadInput("initramfs: the file is empty");
  read_archives(image, listing, limit, 0);
  return listing;
}

const std::vector<Driver>& ec2_drivers() {
  static const std::vector<Driver> drivers = {
      {"xen-blkfront", "CONFIG_XEN_BLKDEV_FRONTEND", true},
      {"nvme", "CONFIG_BLK_DEV_NVME", true},
      {"xen-netfront", "CONFIG_XEN_NETDEV_FRONTEND", false},
      {"ena", "CONFIG_ENA_ETHERNET", false},
  };
  return drivers;
}

std::string module_name_of(std::string_view path) {
  std::string_view name = path.substr(path.rfind('/') == std::string_view::npos ? 0 : path.rfind('/') + 1);
  for (std::string_view suffix : {".ko", ".ko.xz", ".ko.zst", ".ko.gz"})
    if (name.size() > suffix.size() && name.ends_with(suffix))
      return std::string(name.substr(0, name.size() - suffix.size()));
  return "";
}

std::vector<DriverState> ec2_driver_states(guest::Guest& guest, const std::string& version,
                                           const std::vector<std::string>& initramfs_files) {
  const std::string modules_dir = "/lib/modules/" + version;
  const std::string config_file = "/boot/config-" + version;
  const auto config = guest.read_if_exists(config_file);
  const std::set<std::string> builtin =
      module_names(guest.read_if_exists(modules_dir + "/modules.builtin").value_or(""));
  const auto dep = guest.read_if_exists(modules_dir + "/modules.dep");
  const std::set<std::string> installed = module_names(dep.value_or(""));
  std::set<std::string> packed;
  for (const std::string& file : initramfs_files)
    if (std::string name = module_name_of(file); !name.empty()) packed.insert(normalized(name));

  std::vector<DriverState> states;
  for (const Driver& driver : ec2_drivers()) {
    DriverState state{driver.module, "", ""};
    std::string setting;
    if (config)
      for (std::string_view line : split_lines(*config))
        if (line.starts_with(driver.config + "=")) setting = std::string(line.substr(driver.config.size() + 1));
    if (setting == "y" || builtin.count(driver.module)) {
      state.state = "built-in";
      state.evidence =
          setting == "y" ? fmt::format("{}: {}=y", config_file, driver.config) : modules_dir + "/modules.builtin";
    } else if (!installed.count(driver.module)) {
      state.state = "absent";
      state.evidence =
          dep ? fmt::format("not built in ({}) and not in {}/modules.dep",
                            config ? driver.config + (setting.empty() ? " unset" : "=" + setting) : "no " + config_file,
                            modules_dir)
              : fmt::format("{}/modules.dep is missing", modules_dir);
    } else if (!driver.for_root) {
      state.state = "module";
      state.evidence = modules_dir + "/modules.dep";
    } else if (packed.count(driver.module)) {
      state.state = "in-initramfs";
    } else {
      state.state = "not-in-initramfs";
      state.evidence =
          fmt::format("{} is a module ({}/modules.dep) that the initramfs does not hold", driver.module, modules_dir);
    }
    states.push_back(std::move(state));
  }
  return states;
}

std::string nvme_timeout_argument(guest::Guest& guest, const std::string& version) {
  const std::string modules_dir = "/lib/modules/" + version;
  std::set<std::string> drivers = module_names(guest.read_if_exists(modules_dir + "/modules.builtin").value_or(""));
  drivers.merge(module_names(guest.read_if_exists(modules_dir + "/modules.dep").value_or("")));
  const std::string config = guest.read_if_exists("/boot/config-" + version).value_or("");
  auto configured = [&](std::string_view option) {
    for (std::string_view line : split_lines(config))
      if (line == fmt::format("{}=y", option) || line == fmt::format("{}=m", option)) return true;
    return false;
  };
  if (!drivers.count("nvme") && !configured("CONFIG_BLK_DEV_NVME")) return "";
  // nvme_core became a module of its own in 4.6 (some distributions backported it); its
  // io_timeout was a byte until 4.15.
  const bool core = drivers.count("nvme-core") || configured("CONFIG_NVME_CORE") || !version_less(version, "4.6");
  const std::string value = version_less(version, "4.15") ? "255" : "4294967295";
  return (core ? "nvme_core.io_timeout=" : "nvme.io_timeout=") + value;
}

}  // namespace vmfix::bootloader

#include "bootloader/initramfs.h"

#include <fmt/core.h>
#include <lz4.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <set>

#include "bootloader/kernels.h"
#include "support/error.h"
#include "support/text.h"

namespace vmfix::bootloader {

namespace {

constexpr size_t kChunk = size_t{1} << 20;

bool has_magic(std::string_view data, std::string_view magic) { return data.substr(0, magic.size()) == magic; }

void grow(std::string& out, size_t limit) {
  if (out.size() >= limit) throw BadInput(fmt::format("initramfs: more than {} MiB once decompressed", limit >> 20));
}

std::string gunzip(std::string_view in, size_t limit) {
  std::string out;
  z_stream z{};
  if (inflateInit2(&z, 15 + 32) != Z_OK) throw Error("zlib: cannot initialise");
  struct End {
    z_stream& z;
    ~End() { inflateEnd(&z); }
  } end{z};
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(std::min<size_t>(in.size(), UINT32_MAX));
  int status = Z_OK;
  while (true) {
    size_t used = out.size();
    out.resize(used + kChunk);
    z.next_out = reinterpret_cast<Bytef*>(out.data() + used);
    z.avail_out = kChunk;
    status = inflate(&z, Z_NO_FLUSH);
    out.resize(used + kChunk - z.avail_out);
    grow(out, limit);
    if (status == Z_STREAM_END) {
      // gzip members may follow one another; zero padding or anything else ends the stream.
      if (z.avail_in < 2 || z.next_in[0] != 0x1f || z.next_in[1] != 0x8b) break;
      inflateReset(&z);
      continue;
    }
    if (status != Z_OK && status != Z_BUF_ERROR) break;
    if (status == Z_BUF_ERROR && z.avail_in == 0) break;
  }
  if (status != Z_STREAM_END && out.empty()) throw BadInput("initramfs: damaged gzip data");
  return out;
}

std::string unxz(std::string_view in, bool lzma_alone, size_t limit) {
  std::string out;
  lzma_stream s = LZMA_STREAM_INIT;
  // The header names the dictionary size, up to 4 GiB; what initramfs tools write needs at most
  // 64 MiB (xz -9). A crafted header must not make liblzma allocate gigabytes.
  constexpr uint64_t kMemoryLimit = uint64_t{256} << 20;
  lzma_ret ret =
      lzma_alone ? lzma_alone_decoder(&s, kMemoryLimit) : lzma_stream_decoder(&s, kMemoryLimit, LZMA_CONCATENATED);
  if (ret != LZMA_OK) throw Error("liblzma: cannot initialise");
  struct End {
    lzma_stream& s;
    ~End() { lzma_end(&s); }
  } end{s};
  s.next_in = reinterpret_cast<const uint8_t*>(in.data());
  s.avail_in = in.size();
  while (true) {
    size_t used = out.size();
    out.resize(used + kChunk);
    s.next_out = reinterpret_cast<uint8_t*>(out.data() + used);
    s.avail_out = kChunk;
    ret = lzma_code(&s, s.avail_in == 0 ? LZMA_FINISH : LZMA_RUN);
    out.resize(used + kChunk - s.avail_out);
    if (ret == LZMA_STREAM_END) break;
    if (ret == LZMA_MEMLIMIT_ERROR)
      throw BadInput(
          fmt::format("initramfs: xz/lzma data that needs more than {} MiB to decompress", kMemoryLimit >> 20));
    if (ret != LZMA_OK) break;  // trailing padding after the stream, or damage
    grow(out, limit);
  }
  if (ret != LZMA_STREAM_END && out.empty()) throw BadInput("initramfs: damaged xz/lzma data");
  return out;
}

std::string unzstd(std::string_view in, size_t limit) {
  std::string out;
  std::unique_ptr<ZSTD_DStream, decltype(&ZSTD_freeDStream)> stream(ZSTD_createDStream(), ZSTD_freeDStream);
  if (!stream) throw Error("zstd: cannot initialise");
  ZSTD_inBuffer input{in.data(), in.size(), 0};
  size_t status = 0;
  bool full = false;  // the last call filled its buffer: the decoder may hold more output
  while (input.pos < input.size || full) {
    size_t used = out.size();
    out.resize(used + kChunk);
    ZSTD_outBuffer output{out.data() + used, kChunk, 0};
    status = ZSTD_decompressStream(stream.get(), &output, &input);
    out.resize(used + output.pos);
    if (ZSTD_isError(status)) break;  // padding after the last frame, or damage
    full = output.pos == kChunk;
    grow(out, limit);
  }
  if (ZSTD_isError(status) && out.empty())
    throw BadInput(fmt::format("initramfs: damaged zstd data ({})", ZSTD_getErrorName(status)));
  return out;
}

uint32_t le32(std::string_view data, size_t at) {
  uint32_t value = 0;
  std::memcpy(&value, data.data() + at, 4);
  return value;
}

// The lz4 "legacy" format the kernel reads: a magic, then blocks of at most 8 MiB, each after its
// compressed size.
std::string unlz4_legacy(std::string_view in, size_t limit) {
  constexpr uint32_t kMagic = 0x184C2102;
  constexpr int kBlock = 8 << 20;
  std::string out;
  size_t at = 4;
  while (at + 4 <= in.size()) {
    uint32_t size = le32(in, at);
    at += 4;
    if (size == kMagic) continue;
    if (size == 0 || size > in.size() - at || size > static_cast<uint32_t>(LZ4_compressBound(kBlock))) break;
    size_t used = out.size();
    out.resize(used + kBlock);
    int made = LZ4_decompress_safe(in.data() + at, out.data() + used, static_cast<int>(size), kBlock);
    if (made < 0) throw BadInput("initramfs: damaged lz4 data");
    out.resize(used + static_cast<size_t>(made));
    at += size;
    grow(out, limit);
  }
  return out;
}

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
    std::string plain, kind;
    if (has_magic(rest, "\x1f\x8b"))
      kind = "gzip", plain = gunzip(rest, limit);
    else if (has_magic(rest,
                       "\xfd"
                       "7zXZ"))
      kind = "xz", plain = unxz(rest, false, limit);
    else if (has_magic(rest, std::string_view("\x5d\x00\x00", 3)))
      kind = "lzma", plain = unxz(rest, true, limit);
    else if (has_magic(rest, "\x28\xb5\x2f\xfd"))
      kind = "zstd", plain = unzstd(rest, limit);
    else if (has_magic(rest, "\x02\x21\x4c\x18"))
      kind = "lz4", plain = unlz4_legacy(rest, limit);
    else if (has_magic(rest, "BZh"))
      throw BadInput("initramfs: bzip2 compression is not read");
    else
      throw BadInput("initramfs: neither a cpio archive nor a known compression");
    listing.compressions.push_back(kind);
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

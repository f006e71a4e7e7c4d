#include "guest/appliance_kernel.h"

#include <fmt/core.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <system_error>
#include <vector>

#include "support/decompress.h"
#include "support/error.h"
#include "support/files.h"
#include "support/text.h"

namespace vmfix::guest {

namespace fs = std::filesystem;

namespace {

template <typename T>
T little_endian(std::string_view data, uint64_t at) {
  T value{};
  if (at > data.size() || data.size() - at < sizeof(T)) return value;
  std::memcpy(&value, data.data() + at, sizeof(T));
  return value;
}

uint64_t align4(uint64_t value) { return (value + 3) & ~uint64_t{3}; }

bool regular_file(const fs::path& path) {
  std::error_code error;
  return fs::is_regular_file(path, error);
}

// A kernel file, when its modules are there to go with it.
std::optional<HostKernel> candidate(const fs::path& root, const fs::path& file, const std::string& version) {
  const fs::path modules = root / "lib/modules" / version;
  if (version.empty() || !regular_file(file) || !regular_file(modules / "modules.dep")) return std::nullopt;
  return HostKernel{file, version, modules};
}

std::optional<HostKernel> newest(std::vector<HostKernel> kernels) {
  if (kernels.empty()) return std::nullopt;
  return *std::max_element(kernels.begin(), kernels.end(),
                           [](const HostKernel& a, const HostKernel& b) { return version_less(a.version, b.version); });
}

std::vector<fs::path> entries(const fs::path& directory) {
  std::vector<fs::path> found;
  std::error_code error;
  for (fs::directory_iterator it(directory, error), end; !error && it != end; it.increment(error))
    found.push_back(it->path());
  return found;
}

}  // namespace

std::optional<HostKernel> pick_host_kernel(const fs::path& root) {
  std::vector<HostKernel> beside_modules, in_boot;
  for (const fs::path& directory : entries(root / "lib/modules"))
    if (auto kernel = candidate(root, directory / "vmlinuz", directory.filename().string()))
      beside_modules.push_back(*kernel);
  if (!beside_modules.empty()) return newest(beside_modules);
  for (const fs::path& file : entries(root / "boot")) {
    const std::string name = file.filename().string();
    if (!name.starts_with("vmlinuz-") || name.find("xen") != std::string::npos) continue;
    if (auto kernel = candidate(root, file, name.substr(8))) in_boot.push_back(*kernel);
  }
  return newest(in_boot);
}

bool has_pvh_entry(std::string_view elf) {
  constexpr uint16_t kX86_64 = 62;
  constexpr uint32_t kNoteSegment = 4, kPhys32Entry = 18;
  if (elf.size() < 64 ||
      elf.substr(0, 4) !=
          "\x7f"
          "ELF" ||
      elf[4] != 2 || elf[5] != 1 || little_endian<uint16_t>(elf, 18) != kX86_64)
    return false;
  const uint64_t table = little_endian<uint64_t>(elf, 32);
  const uint16_t entry_size = little_endian<uint16_t>(elf, 54), count = little_endian<uint16_t>(elf, 56);
  if (entry_size < 56) return false;
  for (uint16_t i = 0; i < count; ++i) {
    const uint64_t header = table + uint64_t{i} * entry_size;
    if (header > elf.size() || elf.size() - header < 56) return false;
    if (little_endian<uint32_t>(elf, header) != kNoteSegment) continue;
    const uint64_t start = little_endian<uint64_t>(elf, header + 8), size = little_endian<uint64_t>(elf, header + 32);
    if (start > elf.size() || size > elf.size() - start) return false;
    const std::string_view notes = elf.substr(start, size);
    for (uint64_t at = 0; at + 12 <= notes.size();) {
      const uint64_t name_size = little_endian<uint32_t>(notes, at), desc_size = little_endian<uint32_t>(notes, at + 4);
      const uint32_t type = little_endian<uint32_t>(notes, at + 8);
      if (name_size > notes.size() || desc_size > notes.size()) break;
      if (name_size == 4 && notes.substr(at + 12, 4) == std::string_view("Xen\0", 4) && type == kPhys32Entry)
        return true;
      at += 12 + align4(name_size) + align4(desc_size);
    }
  }
  return false;
}

std::string uncompressed_kernel(std::string_view bzimage, size_t limit) {
  // The x86 boot protocol (Documentation/arch/x86/boot.rst): the setup header at 0x1f1; from
  // version 2.08 it says where the compressed payload lies in the protected-mode part.
  if (bzimage.size() < 0x250 || bzimage.substr(0x202, 4) != "HdrS" || little_endian<uint16_t>(bzimage, 0x206) < 0x208)
    throw BadInput("kernel: not a bzImage of boot protocol 2.08 or later");
  const uint8_t setup_sectors = static_cast<uint8_t>(bzimage[0x1f1]);
  const uint64_t protected_mode = (uint64_t{setup_sectors == 0 ? 4u : setup_sectors} + 1) * 512;
  const uint64_t start = protected_mode + little_endian<uint32_t>(bzimage, 0x248);
  const uint64_t length = little_endian<uint32_t>(bzimage, 0x24c);
  if (length < 4 || start > bzimage.size() || length > bzimage.size() - start)
    throw BadInput("kernel: the payload lies outside the file");
  const std::string_view payload = bzimage.substr(start, length);
  const auto kind = compression_of(payload);
  if (!kind) throw BadInput("kernel: a payload compressed in a way vmfix does not read");
  std::string elf = decompress(*kind, payload, limit, "kernel");
  // Every payload ends with the size it decompresses to (gzip's own trailer, or one the kernel's
  // build appends to the others).
  const uint32_t recorded = little_endian<uint32_t>(payload, payload.size() - 4);
  if (static_cast<uint32_t>(elf.size()) != recorded)
    throw BadInput(fmt::format("kernel: the {} payload gave {} bytes, its trailer says {}", compression_name(*kind),
                               elf.size(), recorded));
  if (!has_pvh_entry(elf)) throw BadInput("kernel: not an x86-64 ELF image with a PVH entry point");
  return elf;
}

std::optional<ApplianceKernel> prepare_appliance_kernel(const fs::path& cache, std::string& why) {
  for (const char* variable : {"SUPERMIN_KERNEL", "SUPERMIN_KERNEL_VERSION", "SUPERMIN_MODULES"})
    if (const char* value = std::getenv(variable); value && *value) {
      why = fmt::format("{} is set", variable);
      return std::nullopt;
    }
  auto kernel = pick_host_kernel();
  if (!kernel) {
    why = "no kernel with its modules in /boot or /lib/modules";
    return std::nullopt;
  }
  try {
    const fs::path directory = cache / "appliance";
    // The name records which file it came from: a kernel package rebuilt under the same version
    // makes a new copy.
    struct stat source {};
    if (::stat(kernel->file.c_str(), &source) != 0) throw_errno(kernel->file.string());
    const fs::path vmlinux =
        directory / fmt::format("vmlinux-{}-{}-{}", kernel->version, source.st_size, source.st_mtim.tv_sec);
    if (!regular_file(vmlinux)) {
      std::string elf = uncompressed_kernel(read_host_file(kernel->file));
      fs::create_directories(directory);
      write_host_file_atomic(vmlinux, elf);
      for (const fs::path& old : entries(directory))
        if (old != vmlinux && old.filename().string().starts_with("vmlinux-")) {
          std::error_code ignored;
          fs::remove(old, ignored);
        }
    }
    return ApplianceKernel{*kernel, vmlinux, directory};
  } catch (const std::exception& error) {  // BadInput, or the cache cannot be written
    why = fmt::format("{}: {}", kernel->file.string(), error.what());
    return std::nullopt;
  }
}

}  // namespace vmfix::guest

#pragma once
// The appliance boots the host's kernel. Debian ships it as a bzImage with an xz payload, and
// under software emulation the kernel's own decompressor takes about 3 s of every launch. The
// same kernel uncompressed, an ELF vmlinux with a PVH entry note, is loaded by qemu as it is
// (0.4 s to the kernel's first line). vmfix keeps that copy, and an appliance supermin built with
// it, in its own cache: libguestfs's shared one stays as other tools expect it.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace vmfix::guest {

struct HostKernel {
  std::filesystem::path file;     // /boot/vmlinuz-6.1.0-28-amd64
  std::string version;            // 6.1.0-28-amd64
  std::filesystem::path modules;  // /lib/modules/6.1.0-28-amd64
};

// The newest kernel under `root` that has its modules (a modules.dep): /lib/modules/V/vmlinuz
// first, else /boot/vmlinuz-V (Xen-only kernels left out), as supermin looks for them.
std::optional<HostKernel> pick_host_kernel(const std::filesystem::path& root = "/");

// The ELF image a bzImage carries, decompressed (gzip, xz, lzma, zstd, lz4). Throws
// vmfix::BadInput when `bzimage` is no bzImage (boot protocol 2.08 or later), its payload does not
// decompress to the size its trailer records, or the result is not an x86-64 ELF with a PVH
// entry point, or when it would be more than `limit` bytes.
std::string uncompressed_kernel(std::string_view bzimage, size_t limit = size_t{1} << 30);

// Whether `elf` is an x86-64 ELF image with a Xen PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY), the
// kind qemu's -kernel loads without a decompressor.
bool has_pvh_entry(std::string_view elf);

struct ApplianceKernel {
  HostKernel kernel;
  std::filesystem::path vmlinux;   // the uncompressed copy
  std::filesystem::path cachedir;  // libguestfs's cache for the appliance built with it
};

// The uncompressed copy of the host kernel under `cache` (made once per kernel file, atomically,
// the copies of other kernels removed), with where its appliance is cached. Nothing, and `why`
// set, when the kernel cannot be had so; the appliance then boots the compressed one.
std::optional<ApplianceKernel> prepare_appliance_kernel(const std::filesystem::path& cache, std::string& why);

}  // namespace vmfix::guest

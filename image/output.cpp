#include "image/output.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>

#include "image/detect.h"
#include "support/error.h"
#include "support/files.h"
#include "support/process.h"

namespace vmfix::image {
namespace fs = std::filesystem;

namespace {

std::string extension_of(const std::string& format) {
  if (format == "vhd" || format == "vhd-fixed") return ".vhd";
  if (format == "raw") return ".img";
  return "." + format;
}

std::vector<std::string> convert_options(const std::string& format) {
  if (format == "vmdk") return {"-O", "vmdk", "-o", "subformat=streamOptimized"};
  // force_size keeps the exact size: without it qemu rounds VHDs to a CHS geometry.
  if (format == "vhd") return {"-O", "vpc", "-o", "subformat=dynamic,force_size=on"};
  if (format == "vhd-fixed") return {"-O", "vpc", "-o", "subformat=fixed,force_size=on"};
  if (format == "vhdx") return {"-O", "vhdx"};
  return {"-O", "raw"};
}

void fsync_path(const fs::path& path, bool directory) {
  int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0 || ::fsync(fd) != 0) {
    if (fd >= 0) ::close(fd);
    throw_errno(fmt::format("fsync {}", path.string()));
  }
  ::close(fd);
}

}  // namespace

OutputSpec choose_output(const VmSource& vm, const std::optional<std::string>& output,
                         const std::optional<std::string>& format) {
  OutputSpec spec;
  if (format) {
    if (*format == "ova") throw UsageError("OVA output is not built yet; choose vmdk, vhd, vhd-fixed, vhdx or raw");
    if (*format != "raw" && *format != "vhd" && *format != "vhd-fixed" && *format != "vhdx" && *format != "vmdk")
      throw UsageError(fmt::format("unknown output format '{}' (raw, vhd, vhd-fixed, vhdx, vmdk, ova)", *format));
    spec.format = *format;
  } else {
    switch (vm.disks.front().format) {
      case Format::raw: spec.format = "raw"; break;
      case Format::vhd: spec.format = vm.disks.front().variant == "fixed" ? "vhd-fixed" : "vhd"; break;
      case Format::vhdx: spec.format = "vhdx"; break;
      default: spec.format = "vmdk"; break;  // VMDK is always written streamOptimized; qcow2 is not accepted by AWS
    }
  }
  if (output) {
    spec.path = *output;
    if (fs::is_directory(spec.path)) throw UsageError(fmt::format("{}: is a directory; give a file name", *output));
  } else {
    spec.path = vm.path.parent_path() / (vm.path.stem().string() + "-vmfix" + extension_of(spec.format));
    if (fs::exists(spec.path))
      throw UsageError(fmt::format("{} exists; give -o to name the output (vmfix overwrites only what you name)",
                                   spec.path.string()));
  }
  // Never over any file the source reads: the image, its extents, the OVF's disks.
  std::vector<fs::path> sources{vm.path};
  for (const SourceImage& disk : vm.disks) {
    sources.push_back(disk.bytes.file);
    sources.insert(sources.end(), disk.extent_files.begin(), disk.extent_files.end());
  }
  for (const fs::path& source : sources)
    if (fs::exists(spec.path) && fs::exists(source) && fs::equivalent(spec.path, source))
      throw UsageError(fmt::format("the output would replace {}, which the source reads; use --in-place to edit "
                                   "the source", source.string()));
  return spec;
}

void write_output(const fs::path& overlay, const OutputSpec& output) {
  const fs::path directory = output.path.has_parent_path() ? output.path.parent_path() : fs::path(".");
  // Free space: what qemu-img says the converted image needs, against what the directory has.
  // qemu cannot measure VHD or VHDX: a sparse qcow2 (or a full raw image) stands in for them.
  const bool full = output.format == "raw" || output.format == "vhd-fixed";
  auto measure = nlohmann::json::parse(run_host_checked(
      {"qemu-img", "measure", "--output=json", "-O", full ? "raw" : "qcow2", overlay.string()}));
  struct statvfs st {};
  if (::statvfs(directory.c_str(), &st) == 0) {
    const uint64_t available = static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
    const uint64_t needed = measure.value("required", uint64_t{0});
    if (needed > available)
      throw Error(fmt::format("{}: {} MiB free, the output needs {} MiB", directory.string(), available >> 20, needed >> 20));
  }
  // A private directory beside the output (same filesystem, so the rename is atomic): nobody can
  // plant a link under the name qemu-img writes to.
  std::string private_dir = (directory / ".vmfix-partial-XXXXXX").string();
  if (::mkdtemp(private_dir.data()) == nullptr) throw_errno(fmt::format("cannot write in {}", directory.string()));
  const fs::path partial = fs::path(private_dir) / output.path.filename();
  try {
    std::vector<std::string> argv{"qemu-img", "convert", "-q", "-f", "qcow2"};
    for (std::string& option : convert_options(output.format)) argv.push_back(std::move(option));
    argv.push_back(overlay.string());
    argv.push_back(partial.string());
    run_host_checked(argv);
    fsync_path(partial, false);
    verify_output(partial, output.format);
    fs::rename(partial, output.path);
    fsync_path(directory, true);
    fs::remove(private_dir);
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(private_dir, ignored);
    throw;
  }
}

void verify_output(const fs::path& path, const std::string& format) {
  const std::string name = path.string();
  if (format == "vmdk") {
    std::string header = read_host_bytes(path, 0, 512);
    uint32_t version = 0, flags = 0;
    if (header.size() == 512) {
      std::memcpy(&version, header.data() + 4, 4);
      std::memcpy(&flags, header.data() + 8, 4);
    }
    if (header.compare(0, 4, "KDMV") != 0 || version != 3 || !(flags & (1u << 16)))
      throw Error(fmt::format("{}: written VMDK is not a streamOptimized VMDK (magic, version 3, compressed grains)", name));
  }
  // Our own reader: footer checksums, grain tables, truncation.
  SourceImage written = open_image(path);
  if (format.starts_with("vhd") && format != "vhdx" && written.format != Format::vhd)
    throw Error(fmt::format("{}: written image is not a VHD", name));
  if (format == "vmdk" || format == "vhdx")
    run_host_checked({"qemu-img", "check", "-q", "-f", format, name});
}

}  // namespace vmfix::image

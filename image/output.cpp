#include "image/output.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "image/detect.h"
#include "image/disk_reader.h"
#include "image/manifest.h"
#include "image/ova.h"
#include "image/ovf.h"
#include "image/stream_vmdk.h"
#include "support/error.h"
#include "support/files.h"
#include "support/interrupt.h"
#include "support/process.h"
#include "support/progress.h"
#include "support/unique_fd.h"

namespace vmfix::image {
namespace fs = std::filesystem;

namespace {

std::vector<std::string> convert_options(OutputFormat format) {
  // force_size keeps the exact size: without it qemu rounds VHDs to a CHS geometry.
  if (format == OutputFormat::vhd) return {"-O", "vpc", "-o", "subformat=dynamic,force_size=on"};
  if (format == OutputFormat::vhd_fixed) return {"-O", "vpc", "-o", "subformat=fixed,force_size=on"};
  if (format == OutputFormat::vhdx) return {"-O", "vhdx"};
  return {"-O", "raw"};
}

constexpr OutputFormat kWritable[] = {OutputFormat::raw,  OutputFormat::vhd,  OutputFormat::vhd_fixed,
                                      OutputFormat::vhdx, OutputFormat::vmdk, OutputFormat::ova};
bool streamed(OutputFormat format) { return format == OutputFormat::vmdk || format == OutputFormat::ova; }

void fsync_path(const fs::path& path, bool directory) {
  const UniqueFd fd(::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC));
  if (!fd.valid() || ::fsync(fd.get()) != 0) throw_errno(fmt::format("fsync {}", path.string()));
}

uint64_t virtual_size(const fs::path& image) {
  auto info =
      nlohmann::json::parse(run_host_checked({"qemu-img", "info", "--output=json", "-f", "qcow2", image.string()}));
  return info.value("virtual-size", uint64_t{0});
}

// A name for the members of an OVA: letters, digits, '.', '-' and '_', short enough for tar.
std::string member_stem(const fs::path& output) {
  std::string stem;
  for (char c : output.stem().string())
    stem += (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_') ? c : '_';
  if (stem.empty()) stem = "vm";
  return stem.substr(0, 80);
}

}  // namespace

std::string_view to_string(OutputFormat format) {
  switch (format) {
    case OutputFormat::raw:
      return "raw";
    case OutputFormat::qcow2:
      return "qcow2";
    case OutputFormat::vhd:
      return "vhd";
    case OutputFormat::vhd_fixed:
      return "vhd-fixed";
    case OutputFormat::vhdx:
      return "vhdx";
    case OutputFormat::vmdk:
      return "vmdk";
    case OutputFormat::ova:
      break;
  }
  return "ova";
}

OutputFormat output_format_named(std::string_view name) {
  std::string known;
  for (OutputFormat format : kWritable) {
    if (to_string(format) == name) return format;
    known += fmt::format("{}{}", known.empty() ? "" : ", ", to_string(format));
  }
  throw UsageError(fmt::format("unknown output format '{}' ({})", name, known));
}

void check_output_space(const std::vector<fs::path>& overlays, const std::vector<uint64_t>& sizes, OutputFormat format,
                        uint64_t available, const fs::path& directory) {
  // No output is larger than its disks' full size plus its metadata (1%, at least 16 MiB a disk):
  // when that fits, the answer is yes without reading the disks' allocation maps.
  // An OVA holds its disks a second time while it is packed.
  const uint64_t copies = format == OutputFormat::ova ? 2 : 1;
  uint64_t bound = 0;
  for (uint64_t size : sizes) {
    bound += size + std::max<uint64_t>(size / 100, 16 << 20);
  }
  if (bound * copies <= available) return;
  // Else what qemu-img says the converted disks need. qemu cannot measure VHD, VHDX or VMDK: a
  // sparse qcow2 (or a full raw image) stands in for them.
  const bool full = format == OutputFormat::raw || format == OutputFormat::vhd_fixed;
  uint64_t needed = 0;
  for (const fs::path& overlay : overlays) {
    auto measure = nlohmann::json::parse(
        run_host_checked({"qemu-img", "measure", "--output=json", "-O", full ? "raw" : "qcow2", overlay.string()}));
    const uint64_t required = measure.value("required", uint64_t{0});
    needed += required;
  }
  needed *= copies;
  if (needed > available)
    throw Error(
        fmt::format("{}: {} MiB free, the output needs {} MiB", directory.string(), available >> 20, needed >> 20));
}

namespace {

void check_free_space(const std::vector<fs::path>& overlays, const std::vector<uint64_t>& sizes, OutputFormat format,
                      const fs::path& directory) {
  struct statvfs st {};
  if (::statvfs(directory.c_str(), &st) != 0) return;
  check_output_space(overlays, sizes, format, static_cast<uint64_t>(st.f_bavail) * st.f_frsize, directory);
}

// qemu-img convert with its progress folded into `line` (`base` bytes done before this disk).
// Starts the disk writing what qemu-img has written so far, without waiting for it: by the time
// the conversion ends most of the output is on disk, and the fsync that makes it durable is short
// instead of flushing the whole file at once.
class EarlyWriteback {
 public:
  explicit EarlyWriteback(fs::path file) : file_(std::move(file)) {}
  ~EarlyWriteback() {
    if (fd_ >= 0) ::close(fd_);
  }
  EarlyWriteback(const EarlyWriteback&) = delete;
  EarlyWriteback& operator=(const EarlyWriteback&) = delete;
  void kick() {
    auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(250)) return;
    last_ = now;
    if (fd_ < 0) fd_ = ::open(file_.c_str(), O_RDONLY | O_CLOEXEC);     // qemu-img may not have made it yet
    if (fd_ >= 0) ::sync_file_range(fd_, 0, 0, SYNC_FILE_RANGE_WRITE);  // a hint: failure costs only time
  }

 private:
  fs::path file_;
  int fd_ = -1;
  std::chrono::steady_clock::time_point last_{};
};

// A streamOptimized VMDK, read straight from the overlay (through qemu-nbd, which knows its backing
// chain and where it holds nothing) and deflated on every core (image/stream_vmdk.h): no raw copy
// of the disk is written first.
void convert_to_stream_vmdk(const fs::path& overlay, const fs::path& target, ProgressLine& line, uint64_t base,
                            uint64_t size) {
  auto disk = open_qemu_disk(overlay, "qcow2");
  EarlyWriteback writeback(target);
  StreamVmdkOptions options;
  options.on_progress = [&](uint64_t done, uint64_t total) {
    line.set(base +
             static_cast<uint64_t>(static_cast<double>(size) * static_cast<double>(done) / static_cast<double>(total)));
    writeback.kick();
  };
  write_stream_optimized_vmdk(*disk, target, target.filename().string(), options);
}

void convert(const fs::path& overlay, const fs::path& target, OutputFormat format, ProgressLine& line, uint64_t base,
             uint64_t size) {
  if (streamed(format)) return convert_to_stream_vmdk(overlay, target, line, base, size);
  std::vector<std::string> argv{"qemu-img", "convert", "-p", "-f", "qcow2"};
  for (std::string& option : convert_options(format)) argv.push_back(std::move(option));
  argv.push_back(overlay.string());
  argv.push_back(target.string());
  EarlyWriteback writeback(target);
  run_host_checked(argv, [&](std::string_view chunk) {
    if (double percent = qemu_img_percent(chunk); percent >= 0)
      line.set(base + static_cast<uint64_t>(static_cast<double>(size) * percent / 100));
    writeback.kick();
  });
}

// The OVA: streamOptimized disks, the OVF rewritten (or written) for AWS, a SHA256 manifest; the
// OVF first, then the manifest, then the disks, as VMware's own tools lay them out.
WriteResult pack_ova(const VmSource& vm, const std::vector<fs::path>& disks, const std::vector<uint64_t>& sizes,
                     const fs::path& partial, const GuestSummary& guest, bool progress) {
  const std::string stem = member_stem(partial);
  std::vector<OvaDisk> ova_disks;
  size_t index = 0;
  if (vm.ovf) {
    for (const OvfDisk& disk : vm.ovf->disks)
      if (!disk.file_href.empty() && index < disks.size()) {
        ova_disks.push_back(
            {disk.disk_id, fs::path(disks[index]).filename().string(), fs::file_size(disks[index]), sizes[index]});
        ++index;
      }
  } else {
    for (; index < disks.size(); ++index)
      ova_disks.push_back({"", disks[index].filename().string(), fs::file_size(disks[index]), sizes[index]});
  }
  if (ova_disks.size() != disks.size()) throw Error("the OVF's disks and the disks written do not match");
  WriteResult result;
  std::string descriptor;
  if (vm.ovf) {
    OvfForAws rewritten = ovf_for_aws(vm.ovf_text, ova_disks, vm.path.string());
    descriptor = std::move(rewritten.xml);
    result.removed_from_ovf = std::move(rewritten.removed);
  } else {
    descriptor = ovf_for_disks(guest.name.empty() ? stem : guest.name, guest.os_type, guest.bits, ova_disks);
  }
  const std::string ovf_name = stem + ".ovf", manifest_name = stem + ".mf";
  std::string manifest = fmt::format("SHA256({})= {}\n", ovf_name, digest_of(std::string_view(descriptor), "SHA256"));
  uint64_t total = 0;
  for (const fs::path& disk : disks) total += fs::file_size(disk);
  {
    ProgressLine line(fmt::format("checksumming {}", partial.filename().string()), total, progress);
    for (const fs::path& disk : disks) {
      manifest += fmt::format("SHA256({})= {}\n", disk.filename().string(),
                              digest_of(ByteSource{disk, 0, fs::file_size(disk), disk.string()}, "SHA256"));
      line.add(fs::file_size(disk));
    }
  }
  std::vector<TarInput> members{{ovf_name, descriptor, {}}, {manifest_name, manifest, {}}};
  for (const fs::path& disk : disks) members.push_back({disk.filename().string(), "", disk});
  ProgressLine line(fmt::format("packing {}", partial.filename().string()), total, progress);
  write_tar(partial, members, [&](uint64_t bytes) { line.add(bytes); });
  return result;
}

}  // namespace

OutputFormat default_output_format(const std::string& kind, Format format, const std::string& variant) {
  if (kind != "disk") return OutputFormat::ova;
  switch (format) {
    case Format::raw:
      return OutputFormat::raw;
    case Format::vhd:
      return variant == "fixed" ? OutputFormat::vhd_fixed : OutputFormat::vhd;
    case Format::vhdx:
      return OutputFormat::vhdx;
    default:
      return OutputFormat::vmdk;  // VMDK is always written streamOptimized; qcow2 is not accepted by AWS
  }
}

std::string output_extension(OutputFormat format) {
  if (format == OutputFormat::vhd || format == OutputFormat::vhd_fixed) return ".vhd";
  if (format == OutputFormat::raw) return ".img";
  return fmt::format(".{}", to_string(format));
}

void require_writable_directory(const fs::path& directory, std::string_view what) {
  // access() asks the filesystem too: a read-only mount refuses even root.
  if (::access(directory.c_str(), W_OK | X_OK) != 0)
    throw UsageError(
        fmt::format("{}: {} cannot be written there ({})", directory.string(), what, std::strerror(errno)));
}

void require_writable_file(const fs::path& file, std::string_view what) {
  std::error_code error;  // not there yet is fine; a parent vmfix cannot reach: the directory check says why
  if (fs::is_directory(file, error))
    throw UsageError(fmt::format("{}: is a directory; give a file name", file.string()));
  if (error && error != std::errc::no_such_file_or_directory && error != std::errc::permission_denied)
    throw UsageError(fmt::format("{}: {}", file.string(), error.message()));
  require_writable_directory(file.parent_path().empty() ? "." : file.parent_path(), what);
}

OutputSpec choose_output(const VmSource& vm, const std::optional<std::string>& output,
                         const std::optional<OutputFormat>& format) {
  OutputSpec spec;
  spec.format = format.value_or(default_output_format(vm.kind, vm.disks.front().format, vm.disks.front().variant));
  std::error_code error;  // a path vmfix cannot reach is not there; require_writable_file says why
  if (output) {
    spec.path = *output;
  } else {
    spec.path = vm.path.parent_path() / (vm.path.stem().string() + "-vmfix" + output_extension(spec.format));
    if (fs::exists(spec.path, error))
      throw UsageError(fmt::format("{} exists; give -o to name the output (vmfix overwrites only what you name)",
                                   spec.path.string()));
  }
  spec.files.push_back(spec.path);
  require_writable_file(spec.path, "the output");
  if (spec.format != OutputFormat::ova) {
    // The other disks of a multi-disk VM go beside the first: NAME-disk2.EXT, ... Those names were
    // not given by the user, so they are never overwritten.
    for (size_t i = 1; i < vm.disks.size(); ++i) {
      fs::path extra = spec.path.parent_path() /
                       fmt::format("{}-disk{}{}", spec.path.stem().string(), i + 1, spec.path.extension().string());
      if (fs::exists(extra, error))
        throw UsageError(
            fmt::format("{} exists (the output's disk {}); move it away or choose another -o", extra.string(), i + 1));
      spec.files.push_back(extra);
    }
  }
  // Never over any file the source reads: the image, its extents, the OVF's disks.
  std::vector<fs::path> sources{vm.path};
  for (const SourceImage& disk : vm.disks) {
    sources.push_back(disk.bytes.file);
    sources.insert(sources.end(), disk.extent_files.begin(), disk.extent_files.end());
  }
  for (const fs::path& file : spec.files)
    for (const fs::path& source : sources)
      if (fs::equivalent(file, source, error))  // false, not an error, when either is not there
        throw UsageError(
            fmt::format("the output would replace {}, which the source reads; use --in-place to edit "
                        "the source",
                        source.string()));
  return spec;
}

namespace {

// A directory of vmfix's own in `directory`: nobody can plant a link under the names qemu-img
// writes to, an interrupt removes it, and a later run sweeps it should vmfix be killed.
class PrivateDir {
 public:
  explicit PrivateDir(const fs::path& directory) {
    // Made, then locked: another vmfix sweeping the directory in between (its lock file made, not
    // yet locked) may remove it, which the lock then shows, and another is made.
    for (int attempt = 1;; ++attempt) {
      interrupt::remove_stale_partials(directory);
      std::string path = (directory / (interrupt::partial_prefix() + "XXXXXX")).string();
      if (::mkdtemp(path.data()) == nullptr) throw_errno(fmt::format("cannot write in {}", directory.string()));
      path_ = path;
      remove_on_interrupt_.emplace(path_);
      in_use_.emplace(path_);
      const bool locked = in_use_->locked();
      if (locked && in_use_->holds(path_)) return;
      in_use_.reset();
      std::error_code ignored;
      fs::remove_all(path_, ignored);
      if (!locked) throw Error(fmt::format("{}: cannot lock a private directory there", directory.string()));
      if (attempt == 3)
        throw Error(fmt::format("{}: private directories vanish as soon as they are made", directory.string()));
    }
  }
  ~PrivateDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  PrivateDir(const PrivateDir&) = delete;
  PrivateDir& operator=(const PrivateDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
  std::optional<interrupt::RemoveOnInterrupt> remove_on_interrupt_;
  std::optional<interrupt::InUse> in_use_;
};

}  // namespace

WriteResult write_output(const VmSource& vm, const std::vector<fs::path>& overlays, const OutputSpec& output,
                         const GuestSummary& guest, bool progress) {
  const fs::path directory = output.path.has_parent_path() ? output.path.parent_path() : fs::path(".");
  std::vector<uint64_t> sizes;
  for (const fs::path& overlay : overlays) sizes.push_back(virtual_size(overlay));
  check_free_space(overlays, sizes, output.format, directory);
  // The private directory is beside the output (same filesystem, so the rename is atomic): an
  // interrupted run leaves nothing under the output's name. Intermediates go to --scratch if given.
  const PrivateDir private_place(directory);
  const fs::path private_dir = private_place.path();
  std::optional<PrivateDir> scratch_place;
  if (!output.scratch.empty()) scratch_place.emplace(output.scratch);
  const fs::path work = scratch_place ? scratch_place->path() : private_dir;
  WriteResult result;
  std::vector<fs::path> placed;  // extra disks renamed into place before the named output
  try {
    const bool ova = output.format == OutputFormat::ova;
    uint64_t total = 0;
    for (uint64_t size : sizes) total += size;
    // The disks: for an OVA, loose streamOptimized VMDKs first, packed below.
    std::vector<fs::path> written;
    for (size_t i = 0; i < overlays.size(); ++i)
      written.push_back(ova ? work / fmt::format("{}-disk{}.vmdk", member_stem(output.path), i + 1)
                            : private_dir / output.files.at(i).filename());
    {
      ProgressLine line(fmt::format("writing {}", output.path.filename().string()), total, progress);
      uint64_t base = 0;
      for (size_t i = 0; i < overlays.size(); ++i) {
        convert(overlays[i], written[i], output.format, line, base, sizes[i]);
        base += sizes[i];
        if (!ova) fsync_path(written[i], false);
        verify_output(written[i], ova ? OutputFormat::vmdk : output.format, {sizes[i]});
      }
    }
    if (ova) {
      const fs::path partial = private_dir / output.path.filename();
      result = pack_ova(vm, written, sizes, partial, guest, progress);
      verify_output(partial, OutputFormat::ova, sizes);
      written = {partial};
    }
    // The extra disks first, the named output last: once it is there, the whole set is. Until
    // then, extras already in place go again on an error or an interrupt.
    std::vector<std::unique_ptr<interrupt::RemoveOnInterrupt>> unfinished;
    for (size_t i = written.size(); i-- > 1;) {
      unfinished.push_back(std::make_unique<interrupt::RemoveOnInterrupt>(output.files.at(i)));
      fs::rename(written[i], output.files.at(i));
      placed.push_back(output.files.at(i));
    }
    fs::rename(written[0], output.files.at(0));
    placed.clear();
    unfinished.clear();
    fsync_path(directory, true);
  } catch (...) {
    std::error_code ignored;
    for (const fs::path& extra : placed) fs::remove(extra, ignored);
    throw;
  }
  return result;
}

void commit_overlay(const fs::path& overlay, bool progress) {
  interrupt::Critical uninterrupted;  // half a commit would leave the source inconsistent
  ProgressLine line("writing the changes into the source", 100, progress);
  run_host_checked({"qemu-img", "commit", "-p", "-f", "qcow2", overlay.string()}, [&](std::string_view chunk) {
    if (double percent = qemu_img_percent(chunk); percent >= 0) line.set(static_cast<uint64_t>(percent));
  });
}

void verify_output(const fs::path& path, OutputFormat format, const std::vector<uint64_t>& sizes) {
  const std::string name = path.string();
  auto check_size = [&](const SourceImage& disk, size_t index) {
    if (index < sizes.size() && disk.virtual_size && disk.virtual_size != sizes[index])
      throw Error(fmt::format("{}: written disk holds {} bytes, the source {}", disk.bytes.name, disk.virtual_size,
                              sizes[index]));
  };
  if (format == OutputFormat::ova) {
    VmSource written = open_vm(path);  // the tar layout, the OVF, the manifest's digests, each disk
    if (written.kind != "ova" || written.manifest != "verified")
      throw Error(fmt::format("{}: written OVA does not verify (manifest {})", name, written.manifest));
    if (!sizes.empty() && written.disks.size() != sizes.size())
      throw Error(fmt::format("{}: written OVA holds {} disks, not {}", name, written.disks.size(), sizes.size()));
    for (size_t i = 0; i < written.disks.size(); ++i) {
      const SourceImage& disk = written.disks[i];
      if (disk.format != Format::vmdk || disk.variant != "streamOptimized")
        throw Error(fmt::format("{}: written OVA holds {}, not a streamOptimized VMDK", name, disk.bytes.name));
      check_size(disk, i);
    }
    return;
  }
  if (format == OutputFormat::vmdk) {
    std::string header = read_host_bytes(path, 0, 512);
    uint32_t version = 0, flags = 0;
    if (header.size() == 512) {
      std::memcpy(&version, header.data() + 4, 4);
      std::memcpy(&flags, header.data() + 8, 4);
    }
    if (header.compare(0, 4, "KDMV") != 0 || version != 3 || !(flags & (1u << 16)))
      throw Error(
          fmt::format("{}: written VMDK is not a streamOptimized VMDK (magic, version 3, compressed grains)", name));
  }
  // Our own reader: footer checksums, grain tables, truncation.
  SourceImage written = open_image(path);
  check_size(written, 0);
  if ((format == OutputFormat::vhd || format == OutputFormat::vhd_fixed) && written.format != Format::vhd)
    throw Error(fmt::format("{}: written image is not a VHD", name));
  if (format == OutputFormat::vmdk || format == OutputFormat::vhdx)
    run_host_checked({"qemu-img", "check", "-q", "-f", std::string(to_string(format)), name});
}

}  // namespace vmfix::image

#pragma once
// Writing the result: converted from the overlays to a format AWS accepts, under a private
// temporary directory beside the output, fsynced, verified, then renamed into place. Nothing
// partial is ever left under the output's name.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "image/vm_source.h"

namespace vmfix::image {

// What vmfix writes: the disk formats AWS imports (VMDK always streamOptimized) and an OVA of
// such VMDKs; qcow2 only when it edits a qcow2 image in place.
enum class OutputFormat { raw, qcow2, vhd, vhd_fixed, vhdx, vmdk, ova };
// "raw", "qcow2", "vhd", "vhd-fixed", "vhdx", "vmdk", "ova": the words of --output-format and JSON.
std::string_view to_string(OutputFormat format);
// The format --output-format names; a UsageError for any other word (qcow2 included).
OutputFormat output_format_named(std::string_view name);

struct OutputSpec {
  std::filesystem::path path;
  OutputFormat format = OutputFormat::raw;
  // One file per disk for the disk formats (the first is `path`, the others "NAME-diskN.EXT");
  // for "ova", just `path`.
  std::vector<std::filesystem::path> files;
  // Where the intermediates go (a streamOptimized disk's raw copy, an OVA's disks before they
  // are packed); "" for beside the output.
  std::filesystem::path scratch;
};

// The format vmfix writes by default for an input of `kind` ("disk", "ova", "ovf") whose (first)
// disk is `format`/`variant`: an OVA for an OVA or OVF, else the input's format when AWS accepts it
// (raw, VHD, VHDX), else streamOptimized VMDK.
OutputFormat default_output_format(const std::string& kind, Format format, const std::string& variant);

// The file extension of an output in `format` (".img", ".vhd", ".vhdx", ".vmdk", ".ova").
std::string output_extension(OutputFormat format);

// Throws UsageError naming `what` unless files can be created in `directory` (it exists, and
// neither its permissions nor a read-only mount refuse it).
void require_writable_directory(const std::filesystem::path& directory, std::string_view what);

// The same for a file vmfix will write: not a directory, a name the system takes (not too long,
// no loop of links), in a directory require_writable_directory accepts.
void require_writable_file(const std::filesystem::path& file, std::string_view what);

// -o and --output-format; else beside the input: an OVA for an OVA or OVF, else the input's format
// when AWS accepts it, else streamOptimized VMDK.
OutputSpec choose_output(const VmSource& vm, const std::optional<std::string>& output,
                         const std::optional<OutputFormat>& format);

// What an OVA's descriptor says about the guest when the input brought no OVF.
struct GuestSummary {
  std::string name;
  std::string os_type = "linux";  // "windows" or "linux"
  int bits = 64;
};

struct WriteResult {
  std::vector<std::string> removed_from_ovf;  // drives, NICs and files the OVF no longer has
};

// `overlays` hold the disks in the VM's order. `progress`: draw a progress line on stderr.
WriteResult write_output(const VmSource& vm, const std::vector<std::filesystem::path>& overlays,
                         const OutputSpec& output, const GuestSummary& guest, bool progress);

// Throws when `available` bytes in `directory` cannot hold the output of these disks (virtual
// `sizes`). Cheap when the disks' full size fits; else qemu-img measures what they hold.
void check_output_space(const std::vector<std::filesystem::path>& overlays, const std::vector<uint64_t>& sizes,
                        OutputFormat format, uint64_t available, const std::filesystem::path& directory);

// --in-place: the overlay's changes written into the image beneath it (only the changed clusters).
void commit_overlay(const std::filesystem::path& overlay, bool progress);

// Checks a written image: VMDK header (KDMV, version 3, compressed grains), VHD footer, OVA layout
// and manifest, qemu-img check; and, when `sizes` are given, each disk's virtual size.
void verify_output(const std::filesystem::path& path, OutputFormat format, const std::vector<uint64_t>& sizes = {});

}  // namespace vmfix::image

#pragma once
// A streamOptimized VMDK written from a disk (image/disk_reader.h), its grains deflated on every
// core the process may use while the next span is read. qemu-img compresses one grain at a time on
// one core, which made writing a VMDK or an OVA the longest step of a remediation.
//
// The layout is the one of VMware's own exports (Virtual Disk Format 5.0, stream-optimized): the
// header, whose grain directory offset says "at the end"; the embedded descriptor; for each grain
// holding anything but zeros, a grain marker (its first sector, the deflated length) and its
// deflated bytes, padded to a sector; after the grains of each 512-grain span, a grain-table
// marker and the table; then the grain directory's marker and the directory; a footer marker and
// a copy of the header with the directory's real offset; and an end-of-stream marker.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

namespace vmfix::image {

class DiskReader;

struct StreamVmdkOptions {
  unsigned threads = 0;  // compressing threads; 0: one per usable core (support/cores.h)
  // Bytes of the raw image done so far, called from the writing thread.
  std::function<void(uint64_t done, uint64_t total)> on_progress;
};

// Writes `target` (which must not exist) from `disk`, whose size must be a whole number of
// sectors. `extent_name` is the file name the embedded descriptor gives the extent: the name the
// VMDK will have in the end.
void write_stream_optimized_vmdk(DiskReader& disk, const std::filesystem::path& target, const std::string& extent_name,
                                 const StreamVmdkOptions& options = {});
// The same, from a raw image.
void write_stream_optimized_vmdk(const std::filesystem::path& raw, const std::filesystem::path& target,
                                 const std::string& extent_name, const StreamVmdkOptions& options = {});

}  // namespace vmfix::image

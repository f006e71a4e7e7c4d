#include "image/stream_vmdk.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <libdeflate.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <random>
#include <system_error>
#include <thread>
#include <vector>

#include "image/disk_reader.h"
#include "support/bytes.h"
#include "support/cores.h"
#include "support/error.h"
#include "support/files.h"
#include "support/unique_fd.h"

namespace vmfix::image {
namespace fs = std::filesystem;

namespace {

constexpr uint64_t kSector = 512;
constexpr uint64_t kGrainSectors = 128;  // 64 KiB grains, as VMware and qemu write them
constexpr uint64_t kGrainBytes = kGrainSectors * kSector;
constexpr uint64_t kTableEntries = 512;  // grains per grain table
constexpr uint64_t kDescriptorSectors = 20;
constexpr uint64_t kOverheadSectors = 128;  // header and descriptor; the first grain starts here
constexpr uint64_t kGdAtEnd = ~0ULL;
enum MarkerType : uint32_t { kEndOfStream = 0, kGrainTable = 1, kGrainDirectory = 2, kFooter = 3 };

// The 512-byte sparse extent header. Flags: newline detection valid (bit 0), compressed grains
// (bit 16), markers (bit 17).
std::string sparse_header(uint64_t capacity_sectors, uint64_t gd_offset) {
  std::string header(kSector, '\0');
  header.replace(0, 4, "KDMV");
  put_le32(header, 4, 3);  // version 3: compressed grains with markers
  put_le32(header, 8, 1u | 1u << 16 | 1u << 17);
  put_le64(header, 12, capacity_sectors);
  put_le64(header, 20, kGrainSectors);
  put_le64(header, 28, 1);  // descriptor offset
  put_le64(header, 36, kDescriptorSectors);
  put_le32(header, 44, kTableEntries);
  put_le64(header, 48, 0);  // no redundant grain directory
  put_le64(header, 56, gd_offset);
  put_le64(header, 64, kOverheadSectors);
  header[72] = 0;  // cleanly closed
  header[73] = '\n';
  header[74] = ' ';
  header[75] = '\r';
  header[76] = '\n';
  put_le16(header, 77, 1);  // deflate
  return header;
}

std::string descriptor(uint64_t capacity_sectors, const std::string& extent_name) {
  std::random_device random;
  const uint32_t cid = std::uniform_int_distribution<uint32_t>(0, 0xfffffffe)(random);
  // The geometry VMware derives for an IDE disk: 16 heads, 63 sectors, cylinders capped at 16383.
  const uint64_t cylinders = std::min<uint64_t>(capacity_sectors / (16 * 63), 16383);
  std::string text = fmt::format(
      "# Disk DescriptorFile\n"
      "version=1\n"
      "CID={:08x}\n"
      "parentCID=ffffffff\n"
      "createType=\"streamOptimized\"\n"
      "\n"
      "# Extent description\n"
      "RW {} SPARSE \"{}\"\n"
      "\n"
      "# The Disk Data Base\n"
      "#DDB\n"
      "\n"
      "ddb.virtualHWVersion = \"4\"\n"
      "ddb.geometry.cylinders = \"{}\"\n"
      "ddb.geometry.heads = \"16\"\n"
      "ddb.geometry.sectors = \"63\"\n"
      "ddb.adapterType = \"ide\"\n"
      "ddb.toolsVersion = \"2147483647\"\n",
      cid, capacity_sectors, extent_name, cylinders);
  if (text.size() > kDescriptorSectors * kSector)
    throw Error(fmt::format("VMDK descriptor too long for '{}'", extent_name));
  text.resize(kDescriptorSectors * kSector, '\0');
  return text;
}

std::string marker(uint64_t sectors, MarkerType type) {
  std::string bytes(kSector, '\0');
  put_le64(bytes, 0, sectors);
  put_le32(bytes, 12, type);
  return bytes;
}

bool all_zero(const char* data, size_t length) {
  // Word by word: most of a disk's unallocated grains are whole pages of zeros.
  const char* end = data + length;
  for (; data + 8 <= end; data += 8) {
    uint64_t word;
    std::memcpy(&word, data, 8);
    if (word != 0) return false;
  }
  for (; data < end; ++data)
    if (*data != 0) return false;
  return true;
}

// Appends to the target file through one buffer, counting sectors.
class SectorWriter {
 public:
  explicit SectorWriter(const fs::path& path) : file_(path) {}

  uint64_t sector() const { return (written_ + buffer_.size()) / kSector; }
  // Appends `bytes` and pads them with zeros to a whole sector.
  void append(std::string_view bytes) {
    buffer_.append(bytes);
    buffer_.resize((buffer_.size() + kSector - 1) / kSector * kSector, '\0');
    if (buffer_.size() >= (8u << 20)) flush();
  }
  void close() {
    flush();
    file_.close(false);  // the caller syncs the finished output
  }

 private:
  void flush() {
    file_.write(buffer_);
    written_ += buffer_.size();
    buffer_.clear();
  }

  NewFile file_;
  uint64_t written_ = 0;
  std::string buffer_;
};

// Runs body(share) for every share in [0, shares), each on its own thread, the caller's among
// them; where no more threads can be had, the caller runs the rest itself. The first exception
// thrown is rethrown once every share has stopped.
void run_shares(unsigned shares, const std::function<void(unsigned)>& body) {
  std::vector<std::exception_ptr> errors(shares);
  auto guarded = [&](unsigned share) {
    try {
      body(share);
    } catch (...) {
      errors[share] = std::current_exception();
    }
  };
  std::vector<std::thread> workers;
  unsigned next = 1;
  try {
    for (; next < shares; ++next) workers.emplace_back(guarded, next);
  } catch (const std::system_error&) {
    // out of threads (a low pids limit): fewer workers, same work
  }
  for (unsigned share = next; share < shares; ++share) guarded(share);
  guarded(0);
  for (std::thread& worker : workers) worker.join();
  for (const std::exception_ptr& error : errors)
    if (error) std::rethrow_exception(error);
}

// One deflater per compressing thread (libdeflate: the zlib stream VMware reads, at about twice
// zlib's speed); level 6 is zlib's default, the one qemu-img uses.
class Deflaters {
 public:
  explicit Deflaters(unsigned count) {
    for (unsigned i = 0; i < count; ++i) {
      deflaters_.emplace_back(libdeflate_alloc_compressor(6));
      if (!deflaters_.back()) throw Error("cannot allocate a deflate compressor");
    }
  }
  // A grain, deflated behind its 12-byte marker: its first sector and its compressed length.
  void compress_grain(unsigned thread, const char* data, uint64_t grain, std::string& out) const {
    libdeflate_compressor* deflater = deflaters_[thread].get();
    out.resize(12 + libdeflate_zlib_compress_bound(deflater, kGrainBytes));
    const size_t length = libdeflate_zlib_compress(deflater, data, kGrainBytes, out.data() + 12, out.size() - 12);
    if (length == 0) throw Error(fmt::format("grain {} did not fit its deflate bound", grain));
    out.resize(12 + length);
    put_le64(out, 0, grain * kGrainSectors);
    put_le32(out, 8, static_cast<uint32_t>(length));
  }

 private:
  struct Free {
    void operator()(libdeflate_compressor* deflater) const { libdeflate_free_compressor(deflater); }
  };
  std::vector<std::unique_ptr<libdeflate_compressor, Free>> deflaters_;
};

// Grain tables and the directory hold 32-bit sector numbers: a sparse extent ends at 2 TiB.
uint32_t sector_of(const SectorWriter& writer, const fs::path& target) {
  if (writer.sector() > 0xffffffffULL - kGrainSectors)
    throw Error(fmt::format("{}: a sparse VMDK cannot grow past 2 TiB", target.string()));
  return static_cast<uint32_t>(writer.sector());
}

// The grain directory, the footer (a copy of the header that points at the directory) and the
// end-of-stream marker.
void append_directory_and_footer(SectorWriter& out, const std::vector<uint32_t>& directory, uint64_t capacity) {
  std::string gd(directory.size() * 4, '\0');
  for (size_t t = 0; t < directory.size(); ++t) put_le32(gd, t * 4, directory[t]);
  out.append(marker((gd.size() + kSector - 1) / kSector, kGrainDirectory));
  const uint64_t gd_offset = out.sector();
  out.append(gd);
  out.append(marker(1, kFooter));
  out.append(sparse_header(capacity, gd_offset));
  out.append(marker(0, kEndOfStream));
}

// Runs `load(t)` for t = 0, 1, ... one step ahead of the caller, on a thread of its own: the next
// span is read while this one is deflated. Without a thread to spare, each is loaded when asked.
class Prefetch {
 public:
  Prefetch(uint64_t count, std::function<void(uint64_t)> load) : count_(count), load_(std::move(load)) { start(0); }
  // Waits until `t` is loaded (rethrowing what loading it threw) and starts loading the next.
  void wait(uint64_t t) {
    pending_.get();
    if (t + 1 < count_) start(t + 1);
  }

 private:
  void start(uint64_t t) {
    try {
      pending_ = std::async(std::launch::async, load_, t);
    } catch (const std::system_error&) {
      pending_ = std::async(std::launch::deferred, load_, t);
    }
  }
  uint64_t count_;
  std::function<void(uint64_t)> load_;
  std::future<void> pending_;
};

}  // namespace

void write_stream_optimized_vmdk(DiskReader& disk, const fs::path& target, const std::string& extent_name,
                                 const StreamVmdkOptions& options) {
  const uint64_t size = disk.size();
  if (size == 0 || size % kSector != 0)
    throw Error(fmt::format("{}: a disk of {} bytes is not a whole number of sectors", target.string(), size));
  const uint64_t capacity = size / kSector;
  const uint64_t grains = (capacity + kGrainSectors - 1) / kGrainSectors;
  const uint64_t tables = (grains + kTableEntries - 1) / kTableEntries;
  const unsigned threads = options.threads ? options.threads : usable_cores();
  const Deflaters deflaters(threads);

  SectorWriter out(target);
  out.append(sparse_header(capacity, kGdAtEnd));
  out.append(descriptor(capacity, extent_name));
  out.append(std::string((kOverheadSectors - out.sector()) * kSector, '\0'));

  // Whole grains, as VMware writes them: the last grain of a disk whose size is no multiple of
  // 64 KiB is padded with zeros.
  auto first_grain = [](uint64_t t) { return t * kTableEntries; };
  auto grains_in = [&](uint64_t t) { return std::min(kTableEntries, grains - first_grain(t)); };
  std::string spans[2];
  Prefetch prefetch(tables, [&](uint64_t t) {
    std::string& span = spans[t % 2];
    const uint64_t offset = first_grain(t) * kGrainBytes;
    span.assign(grains_in(t) * kGrainBytes, '\0');
    disk.read(offset, span.data(), std::min<uint64_t>(span.size(), size - offset));
  });
  std::vector<uint32_t> directory(tables, 0);
  std::vector<std::string> compressed(kTableEntries);
  std::vector<char> present(kTableEntries);
  for (uint64_t t = 0; t < tables; ++t) {
    prefetch.wait(t);
    const std::string& span = spans[t % 2];
    const uint64_t count = grains_in(t);
    // Each thread deflates every threads-th grain of the span.
    run_shares(threads, [&](unsigned share) {
      for (uint64_t g = share; g < count; g += threads) {
        const char* data = span.data() + g * kGrainBytes;
        present[g] = !all_zero(data, kGrainBytes);
        if (present[g]) deflaters.compress_grain(share, data, first_grain(t) + g, compressed[g]);
      }
    });
    // Every span gets its table, empty or not: every directory entry then points at one.
    std::string table(kTableEntries * 4, '\0');
    for (uint64_t g = 0; g < count; ++g) {
      if (!present[g]) continue;
      put_le32(table, g * 4, sector_of(out, target));
      out.append(compressed[g]);
    }
    out.append(marker(table.size() / kSector, kGrainTable));
    directory[t] = sector_of(out, target);
    out.append(table);
    if (options.on_progress) options.on_progress(std::min((first_grain(t) + count) * kGrainBytes, size), size);
  }
  append_directory_and_footer(out, directory, capacity);
  out.close();
}

void write_stream_optimized_vmdk(const fs::path& raw, const fs::path& target, const std::string& extent_name,
                                 const StreamVmdkOptions& options) {
  auto disk = open_raw_disk(raw);
  write_stream_optimized_vmdk(*disk, target, extent_name, options);
}

}  // namespace vmfix::image

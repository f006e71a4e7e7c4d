// vmfix's streamOptimized VMDK writer, read back by qemu-img and by vmfix's own reader.
#include "image/stream_vmdk.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "image/detect.h"
#include "image/disk_reader.h"
#include "support/bytes.h"
#include "support/cores.h"
#include "support/error.h"
#include "support/files.h"
#include "support/process.h"

namespace vmfix::image {
namespace fs = std::filesystem;
namespace {

void write_at(const fs::path& path, uint64_t offset, std::string_view bytes) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset)), static_cast<ssize_t>(bytes.size()));
  ::close(fd);
}

std::string random_bytes(size_t length, unsigned seed) {
  std::mt19937 random(seed);
  std::string bytes(length, '\0');
  for (char& c : bytes) c = static_cast<char>(random());
  return bytes;
}

// A sparse raw disk of 70 MiB and 7 sectors: three grain tables, the last grain cut short, data
// that compresses and data that does not, a grain of zeros written out (not a hole), and data on
// both sides of a table boundary and in the very last sector.
fs::path make_raw(const fs::path& directory) {
  const fs::path raw = directory / "disk.raw";
  write_host_file_atomic(raw, "");
  fs::resize_file(raw, (70ULL << 20) + 7 * 512);
  write_at(raw, 0, std::string(3 * 65536 + 100, 'A'));
  write_at(raw, 1 << 20, random_bytes(200000, 1));
  write_at(raw, 2 << 20, std::string(65536, '\0'));
  write_at(raw, (32ULL << 20) - 5000, random_bytes(10000, 2));
  write_at(raw, (70ULL << 20) + 6 * 512, std::string(512, 'Z'));
  return raw;
}

// Reads a stream-optimized VMDK as a streaming importer does, front to back, marker by marker,
// and rebuilds the disk from the grain markers alone. Along the way: each grain table lists the
// grains just before it, the directory lists the tables, the footer points at the directory.
std::string rebuild_from_stream(const std::string& file, uint64_t capacity_bytes) {
  std::string disk(capacity_bytes, '\0');
  const uint64_t overhead = le64(file, 64);
  std::vector<uint64_t> grains_since_table;  // sectors of the grain markers since the last table
  std::vector<uint64_t> table_sectors;
  uint64_t at = overhead;  // in sectors
  auto view = [&](uint64_t sector, uint64_t length) { return std::string_view(file).substr(sector * 512, length); };
  for (;;) {
    EXPECT_LT(at * 512, file.size()) << "ran off the end without an end-of-stream marker";
    if (at * 512 >= file.size()) return disk;
    const std::string_view head = view(at, 512);
    const uint64_t value = le64(head, 0);
    const uint32_t size = le32(head, 8);
    if (size != 0) {  // a grain: its first sector, then its deflated bytes
      EXPECT_EQ(value % 128, 0u);
      EXPECT_LT(value * 512, capacity_bytes);
      std::string grain(65536, '\0');
      uLongf length = grain.size();
      EXPECT_EQ(uncompress(reinterpret_cast<Bytef*>(grain.data()), &length,
                           reinterpret_cast<const Bytef*>(file.data() + at * 512 + 12), size),
                Z_OK);
      EXPECT_EQ(length, 65536u) << "whole grains";
      disk.replace(value * 512, std::min<uint64_t>(length, capacity_bytes - value * 512),
                   grain.substr(0, std::min<uint64_t>(length, capacity_bytes - value * 512)));
      grains_since_table.push_back(at);
      at += (12 + size + 511) / 512;
      continue;
    }
    const uint32_t type = le32(head, 12);
    if (type == 0) {
      EXPECT_EQ(value, 0u);
      EXPECT_EQ((at + 1) * 512, file.size()) << "the end-of-stream marker is the last sector";
      return disk;
    }
    if (type == 1) {  // a grain table: its entries are the grains since the previous one
      EXPECT_EQ(value, 4u);
      std::vector<uint64_t> listed;
      for (uint64_t e = 0; e < 512; ++e)
        if (uint32_t sector = le32(view(at + 1, 2048), e * 4)) listed.push_back(sector);
      EXPECT_EQ(listed, grains_since_table);
      grains_since_table.clear();
      table_sectors.push_back(at + 1);
    } else if (type == 2) {  // the directory: the tables, in order
      std::vector<uint64_t> listed;
      for (uint64_t e = 0; e < table_sectors.size(); ++e) listed.push_back(le32(view(at + 1, value * 512), e * 4));
      EXPECT_EQ(listed, table_sectors);
      EXPECT_EQ(le64(view(file.size() / 512 - 2, 512), 56), at + 1) << "the footer points at the directory";
    } else {
      EXPECT_EQ(type, 3u);
      EXPECT_EQ(value, 1u);
    }
    at += 1 + value;
  }
}

TEST(StreamVmdk, QemuReadsTheSameDiskAndOurReaderAcceptsIt) {
  TempDir scratch("vmfix-stream-vmdk");
  const fs::path raw = make_raw(scratch.path());
  for (unsigned threads : {1u, 3u}) {
    SCOPED_TRACE(threads);
    const fs::path vmdk = scratch.path() / ("out" + std::to_string(threads) + ".vmdk");
    uint64_t last = 0, calls = 0;
    StreamVmdkOptions options;
    options.threads = threads;
    options.on_progress = [&](uint64_t done, uint64_t total) {
      EXPECT_GT(done, last);
      EXPECT_EQ(total, fs::file_size(raw));
      last = done;
      ++calls;
    };
    write_stream_optimized_vmdk(raw, vmdk, "final-name.vmdk", options);
    EXPECT_EQ(last, fs::file_size(raw));
    EXPECT_EQ(calls, 3u) << "one call per 32 MiB grain table";

    EXPECT_EQ(run_host({"qemu-img", "check", "-q", "-f", "vmdk", vmdk.string()}).exit_status, 0);
    ProcessResult compare =
        run_host({"qemu-img", "compare", "-q", "-f", "raw", "-F", "vmdk", raw.string(), vmdk.string()});
    EXPECT_EQ(compare.exit_status, 0) << compare.output;
    auto info =
        nlohmann::json::parse(run_host_checked({"qemu-img", "info", "--output=json", "-f", "vmdk", vmdk.string()}));
    EXPECT_EQ(info["virtual-size"], fs::file_size(raw));
    EXPECT_EQ(info["format-specific"]["data"]["create-type"], "streamOptimized");
    EXPECT_EQ(info["format-specific"]["data"]["extents"][0]["compressed"], true);

    SourceImage ours = open_image(vmdk);
    EXPECT_EQ(ours.format, Format::vmdk);
    EXPECT_EQ(ours.variant, "streamOptimized");
    EXPECT_EQ(ours.virtual_size, fs::file_size(raw));

    // The stream's frame: the header defers the directory to the footer, which sits before the
    // end-of-stream marker with the directory's real offset; the descriptor names the extent.
    const std::string file = read_host_file(vmdk);
    ASSERT_EQ(file.size() % 512, 0u);
    EXPECT_EQ(le64(file, 56), ~0ULL);
    const std::string_view footer_marker = std::string_view(file).substr(file.size() - 3 * 512, 512);
    EXPECT_EQ(le32(footer_marker, 12), 3u);
    const std::string_view footer = std::string_view(file).substr(file.size() - 2 * 512, 512);
    EXPECT_EQ(footer.substr(0, 4), "KDMV");
    const uint64_t gd = le64(footer, 56);
    EXPECT_LT(gd * 512, file.size());
    EXPECT_EQ(le32(file, gd * 512 - 512 + 12), 2u) << "a grain-directory marker precedes the directory";
    EXPECT_EQ(std::string_view(file).substr(file.size() - 512), std::string(512, '\0'));
    EXPECT_NE(file.find("RW 143367 SPARSE \"final-name.vmdk\""), std::string::npos);
    EXPECT_LT(file.size(), 1u << 20) << "the zeros and the repeated bytes compress";
    EXPECT_TRUE(rebuild_from_stream(file, fs::file_size(raw)) == read_host_file(raw))
        << "read as a stream, the disk differs";
  }
}

// The overlay the appliance leaves: a qcow2 over a VMDK, written to in places (over data of the
// backing disk, over its holes, and with zeros over its data). qemu-nbd reads it as qemu-img does.
TEST(DiskReader, ReadsAQcow2OverlayAndItsBackingChainAsQemuImgDoes) {
  TempDir scratch("vmfix-disk-reader");
  const fs::path raw = make_raw(scratch.path());
  const fs::path base = scratch.path() / "base.vmdk", overlay = scratch.path() / "overlay.qcow2";
  run_host_checked({"qemu-img", "convert", "-f", "raw", "-O", "vmdk", "-o", "subformat=streamOptimized", raw.string(),
                    base.string()});
  run_host_checked({"qemu-img", "create", "-q", "-f", "qcow2", "-b", base.string(), "-F", "vmdk", overlay.string()});
  run_host_checked({"qemu-io", "-f", "qcow2", "-c", "write -P 0x5a 4096 70000", "-c", "write -P 0x33 40M 1M", "-c",
                    "write -z 1M 65536", overlay.string()});
  const fs::path expected = scratch.path() / "expected.raw";
  run_host_checked({"qemu-img", "convert", "-f", "qcow2", "-O", "raw", overlay.string(), expected.string()});

  auto disk = open_qemu_disk(overlay, "qcow2");
  ASSERT_EQ(disk->size(), fs::file_size(expected));
  std::string whole(disk->size(), '\x01');                 // anything the reader leaves alone shows
  for (uint64_t at = 0; at < whole.size(); at += 9 << 20)  // pieces that do not line up with clusters
    disk->read(at, whole.data() + at, std::min<uint64_t>(9 << 20, whole.size() - at));
  EXPECT_TRUE(whole == read_host_file(expected)) << "qemu-nbd's disk differs from qemu-img's";

  // The VMDK written through qemu-nbd holds the disk qemu-img reads from the overlay.
  const fs::path vmdk = scratch.path() / "out.vmdk";
  write_stream_optimized_vmdk(*disk, vmdk, "out.vmdk");
  ProcessResult compare =
      run_host({"qemu-img", "compare", "-q", "-f", "qcow2", "-F", "vmdk", overlay.string(), vmdk.string()});
  EXPECT_EQ(compare.exit_status, 0) << compare.output;
}

TEST(DiskReader, NamesTheImageItCannotServe) {
  TempDir scratch("vmfix-disk-reader");
  const fs::path bogus = scratch.path() / "bogus.qcow2";
  write_host_file_atomic(bogus, "not a qcow2 image at all");
  try {
    open_qemu_disk(bogus, "qcow2");
    ADD_FAILURE() << "a file that is no qcow2 was served";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(bogus.string()), std::string::npos) << e.what();
  }
  EXPECT_THROW(open_raw_disk(scratch.path() / "missing.raw"), Error);
}

TEST(Cores, CpuQuotaIsWholeCoresAndNoLimitIsNone) {
  EXPECT_EQ(cores_of_cpu_max("max 100000"), std::nullopt);
  EXPECT_EQ(cores_of_cpu_max("-1 100000"), std::nullopt);  // cgroup v1's cfs_quota_us
  EXPECT_EQ(cores_of_cpu_max("250000 100000\n"), 2u);
  EXPECT_EQ(cores_of_cpu_max("200000 100000"), 2u);
  EXPECT_EQ(cores_of_cpu_max("50000 100000"), 1u) << "never below one";
  EXPECT_EQ(cores_of_cpu_max(""), std::nullopt);
  EXPECT_EQ(cores_of_cpu_max("lots 100000"), std::nullopt);
  EXPECT_EQ(cores_of_cpu_max("100000 0"), std::nullopt);
  const unsigned cores = usable_cores();
  EXPECT_GE(cores, 1u);
  EXPECT_LE(cores, std::max(1u, std::thread::hardware_concurrency()));
}

// A cgroup v1 host (Docker before cgroup v2, older Kubernetes nodes): the cpu controller's
// cfs_quota_us over cfs_period_us, on this cgroup or one above it.
TEST(Cores, CgroupV1QuotaLimitsTheAffinityMask) {
  TempDir scratch("vmfix-cores");
  const fs::path root = scratch.path() / "cgroup";
  const fs::path self = scratch.path() / "self-cgroup";
  write_host_file_atomic(self, "12:pids:/docker/abc\n4:cpu,cpuacct:/docker/abc\n0::/\n");
  fs::create_directories(root / "cpu/docker/abc");
  write_host_file_atomic(root / "cpu/docker/abc/cpu.cfs_quota_us", "-1\n");
  write_host_file_atomic(root / "cpu/docker/abc/cpu.cfs_period_us", "100000\n");
  write_host_file_atomic(root / "cpu/docker/cpu.cfs_quota_us", "300000\n");
  write_host_file_atomic(root / "cpu/docker/cpu.cfs_period_us", "100000\n");
  CoreSources sources{root, self, 8};
  UsableCores cores = usable_cores_of(sources);
  EXPECT_EQ(cores.count, 3u);
  sources.affinity_cpus = 2;
  EXPECT_EQ(usable_cores_of(sources).count, 2u) << "the affinity mask wins when smaller";
  write_host_file_atomic(self, "0::/\n");
  sources.affinity_cpus = 8;
  EXPECT_EQ(usable_cores_of(sources).count, 8u) << "no quota anywhere";
}

TEST(StreamVmdk, RefusesPartialSectorsAndExistingTargets) {
  TempDir scratch("vmfix-stream-vmdk");
  const fs::path raw = scratch.path() / "odd.raw";
  write_host_file_atomic(raw, std::string(1000, 'x'));
  EXPECT_THROW(write_stream_optimized_vmdk(raw, scratch.path() / "a.vmdk", "a.vmdk"), Error);
  const fs::path good = scratch.path() / "good.raw";
  write_host_file_atomic(good, std::string(4096, 'x'));
  const fs::path existing = scratch.path() / "existing.vmdk";
  write_host_file_atomic(existing, "keep me");
  EXPECT_THROW(write_stream_optimized_vmdk(good, existing, "existing.vmdk"), Error);
  EXPECT_EQ(read_host_file(existing), "keep me");
  EXPECT_THROW(write_stream_optimized_vmdk(scratch.path() / "missing.raw", scratch.path() / "b.vmdk", "b.vmdk"), Error);
}

}  // namespace
}  // namespace vmfix::image

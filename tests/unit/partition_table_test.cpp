#include "disk/partition_table.h"

#include <fmt/core.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/files.h"
#include "support/process.h"
#include "tests/test_support.h"

namespace vmfix::disk {
namespace fs = std::filesystem;

namespace {

PartitionTable parse_file(const fs::path& image) {
  const std::string bytes = read_host_file(image);
  auto read = [&](uint64_t offset, size_t length) {
    return offset >= bytes.size() ? std::string() : bytes.substr(offset, length);
  };
  return read_partition_table(read, bytes.size());
}

// Our parse must agree with util-linux's sfdisk on every partition it lists.
void expect_same_as_sfdisk(const fs::path& image) {
  SCOPED_TRACE(image.string());
  auto sfdisk = nlohmann::json::parse(run_host_checked({"sfdisk", "--json", image.string()}))["partitiontable"];
  PartitionTable ours = parse_file(image);
  EXPECT_EQ(ours.kind, sfdisk["label"] == "dos" ? "mbr" : sfdisk["label"].get<std::string>());
  ASSERT_EQ(ours.partitions.size(), sfdisk["partitions"].size());
  for (size_t i = 0; i < ours.partitions.size(); ++i) {
    const auto& theirs = sfdisk["partitions"][i];
    const Partition& p = ours.partitions[i];
    const std::string node = theirs["node"];
    EXPECT_EQ(fmt::format("{}{}", image.string(), p.number), node);
    EXPECT_EQ(p.first_sector, theirs["start"].get<uint64_t>());
    EXPECT_EQ(p.last_sector - p.first_sector + 1, theirs["size"].get<uint64_t>());
    if (ours.kind == "gpt") {
      EXPECT_EQ(p.gpt_type, theirs["type"].get<std::string>());
      EXPECT_EQ(p.gpt_guid, theirs["uuid"].get<std::string>());
      EXPECT_EQ(p.name, theirs.value("name", ""));
    } else {
      EXPECT_EQ(fmt::format("{:x}", p.mbr_type), theirs["type"].get<std::string>());
      EXPECT_EQ(p.bootable, theirs.value("bootable", false));
    }
  }
  if (ours.kind == "gpt") {
    EXPECT_EQ(ours.disk_guid, sfdisk["id"].get<std::string>());
  }
}

class PartitionTableTest : public ::testing::Test {
 protected:
  fs::path make_disk(const std::string& name, uint64_t mib, const std::string& script) {
    fs::path disk = scratch_.path() / name;
    write_host_file_atomic(disk, "");
    fs::resize_file(disk, mib * 1024 * 1024);
    const fs::path script_file = scratch_.path() / (name + ".sfdisk");
    test::write_file(script_file, script);
    run_host_checked({"sh", "-c", fmt::format("sfdisk -q '{}' < '{}'", disk.string(), script_file.string())});
    return disk;
  }
  TempDir scratch_{"vmfix-pt-test"};
};

}  // namespace

TEST(PartitionTableCorpus, AgreesWithSfdiskOnRealImages) {
  VMFIX_REQUIRE_CORPUS(corpus);
  for (const char* image : {"partitions/gptman/disk1.img", "partitions/quyzi-gpt/gpt-disk.img",
                            "partitions/mbrman-mbr/disk1.img", "partitions/mbrman-mbr/disk2.img"})
    expect_same_as_sfdisk(corpus / image);
}

TEST(PartitionTableCorpus, CompressedImagesAndForeignLabels) {
  VMFIX_REQUIRE_CORPUS(corpus);
  TempDir scratch("vmfix-pt-test");
  const fs::path mbr = scratch.path() / "mbr-ext2-empty.img";
  test::write_file(
      mbr, run_host_checked({"gunzip", "-c", (corpus / "partitions/libguestfs/mbr-ext2-empty.img.gz").string()}));
  expect_same_as_sfdisk(mbr);
  // BSD, Sun and SGI labels are neither MBR nor GPT: never mistaken for one, never a crash.
  for (const char* name : {"sun", "sgi"}) {
    const fs::path image = scratch.path() / name;
    test::write_file(
        image,
        run_host_checked({"xz", "-dc", (corpus / fmt::format("partitions/util-linux/{}.img.xz", name)).string()}));
    EXPECT_EQ(parse_file(image).kind, "none") << name;
  }
}

TEST(PartitionTable, Crc32IsTheOneGptUses) {
  // The CRC-32 check value (IEEE 802.3, reflected, as UEFI specifies for GPT headers and entries).
  EXPECT_EQ(crc32("123456789"), 0xCBF43926u);
  EXPECT_EQ(crc32(""), 0u);
  EXPECT_EQ(crc32(std::string(16384, '\0')), 0xAB54D286u) << "an empty 128-entry array";
}

TEST_F(PartitionTableTest, MbrWithLogicalPartitions) {
  fs::path disk = make_disk("mbr.img", 64,
                            "label: dos\nlabel-id: 0x1234abcd\n"
                            "start=2048, size=20480, type=83, bootable\n"
                            "start=22528, size=8192, type=82\n"
                            "start=30720, type=5\n"
                            "start=32768, size=8192, type=8e\n"
                            "start=43008, size=8192, type=fd\n");
  expect_same_as_sfdisk(disk);
  PartitionTable table = parse_file(disk);
  EXPECT_EQ(table.disk_signature, 0x1234abcdu);
  EXPECT_TRUE(table.problems.empty());
  ASSERT_EQ(table.partitions.size(), 5u);
  EXPECT_TRUE(table.partitions[3].logical);
  EXPECT_EQ(table.role_of(table.partitions[3]), "lvm");
  EXPECT_EQ(table.role_of(table.partitions[2]), "extended");
}

TEST_F(PartitionTableTest, GptWithEspAndBiosBoot) {
  fs::path disk = make_disk("gpt.img", 64,
                            "label: gpt\n"
                            "start=2048, size=2048, type=21686148-6449-6E6F-744E-656564454649, name=bios\n"
                            "start=4096, size=20480, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=\"EFI System\"\n"
                            "start=24576, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=root\n");
  expect_same_as_sfdisk(disk);
  PartitionTable table = parse_file(disk);
  EXPECT_TRUE(table.problems.empty()) << table.problems.front();
  EXPECT_EQ(table.role_of(table.partitions[0]), "bios-boot");
  EXPECT_EQ(table.role_of(table.partitions[1]), "esp");
  EXPECT_EQ(table.partitions[1].name, "EFI System");
  EXPECT_FALSE(table.hybrid_mbr);
}

TEST_F(PartitionTableTest, DamagedGptIsReportedNotTrusted) {
  fs::path disk = make_disk("bad.img", 16, "label: gpt\nstart=2048, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\n");
  std::string bytes = read_host_file(disk);
  bytes[512 + 60] ^= 0x5a;                                      // inside the disk GUID: the header CRC breaks
  bytes[1024 + 40] ^= 0x01;                                     // first entry's last LBA: entry-array CRC breaks
  test::write_file(disk, bytes.substr(0, bytes.size() - 512));  // and the backup header is gone
  PartitionTable table = parse_file(disk);
  EXPECT_EQ(table.kind, "gpt");
  std::string all;
  for (const auto& problem : table.problems) all += problem + "\n";
  EXPECT_NE(all.find("primary GPT header CRC32 is wrong"), std::string::npos) << all;
  EXPECT_NE(all.find("entry array CRC32 is wrong"), std::string::npos) << all;
  EXPECT_NE(all.find("backup GPT header"), std::string::npos) << all;
}

TEST_F(PartitionTableTest, GptOn4KSectors) {
  fs::path disk =
      make_disk("512.img", 64, "label: gpt\nstart=2048, size=32768, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\n");
  // Move sfdisk's header and entries to where a 4 KiB-sector disk keeps them.
  std::string bytes = read_host_file(disk);
  PartitionTable at512 = parse_file(disk);
  ASSERT_EQ(at512.kind, "gpt");
  // A 4Kn disk built from scratch: protective MBR, header at 4096, entries at 8192.
  std::string disk4k(64 * 1024 * 1024, '\0');
  disk4k.replace(0, 512, bytes.substr(0, 512));
  std::string header = bytes.substr(512, 92), entries = bytes.substr(1024, 128 * 128);
  auto put64 = [](std::string& b, size_t at, uint64_t v) {
    for (int i = 0; i < 8; ++i) b[at + i] = static_cast<char>(v >> (8 * i));
  };
  auto put32 = [](std::string& b, size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) b[at + i] = static_cast<char>(v >> (8 * i));
  };
  const uint64_t sectors = disk4k.size() / 4096;
  put64(header, 24, 1);
  put64(header, 32, sectors - 1);
  put64(header, 40, 6);
  put64(header, 48, sectors - 6);
  put64(header, 72, 2);
  put64(entries, 32, 256);
  put64(entries, 40, 256 + 4095);
  put32(header, 88, crc32(entries));
  put32(header, 16, 0);
  put32(header, 16, crc32(header));
  disk4k.replace(4096, header.size(), header);
  disk4k.replace(8192, entries.size(), entries);
  disk4k.replace((sectors - 1) * 4096, 8, "EFI PART");
  const fs::path file = scratch_.path() / "4kn.img";
  test::write_file(file, disk4k);
  PartitionTable table = parse_file(file);
  EXPECT_EQ(table.kind, "gpt");
  EXPECT_EQ(table.sector_size, 4096u);
  ASSERT_EQ(table.partitions.size(), 1u);
  EXPECT_EQ(table.partitions[0].first_sector, 256u);
  EXPECT_TRUE(table.problems.empty()) << table.problems.front();
}

TEST_F(PartitionTableTest, OverlapsAndEntriesPastTheEnd) {
  fs::path disk = make_disk("overlap.img", 8, "label: dos\nstart=2048, size=4096, type=83\n");
  // sfdisk refuses to write overlaps; a damaged table has them anyway. Entry 2 by hand:
  // starts inside partition 1 and ends past the end of the (shrunk) disk.
  std::string bytes = read_host_file(disk);
  const size_t entry = 446 + 16;
  bytes[entry + 4] = static_cast<char>(0x83);
  const uint32_t start = 4096, count = 16384;
  for (int i = 0; i < 4; ++i) {
    bytes[entry + 8 + i] = static_cast<char>((start >> (8 * i)) & 0xff);
    bytes[entry + 12 + i] = static_cast<char>((count >> (8 * i)) & 0xff);
  }
  test::write_file(disk, bytes.substr(0, 4 * 1024 * 1024));
  PartitionTable table = parse_file(disk);
  std::string all;
  for (const auto& problem : table.problems) all += problem + "\n";
  EXPECT_NE(all.find("overlap"), std::string::npos) << all;
  EXPECT_NE(all.find("past the end of the disk"), std::string::npos) << all;
}

TEST(PartitionTable, NoTableAndNotAnMbr) {
  std::string blank(1 << 20, '\0');
  auto read = [&](uint64_t offset, size_t length) {
    return offset >= blank.size() ? std::string() : blank.substr(offset, length);
  };
  EXPECT_EQ(read_partition_table(read, blank.size()).kind, "none");
  blank[510] = '\x55';
  blank[511] = '\xaa';
  blank[446] = 0x12;  // a boot-sector byte, not an MBR status: a filesystem's boot sector
  EXPECT_EQ(read_partition_table(read, blank.size()).kind, "none");
}

TEST(PartitionTable, Crc32KnownValue) { EXPECT_EQ(crc32("123456789"), 0xCBF43926u); }

}  // namespace vmfix::disk

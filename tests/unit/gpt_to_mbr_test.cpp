#include "disk/gpt_to_mbr.h"

#include <fmt/core.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <regex>
#include <sstream>

#include "disk/partition_types.h"
#include "support/files.h"
#include "support/process.h"
#include "tests/test_support.h"

namespace vmfix::disk {
namespace fs = std::filesystem;
using ::testing::HasSubstr;

namespace {

constexpr const char* kLinuxFs = "0FC63DAF-8483-4772-8E79-3D69D8477DE4";

ReadBytes reader_of(const std::string& bytes) {
  return [&bytes](uint64_t offset, size_t length) {
    return offset >= bytes.size() ? std::string() : bytes.substr(offset, length);
  };
}

// A disk image laid out by sgdisk (the reference GPT tool), e.g. {"-n1:2048:4095", "-t1:ef02"}.
fs::path sgdisk_image(const TempDir& dir, const std::string& name, uint64_t mib, const std::vector<std::string>& args) {
  fs::path image = dir.path() / name;
  { std::ofstream(image).close(); }
  fs::resize_file(image, mib << 20);
  std::vector<std::string> argv{"sgdisk"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back(image.string());
  run_host_checked(argv);
  return image;
}

// Converts the image file in place with vmfix's planner and encoder.
GptToMbrResult convert_file(const fs::path& image, GptToMbrRequest request = {}) {
  std::string bytes = read_host_file(image);
  PartitionTable gpt = read_partition_table(reader_of(bytes), bytes.size());
  GptToMbrResult result = plan_gpt_to_mbr(gpt, request);
  if (!result.possible) return result;
  auto writes = gpt_wipes(reader_of(bytes), bytes.size(), result.plan);
  for (SectorWrite& w : encode_mbr(result.plan, bytes.substr(0, 512))) writes.push_back(std::move(w));
  for (const SectorWrite& w : writes) bytes.replace(w.offset, w.bytes.size(), w.bytes);
  write_host_file_atomic(image, bytes);
  return result;
}

// The partitions sfdisk sees, one "start size type" line each in disk order: what an MBR means.
std::vector<std::string> sfdisk_layout(const fs::path& image) {
  std::istringstream dump(run_host_checked({"sfdisk", "--dump", image.string()}));
  std::vector<std::string> lines;
  for (std::string line; std::getline(dump, line);) {
    if (line.find(" : start=") == std::string::npos) continue;
    auto field = [&](const std::string& key) {
      size_t at = line.find(key + "=");
      size_t begin = line.find_first_not_of(' ', at + key.size() + 1);
      return line.substr(begin, line.find_first_of(", ", begin) - begin);
    };
    lines.push_back(fmt::format("{} {} {}", field("start"), field("size"), field("type")));
  }
  std::sort(lines.begin(), lines.end(),
            [](const std::string& a, const std::string& b) { return std::stoull(a) < std::stoull(b); });
  return lines;
}

// fdisk and sfdisk read the converted disk without a single warning, and no GPT is left for
// any tool to find.
void expect_clean_mbr(const fs::path& image) {
  ProcessResult verify = run_host({"sfdisk", "--verify", image.string()});
  EXPECT_EQ(verify.exit_status, 0) << verify.output;
  ProcessResult fdisk = run_host({"fdisk", "-l", image.string()});
  EXPECT_EQ(fdisk.exit_status, 0);
  EXPECT_THAT(fdisk.output, ::testing::Not(HasSubstr("arning"))) << fdisk.output;
  EXPECT_THAT(fdisk.output, HasSubstr("Disklabel type: dos"));
  ProcessResult sgdisk = run_host({"sgdisk", "-p", image.string()});
  EXPECT_THAT(sgdisk.output, HasSubstr("Found invalid GPT and valid MBR")) << sgdisk.output;
  const std::string bytes = read_host_file(image);
  EXPECT_EQ(bytes.find("EFI PART"), std::string::npos) << "a GPT header is left";
}

// A table built by hand: for cases sgdisk will not make (huge disks, other sector sizes).
PartitionTable gpt_of(std::vector<std::pair<uint64_t, uint64_t>> ranges, std::string type = kLinuxFs) {
  PartitionTable table;
  table.kind = "gpt";
  table.disk_guid = "8E3A2A1B-7C55-4E0F-9C2D-0A1B2C3D4E5F";
  int number = 0;
  for (auto [first, last] : ranges) {
    Partition p;
    p.number = ++number;
    p.first_sector = first;
    p.last_sector = last;
    p.gpt_type = type;
    table.partitions.push_back(p);
  }
  return table;
}

std::string joined(const std::vector<std::string>& reasons) {
  std::string all;
  for (const auto& r : reasons) all += r + "\n";
  return all;
}

}  // namespace

// The oracle: for a GPT that sgdisk --gpttombr can convert too, the MBR has the same partition
// boundaries and types as sgdisk's, plus what sgdisk leaves out (a disk signature, the active
// flag on the boot partition).
TEST(GptToMbr, SameLayoutAsSgdiskAndCleanForFdisk) {
  TempDir dir("gpt2mbr");
  const std::vector<std::string> layout{"-n1:2048:4095", "-t1:ef02",   "-n2:4096:+30M", "-t2:8300", "-n3:0:+20M",
                                        "-t3:8200",      "-n4:0:+10M", "-t4:ef00",      "-n5:0:0",  "-t5:0700"};
  fs::path ours = sgdisk_image(dir, "ours.img", 80, layout);
  fs::path theirs = dir.path() / "theirs.img";
  fs::copy_file(ours, theirs);
  run_host_checked({"sgdisk", "--gpttombr=2:3:4:5", theirs.string()});

  GptToMbrResult result = convert_file(ours, {.active_gpt_number = 2});
  ASSERT_TRUE(result.possible) << joined(result.reasons);
  EXPECT_EQ(sfdisk_layout(ours), sfdisk_layout(theirs));
  EXPECT_EQ(sfdisk_layout(ours),
            (std::vector<std::string>{"4096 61440 83", "65536 40960 82", "106496 20480 ef", "126976 36831 7"}));
  expect_clean_mbr(ours);
  ASSERT_EQ(result.plan.dropped.size(), 1u);
  EXPECT_THAT(result.plan.dropped[0], HasSubstr("partition 1 (bios-boot)"));

  const std::string bytes = read_host_file(ours);
  PartitionTable mbr = read_partition_table(reader_of(bytes), bytes.size());
  EXPECT_EQ(mbr.kind, "mbr");
  EXPECT_TRUE(mbr.problems.empty());
  EXPECT_NE(mbr.disk_signature, 0u);
  ASSERT_EQ(mbr.partitions.size(), 4u);
  EXPECT_TRUE(mbr.partitions[0].bootable);
  EXPECT_FALSE(mbr.partitions[1].bootable);
  EXPECT_EQ(result.plan.embed_sectors, 4095u) << "the BIOS boot partition's sectors join the gap";
}

// GPT numbers 1-4 keep their slots, so /dev/sda2 in a configuration still names the same
// partition; the dropped BIOS boot partition leaves slot 1 empty.
TEST(GptToMbr, KeepsPartitionNumbersThatFit) {
  TempDir dir("gpt2mbr");
  fs::path image =
      sgdisk_image(dir, "d.img", 64, {"-n1:2048:4095", "-t1:ef02", "-n2:4096:+20M", "-t2:8300", "-n3:0:0", "-t3:8200"});
  GptToMbrResult result = convert_file(image, {.active_gpt_number = 2});
  ASSERT_TRUE(result.possible) << joined(result.reasons);
  auto dump = run_host_checked({"sfdisk", "--dump", image.string()});
  EXPECT_THAT(dump, HasSubstr("d.img2 : start=        4096, size=       40960, type=83, bootable"));
  EXPECT_THAT(dump, HasSubstr("d.img3 : start=       45056"));
  EXPECT_THAT(dump, ::testing::Not(HasSubstr("d.img1 :")));
  expect_clean_mbr(image);
  EXPECT_EQ(mbr_partuuid(result.plan.disk_signature, 2), fmt::format("{:08x}-02", result.plan.disk_signature));
}

// More than four partitions: three primaries (the boot one among them), the rest logical, each
// behind its own EBR in the free sector before it. util-linux reads the chain back exactly.
TEST(GptToMbr, LogicalPartitionsWhereAFreeSectorPrecedesEach) {
  TempDir dir("gpt2mbr");
  // 1000 KiB partitions on 1 MiB alignment: 48 free sectors before each.
  std::vector<std::string> layout;
  for (int i = 1; i <= 6; ++i) {
    layout.push_back(fmt::format("-n{}:0:+1000K", i));
    layout.push_back(fmt::format("-t{}:{}", i, i == 4 ? "8200" : "8300"));
  }
  fs::path image = sgdisk_image(dir, "six.img", 16, layout);
  const std::vector<std::string> before = [&] {
    std::string bytes = read_host_file(image);
    PartitionTable gpt = read_partition_table(reader_of(bytes), bytes.size());
    std::vector<std::string> lines;
    for (const Partition& p : gpt.partitions)
      lines.push_back(fmt::format("{} {}", p.first_sector, p.last_sector - p.first_sector + 1));
    return lines;
  }();
  GptToMbrResult result = convert_file(image, {.active_gpt_number = 1});
  ASSERT_TRUE(result.possible) << joined(result.reasons);
  EXPECT_EQ(result.plan.extended_first, result.plan.entries[3].first_sector - 1);
  expect_clean_mbr(image);
  auto layout_after = sfdisk_layout(image);
  ASSERT_EQ(layout_after.size(), 7u) << "three primaries, the extended partition, three logicals";
  std::string bytes = read_host_file(image);
  PartitionTable mbr = read_partition_table(reader_of(bytes), bytes.size());
  EXPECT_TRUE(mbr.problems.empty()) << joined(mbr.problems);
  std::vector<std::string> after;
  for (const Partition& p : mbr.partitions)
    if (p.mbr_type != 0x0f) after.push_back(fmt::format("{} {}", p.first_sector, p.last_sector - p.first_sector + 1));
  EXPECT_EQ(after, before) << "every partition on the same sectors";
  EXPECT_EQ(mbr.partitions[0].number, 1);
  EXPECT_TRUE(mbr.partitions[0].bootable);
  EXPECT_EQ(mbr.partitions.back().number, 7);
  EXPECT_EQ(mbr.partitions.back().mbr_type, 0x83);
  EXPECT_EQ(mbr.partitions[4].mbr_type, 0x82) << "GPT partition 4 (swap) is the first logical";
}

// Converting moves nothing: every byte inside every kept partition is the same afterwards.
TEST(GptToMbr, PartitionContentUntouched) {
  TempDir dir("gpt2mbr");
  fs::path image = sgdisk_image(dir, "c.img", 8, {"-a1", "-n1:34:2047", "-t1:ef02", "-n2:2048:0", "-t2:8300"});
  std::string bytes = read_host_file(image);
  const std::string pattern = test::random_bytes(bytes.size() - 2048 * 512 - 34 * 512, 7);
  bytes.replace(2048 * 512, pattern.size(), pattern);
  write_host_file_atomic(image, bytes);
  ASSERT_TRUE(convert_file(image).possible);
  EXPECT_EQ(read_host_file(image).substr(2048 * 512, pattern.size()), pattern);
}

// The corpus's GPT images (made by other projects' tools) convert, and sfdisk agrees with sgdisk.
TEST(GptToMbr, CorpusImages) {
  VMFIX_REQUIRE_CORPUS(corpus);
  TempDir dir("gpt2mbr");
  for (const char* name : {"partitions/quyzi-gpt/gpt-disk.img", "partitions/gptman/disk1.img"}) {
    SCOPED_TRACE(name);
    fs::path ours = dir.path() / "ours.img", theirs = dir.path() / "theirs.img";
    fs::remove(ours);
    fs::remove(theirs);
    fs::copy_file(corpus / name, ours);
    fs::copy_file(corpus / name, theirs);
    GptToMbrResult result = convert_file(ours);
    ASSERT_TRUE(result.possible) << joined(result.reasons);
    run_host_checked({"sgdisk", "--gpttombr=1:2", theirs.string()});
    EXPECT_EQ(sfdisk_layout(ours), sfdisk_layout(theirs));
    EXPECT_EQ(sfdisk_layout(ours).size(), 2u);
  }
}

// Every case that cannot be converted says exactly why.
TEST(GptToMbr, ReasonsWhenNotPossible) {
  auto reasons = [&](const PartitionTable& table, GptToMbrRequest request = {}) {
    GptToMbrResult result = plan_gpt_to_mbr(table, request);
    EXPECT_FALSE(result.possible);
    return joined(result.reasons);
  };
  PartitionTable mbr;
  mbr.kind = "mbr";
  EXPECT_EQ(reasons(mbr), "the disk has no GPT to convert (its partition table is mbr)\n");

  PartitionTable four_k = gpt_of({{6, 1000}});
  four_k.sector_size = 4096;
  EXPECT_THAT(reasons(four_k), HasSubstr("the disk has 4096-byte logical sectors"));

  PartitionTable damaged = gpt_of({{2048, 4095}});
  damaged.problems.push_back("GPT entry array CRC32 is wrong");
  EXPECT_THAT(
      reasons(damaged),
      HasSubstr("the GPT is damaged (GPT entry array CRC32 is wrong); vmfix converts only a table it can trust"));

  EXPECT_EQ(reasons(gpt_of({{2048, 4095}}, "5808C8AA-7E8F-42E0-85D2-E1E90434CFB3")),
            "partition 1 (5808C8AA-7E8F-42E0-85D2-E1E90434CFB3) belongs to a Windows dynamic disk (LDM), which has no "
            "MBR form here\n");
  EXPECT_EQ(reasons(gpt_of({{2048, 4095}}, "6A898CC3-1DD2-11B2-99A6-080020736631")),
            "partition 1 (6A898CC3-1DD2-11B2-99A6-080020736631) has the type GUID "
            "6A898CC3-1DD2-11B2-99A6-080020736631, which has no MBR type\n");
  EXPECT_EQ(reasons(gpt_of({{2048, 4095}, {4096, (uint64_t{1} << 32) + 10}})),
            "partition 2 (linux) ends at sector 4294967306, beyond the 2^32 sectors (2 TiB) an MBR can address\n");
  EXPECT_EQ(reasons(gpt_of({{2048, 4095}}, std::string(disk::kBiosBootGuid))),
            "no partition would remain on the disk\n");

  // Six partitions back to back: no room for any EBR.
  std::vector<std::pair<uint64_t, uint64_t>> packed;
  for (uint64_t i = 0; i < 6; ++i) packed.emplace_back(2048 + i * 2048, 2048 + i * 2048 + 2047);
  EXPECT_THAT(reasons(gpt_of(packed)), HasSubstr("6 partitions would remain; an MBR holds four primary partitions"));

  // Room for EBRs only before partitions 4-6, and the boot partition is 5: it would be logical.
  std::vector<std::pair<uint64_t, uint64_t>> spaced = packed;
  for (size_t i = 3; i < 6; ++i) spaced[i].first += 1;
  EXPECT_TRUE(plan_gpt_to_mbr(gpt_of(spaced), {}).possible);
  EXPECT_THAT(reasons(gpt_of(spaced), {.active_gpt_number = 5}), HasSubstr("the boot partition stays primary"));

  EXPECT_EQ(reasons(gpt_of({{34, 4095}}), {.embed_sectors_needed = 64}),
            "the gap between the MBR and the first partition (33 sectors) cannot hold the boot loader's core image (64 "
            "sectors)\n");
  PartitionTable with_bios_boot = gpt_of({{2048, 4095}, {4096, 8191}});
  with_bios_boot.partitions[0].gpt_type = disk::kBiosBootGuid;
  EXPECT_THAT(reasons(with_bios_boot, {.active_gpt_number = 1}),
              HasSubstr("the boot partition 1 would not remain on the disk"));
}

// Three GPT partitions that become MBR 1, 2 and 11 (the first two numbered the other way round;
// 11's PARTUUID ends "-0b", which a following "y-partuuid/" would turn into "by-partuuid/").
struct RenameCase {
  PartitionTable gpt;
  MbrPlan plan;
  RenameCase() {
    gpt.kind = "gpt";
    for (const auto& [number, guid] :
         {std::pair{2, "6E3B1F2A-9C4D-4E5F-8A7B-1C2D3E4F5A6B"}, std::pair{3, "0F1E2D3C-4B5A-4968-8776-A5B4C3D2E1F0"},
          std::pair{4, "A1B2C3D4-E5F6-4789-9ABC-DEF012345678"}}) {
      Partition p;
      p.number = number;
      p.gpt_guid = guid;
      gpt.partitions.push_back(p);
    }
    plan.disk_signature = 0x1a2b3c4d;
    for (const auto& [mbr, from] : {std::pair{1, 3}, std::pair{2, 2}, std::pair{11, 4}}) {
      MbrEntry e;
      e.number = mbr;
      e.gpt_number = from;
      plan.entries.push_back(e);
    }
  }
};

TEST(GptToMbr, ConfigurationNamesTheMbrPartitions) {
  const RenameCase c;
  EXPECT_EQ(with_mbr_names("UUID=x / ext4 0 1\nPARTUUID=6e3b1f2a-9c4d-4e5f-8a7b-1c2d3e4f5a6b /boot ext4 0 2\n"
                           "/dev/disk/by-partuuid/0F1E2D3C-4B5A-4968-8776-A5B4C3D2E1F0 none swap sw 0 0\n",
                           c.gpt, c.plan),
            "UUID=x / ext4 0 1\nPARTUUID=1a2b3c4d-02 /boot ext4 0 2\n"
            "/dev/disk/by-partuuid/1a2b3c4d-01 none swap sw 0 0\n");
  EXPECT_EQ(with_mbr_names("insmod part_gpt\nset root='hd0,gpt3'\nsearch --hint='hd0,gpt2' --hint=hd0,gpt22 "
                           "root=PARTUUID=\"0F1E2D3C-4B5A-4968-8776-A5B4C3D2E1F0\" my_part_gpt x6E3B1F2A-9C4D-4E5F-"
                           "8A7B-1C2D3E4F5A6B\n",
                           c.gpt, c.plan),
            "insmod part_msdos\nset root='hd0,msdos1'\nsearch --hint='hd0,msdos2' --hint=hd0,gpt22 "
            "root=PARTUUID=\"1a2b3c4d-01\" my_part_gpt x6E3B1F2A-9C4D-4E5F-8A7B-1C2D3E4F5A6B\n");
  // "hd" and a hundred thousand digits: std::regex, which did this once, overflowed the stack.
  const std::string digits(100000, '7');
  EXPECT_EQ(with_mbr_names("(hd" + digits + ",gpt2)", c.gpt, c.plan), "(hd" + digits + ",msdos2)");
  // Four hundred thousand matches in 4 MiB, renamed in one pass (in place, each moved the rest).
  std::string many, renamed;
  for (int i = 0; i < 400000; ++i) many += "part_gpt\n", renamed += "part_msdos\n";
  EXPECT_EQ(with_mbr_names(many, c.gpt, c.plan), renamed);
  // A name made by a replacement is not read again: "-0b" + "y-partuuid/" is no "by-partuuid/".
  EXPECT_EQ(with_mbr_names("PARTUUID=A1B2C3D4-E5F6-4789-9ABC-DEF012345678y-partuuid/A1B2C3D4-E5F6-4789-9ABC-"
                           "DEF012345678",
                           c.gpt, c.plan),
            "PARTUUID=1a2b3c4d-0by-partuuid/A1B2C3D4-E5F6-4789-9ABC-DEF012345678");
}

// The renaming against the regular expressions that did it before, on text made of the pieces
// where the two could part: GUIDs in either case, prefixes, hints, digits, word characters.
TEST(GptToMbr, RenamingAgreesWithTheRegularExpressions) {
  const RenameCase c;
  auto by_regex = [&](std::string text) {
    for (const MbrEntry& e : c.plan.entries) {
      const std::string guid = c.gpt.partitions[static_cast<size_t>(e.gpt_number - 2)].gpt_guid;
      text = std::regex_replace(text, std::regex("(PARTUUID=\"?|by-partuuid/)" + guid, std::regex::icase),
                                "$01" + mbr_partuuid(c.plan.disk_signature, e.number));
      text = std::regex_replace(text, std::regex("(hd[0-9]+,)gpt" + std::to_string(e.gpt_number) + "\\b"),
                                "$01msdos" + std::to_string(e.number));
    }
    return std::regex_replace(text, std::regex("\\bpart_gpt\\b"), "part_msdos");
  };
  const std::vector<std::string> pieces{"PARTUUID=",
                                        "partuuid=",
                                        "\"",
                                        "by-partuuid/",
                                        "BY-PARTUUID/",
                                        "6E3B1F2A-9C4D-4E5F-8A7B-1C2D3E4F5A6B",
                                        "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0",
                                        "A1B2C3D4-E5F6-4789-9ABC-DEF012345678",
                                        "y-partuuid/",
                                        "gpt4",
                                        "hd",
                                        "0",
                                        "12",
                                        ",",
                                        "gpt",
                                        "gpt2",
                                        "gpt3",
                                        "part_gpt",
                                        "_",
                                        "x",
                                        " ",
                                        "'"};
  std::mt19937 random(20261207);
  int changed = 0;
  for (int i = 0; i < 5000; ++i) {
    std::string text;
    for (size_t n = 1 + random() % 8; n > 0; --n) text += pieces[random() % pieces.size()];
    const std::string expected = by_regex(text);
    ASSERT_EQ(with_mbr_names(text, c.gpt, c.plan), expected) << text;
    changed += expected != text;
  }
  EXPECT_GT(changed, 500);
  EXPECT_LT(changed, 4500);
}

TEST(GptToMbr, TypeMapping) {
  EXPECT_EQ(mbr_type_for_gpt("0fc63daf-8483-4772-8e79-3d69d8477de4"), 0x83);
  EXPECT_EQ(mbr_type_for_gpt("0657FD6D-A4AB-43C4-84E5-0933C84B4F4F"), 0x82);
  EXPECT_EQ(mbr_type_for_gpt("E6D6D379-F507-44C2-A23C-238F2A3DF928"), 0x8e);
  EXPECT_EQ(mbr_type_for_gpt("A19D880F-05FC-4D3B-A006-743F0F84911E"), 0xfd);
  EXPECT_EQ(mbr_type_for_gpt("EBD0A0A2-B9E5-4433-87C0-68B6B72699C7"), 0x07);
  EXPECT_EQ(mbr_type_for_gpt(disk::kEspGuid), 0xef);
  EXPECT_EQ(mbr_type_for_gpt("DE94BBA4-06D1-4D40-A16A-BFD50179D6AC"), 0x27);
  EXPECT_EQ(mbr_type_for_gpt("00000000-0000-0000-0000-000000000001"), 0);
}

}  // namespace vmfix::disk

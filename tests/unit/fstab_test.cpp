// The fstab rewriter on fstabs as installers write them and on the real files in the corpus.
#include "fixers/fstab.h"

#include <fmt/core.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <regex>

#include "fixers/table.h"
#include "guest/fake_guest.h"
#include "inspect/device_name.h"
#include "support/files.h"
#include "support/text.h"
#include "tests/test_support.h"

namespace vmfix::fixers {
namespace {
namespace fs = std::filesystem;

const UuidOf kUuids = [](const std::string& device) -> std::string {
  const std::string appliance = appliance_device(device);
  if (appliance == "/dev/sda1") return "1111-boot";
  if (appliance == "/dev/sda2") return "2222-root";
  if (appliance == "/dev/sdb1") return "3333-data";
  return "";
};

// One definition of removable media: the cdrom rule and the fstab fixer both use it.
TEST(Fstab, RemovableMediaMountedAtBoot) {
  EXPECT_TRUE(is_removable_media("/dev/sr0", "auto"));
  EXPECT_TRUE(is_removable_media("LABEL=DVD", "udf,iso9660"));
  EXPECT_FALSE(is_removable_media("UUID=1", "ext4"));
  EXPECT_FALSE(is_removable_media("/dev/sda1", "vfat"));
  const std::vector<std::string> found = removable_media_mounted_at_boot(
      "UUID=1 / ext4 defaults 0 1\n"
      "/dev/sr0 /media/cdrom0 udf,iso9660 user,noauto 0 0\n"
      "/dev/sr1   /media/cdrom1 iso9660 ro,user 0 0\n"
      "# /dev/sr2 /media/cdrom2 iso9660 ro 0 0\n"
      "/dev/fd0 /mnt/floppy auto noauto 0 0\n"
      "LABEL=ISO /mnt/iso udf defaults 0 0\n"
      "/dev/scd0 /mnt/scd\n");
  EXPECT_EQ(found, (std::vector<std::string>{"/dev/sr1   /media/cdrom1 iso9660 ro,user 0 0",
                                             "LABEL=ISO /mnt/iso udf defaults 0 0"}));
}

// Found by the fstab fuzzer's long run: the check trimmed every whitespace from a line, the
// rewriter (as libmount) splits at spaces and tabs only, so a carriage return before /dev/sr0
// made the check see an optical drive the rewriter did not.
TEST(Fstab, CheckAndRewriterSplitFieldsAlike) {
  const std::string odd = "\r/dev/sr0 \t\t/any/foo/\t\tauto\tdefaults 0 0\n";
  EXPECT_TRUE(removable_media_mounted_at_boot(odd).empty());
  EXPECT_EQ(rewrite_fstab(odd, kUuids), odd);
  const std::string indented = "\t /dev/sr0 /media/cdrom auto defaults 0 0\r\n";
  EXPECT_EQ(removable_media_mounted_at_boot(indented),
            std::vector<std::string>{"/dev/sr0 /media/cdrom auto defaults 0 0"});
  EXPECT_EQ(rewrite_fstab(indented, kUuids), "\t /dev/sr0 /media/cdrom auto defaults,noauto,nofail 0 0\r\n");
  EXPECT_TRUE(removable_media_mounted_at_boot(rewrite_fstab(indented, kUuids)).empty());
}

TEST(Fstab, DeviceNamesAndWhatTheyMapTo) {
  for (const char* name : {"/dev/sda1", "/dev/hdb", "/dev/vda3", "/dev/xvdf1", "/dev/nvme0n1p2", "/dev/cciss/c0d0p1"})
    EXPECT_TRUE(is_kernel_device_name(name)) << name;
  for (const char* name : {"UUID=x", "LABEL=root", "/dev/mapper/vg-root", "/dev/md0", "/dev/disk/by-uuid/x", "tmpfs"})
    EXPECT_FALSE(is_kernel_device_name(name)) << name;
  EXPECT_EQ(appliance_device("/dev/vda2"), "/dev/sda2");
  EXPECT_EQ(appliance_device("/dev/xvdb1"), "/dev/sdb1");
  EXPECT_EQ(appliance_device("/dev/nvme1n1p1"), "/dev/sdb1");
  EXPECT_EQ(appliance_device("/dev/cciss/c0d0p2"), "/dev/sda2");
  EXPECT_EQ(appliance_device("/dev/mapper/x"), "");
}

TEST(Fstab, DiskNumbersBeyondZAndOutOfRange) {
  EXPECT_EQ(appliance_device("/dev/nvme25n1p1"), "/dev/sdz1");
  EXPECT_EQ(appliance_device("/dev/nvme26n1"), "/dev/sdaa");
  EXPECT_EQ(appliance_device("/dev/cciss/c0d701p3"), "/dev/sdzz3");
  EXPECT_EQ(appliance_device("/dev/cciss/c0d702"), "/dev/sdaaa");
  // A guest's fstab may name any number; one no disk can have maps to nothing, and never throws.
  EXPECT_EQ(appliance_device("/dev/nvme18278n1"), "");
  EXPECT_EQ(appliance_device("/dev/nvme99999999999999999999n1p1"), "");
  EXPECT_TRUE(is_kernel_device_name("/dev/nvme99999999999999999999n1p1"));
  EXPECT_EQ(appliance_device("/dev/xvdzzz1"), "/dev/sdzzz1");
  EXPECT_EQ(appliance_device("/dev/sdaaaa1"), "") << "past the last three-letter name";
  EXPECT_TRUE(is_kernel_device_name("/dev/sdaaaa1"));
  // Letters and numbers count the same disks: the n-th sd name is the n-th NVMe controller's.
  for (size_t n = 0; n < 26 + 26 * 26 + 26 * 26 * 26; ++n) {
    const std::string name = "/dev/" + inspect::sd_disk_name(n);
    ASSERT_EQ(appliance_device(name + "7"), name + "7");
    ASSERT_EQ(appliance_device(fmt::format("/dev/nvme{}n1p7", n)), name + "7");
  }
  EXPECT_EQ(inspect::sd_disk_name(26 + 26 * 26 + 26 * 26 * 26), "");
}

// The device names and resume= rewriting against the regular expressions that once implemented
// them (std::regex: correct, but a third of the fstab fuzzer's time), on names and command lines
// made of the pieces where the two could part: prefixes, letters, digits, p, slashes, keys.
TEST(Fstab, HandWrittenMatchersAgreeWithTheRegularExpressions) {
  const std::regex kernel_name(
      R"(/dev/((s|h|v|xv)d[a-z]+[0-9]*|nvme[0-9]+n[0-9]+(p[0-9]+)?|cciss/c[0-9]+d[0-9]+(p[0-9]+)?))");
  const std::regex disk(R"(/dev/(s|h|v|xv)d([a-z]+)([0-9]*))");
  const std::regex nvme(R"(/dev/nvme([0-9])n[0-9]+(p([0-9]+))?)");
  const std::regex resume(R"((resume|RESUME)=(/dev/[A-Za-z0-9/]+))");
  auto uuid_of = [](const std::string& device) { return device.back() == '0' ? "" : "U" + device.substr(5); };
  auto resume_by_regex = [&](const std::string& text) {
    std::string result;
    std::smatch match;
    auto from = text.cbegin();
    while (std::regex_search(from, text.cend(), match, resume)) {
      result.append(from, match[0].first);
      const std::string uuid = std::regex_match(match[2].str(), kernel_name) ? uuid_of(match[2].str()) : "";
      result += uuid.empty() ? match[0].str() : match[1].str() + "=UUID=" + uuid;
      from = match[0].second;
    }
    return result.append(from, text.cend());
  };
  const std::vector<std::string> prefixes{"sd", "hd", "vd", "xvd", "xd", "nvme", "cciss/c", "cciss/", ""};
  const std::vector<std::string> pieces{"a", "z", "aa", "0", "1", "12", "n", "p", "d", "/", "A", "-", " ", "="};
  const std::vector<std::string> keys{"resume=", "RESUME=", "Resume=", "xresume=", "resume", "=", " "};
  std::mt19937 random(20261207);
  auto pick = [&](const std::vector<std::string>& from) { return from[random() % from.size()]; };
  int names = 0, rewritten = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string text = (random() % 5 ? "/dev/" : pick(pieces)) + pick(prefixes);
    for (size_t n = random() % 5; n > 0; --n) text += pick(pieces);
    const bool matched = std::regex_match(text, kernel_name);
    names += matched;
    ASSERT_EQ(is_kernel_device_name(text), matched) << text;
    std::smatch match;
    if (std::regex_match(text, match, disk)) {
      const std::string expected = match[2].length() <= 3 ? "/dev/sd" + match[2].str() + match[3].str() : "";
      ASSERT_EQ(appliance_device(text), expected) << text;
    }
    if (std::regex_match(text, match, nvme)) {
      const std::string letter(1, static_cast<char>('a' + std::stoi(match[1].str())));
      ASSERT_EQ(appliance_device(text), "/dev/sd" + letter + match[3].str()) << text;
    }
    const std::string line = pick(keys) + text + pick(keys) + text + pick(pieces);
    const std::string expected = resume_by_regex(line);
    rewritten += expected != line;
    ASSERT_EQ(rewrite_resume(line, uuid_of), expected) << line;
  }
  EXPECT_GT(names, 1000) << "the generator must reach the names, or the comparison shows nothing";
  EXPECT_GT(rewritten, 500);
}

TEST(Fstab, RewritesOnlyWhatBreaksOnEc2) {
  const std::string before =
      "# /etc/fstab: static file system information.\n"
      "/dev/sda2   /         ext4    errors=remount-ro 0 1\n"
      "/dev/sda1\t/boot\text4\tdefaults\t1 2\n"
      "UUID=abcd  none      swap    sw    0 0\n"
      "/dev/sdb1   /data     xfs     defaults  0 2\n"
      "/dev/sr0    /media/cdrom0 udf,iso9660 user,noauto 0 0\n"
      "/dev/fd0    /media/floppy auto rw,user 0 0\n"
      "nas:/export /mnt/nas  nfs     rw,hard 0 0\n"
      "/dev/sdc1   /scratch  ext4    defaults 0 2\n";
  std::vector<std::string> unresolved;
  const std::string after = rewrite_fstab(before, kUuids, &unresolved);
  EXPECT_EQ(after,
            "# /etc/fstab: static file system information.\n"
            "UUID=2222-root   /         ext4    errors=remount-ro 0 1\n"
            "UUID=1111-boot\t/boot\text4\tdefaults\t1 2\n"
            "UUID=abcd  none      swap    sw    0 0\n"
            "UUID=3333-data   /data     xfs     defaults  0 2\n"
            "/dev/sr0    /media/cdrom0 udf,iso9660 user,noauto,nofail 0 0\n"
            "/dev/fd0    /media/floppy auto rw,user,noauto,nofail 0 0\n"
            "nas:/export /mnt/nas  nfs     rw,hard,nofail 0 0\n"
            "/dev/sdc1   /scratch  ext4    defaults 0 2\n");
  EXPECT_EQ(unresolved, std::vector<std::string>{"/dev/sdc1"});
  EXPECT_EQ(rewrite_fstab(after, kUuids), after);
  EXPECT_EQ(rewrite_resume("GRUB_CMDLINE_LINUX=\"resume=/dev/sda1 quiet\"\n", kUuids),
            "GRUB_CMDLINE_LINUX=\"resume=UUID=1111-boot quiet\"\n");
  EXPECT_EQ(rewrite_resume("RESUME=/dev/mapper/swap\n", kUuids), "RESUME=/dev/mapper/swap\n");
}

TEST(Fstab, FixerUsesTheFilesystemsInspectionFound) {
  guest::FakeGuest guest;
  guest.add_file("/etc/fstab", "/dev/vda2 / ext4 defaults 0 1\n/dev/vda1 /boot ext4 defaults 0 2\n");
  inspect::Facts facts;
  facts.os_type = "linux";
  facts.filesystems.push_back({"/dev/sda1", "ext4", "", "b00t", "/boot", 1, 1, true});
  facts.filesystems.push_back({"/dev/sda2", "ext4", "", "r00t", "/", 1, 1, true});
  auto fixer = make_fstab();
  auto changes = fixer->fix(guest, facts);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(guest.read("/etc/fstab"), "UUID=r00t / ext4 defaults 0 1\nUUID=b00t /boot ext4 defaults 0 2\n");
  EXPECT_NE(changes[0].diff.find("+UUID=r00t / ext4 defaults 0 1"), std::string::npos);
  for (const auto& finding : fixer->check(guest, facts)) EXPECT_EQ(finding.status, Status::pass);
}

TEST(FstabCorpus, RealFstabsKeepTheirShape) {
  VMFIX_REQUIRE_CORPUS(corpus);
  int files = 0;
  for (const auto& entry : fs::directory_iterator(corpus / "linux/fstab/util-linux")) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with("fstab") && name != "example.files-fstab") continue;
    SCOPED_TRACE(name);
    ++files;
    const std::string text = read_host_file(entry.path());
    const std::string after = rewrite_fstab(text, kUuids);
    EXPECT_EQ(split_lines(after).size(), split_lines(text).size()) << "lines added or lost";
    EXPECT_EQ(rewrite_fstab(after, kUuids), after);
    for (std::string_view line : split_lines(after)) {
      if (!trim(line).starts_with("#")) continue;
      EXPECT_NE(text.find(std::string(line)), std::string::npos) << "a comment changed";
    }
  }
  EXPECT_GE(files, 4);
}

}  // namespace
}  // namespace vmfix::fixers

// Initramfs images read on the host: archives made by the real cpio and compressors, this
// machine's own initramfs against lsinitramfs, damaged and hostile images; the EC2 driver check
// and the initramfs fixer on the Linux fixtures with a stand-in for the guest's dracut.
#include "bootloader/initramfs.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "bootloader/kernels.h"
#include "fixers/table.h"
#include "fixtures/fixture.h"
#include "guest/fake_guest.h"
#include "rules/profile.h"
#include "support/decompress.h"
#include "support/error.h"
#include "support/files.h"
#include "support/process.h"
#include "support/text.h"
#include "tests/test_support.h"
#include "tests/unit/fixture_guest.h"

namespace vmfix::bootloader {
namespace {

namespace fs = std::filesystem;

bool has_program(const std::string& name) { return run_host({"sh", "-c", "command -v " + name}).exit_status == 0; }

std::string build_archive(const fs::path& tree, const std::string& compressor) {
  return run_host_checked(
      {"sh", "-c", "cd '" + tree.string() + "' && find . | LC_ALL=C sort | cpio -o -H newc --quiet | " + compressor});
}

TEST(Initramfs, ReadsEveryCompressionTheKernelUnpacks) {
  for (const char* tool : {"cpio", "gzip", "xz", "zstd", "lz4"})
    if (!has_program(tool)) GTEST_SKIP() << tool << " is not installed (scripts/install-deps.sh installs it)";
  TempDir scratch("vmfix-initramfs-test");
  const fs::path tree = scratch.path() / "tree";
  fs::create_directories(tree / "usr/lib/modules/6.1.0-28-amd64/kernel/drivers/nvme/host");
  test::write_file(tree / "usr/lib/modules/6.1.0-28-amd64/kernel/drivers/nvme/host/nvme.ko.xz", std::string(5000, 'n'));
  test::write_file(tree / "init", "#!/bin/sh\n");
  fs::create_symlink("usr/lib", tree / "lib");
  const fs::path early = scratch.path() / "early";
  fs::create_directories(early / "kernel/x86/microcode");
  test::write_file(early / "kernel/x86/microcode/GenuineIntel.bin", std::string(3000, 'u'));
  const std::string microcode = build_archive(early, "cat");

  for (const char* compressor :
       {"cat", "gzip -9", "xz --check=crc32", "xz --format=lzma", "zstd -q -19", "zstd -q --no-check", "lz4 -l -q"}) {
    SCOPED_TRACE(compressor);
    const std::string main = build_archive(tree, compressor);
    InitramfsListing listing = list_initramfs(microcode + main);
    std::set<std::string> files(listing.files.begin(), listing.files.end());
    EXPECT_TRUE(files.count("kernel/x86/microcode/GenuineIntel.bin"));
    EXPECT_TRUE(files.count("usr/lib/modules/6.1.0-28-amd64/kernel/drivers/nvme/host/nvme.ko.xz"));
    EXPECT_TRUE(files.count("init"));
    EXPECT_TRUE(files.count("lib"));
    ASSERT_EQ(listing.compressions.size(), 2u) << listing.compressions.back();
    EXPECT_EQ(listing.compressions[0], "none");
  }
  // Two gzip members one after the other (some mkinitrd versions append a second archive).
  const std::string twice = build_archive(tree, "gzip") + build_archive(early, "gzip");
  InitramfsListing listing = list_initramfs(twice);
  EXPECT_TRUE(std::count(listing.files.begin(), listing.files.end(), "kernel/x86/microcode/GenuineIntel.bin"));
}

// Output that crosses every buffer boundary of the decompressors: 1 MiB chunks, lz4's 8 MiB blocks,
// an lz4 block of zeros that expands about 255 times (the most lz4 can).
TEST(Initramfs, DecompressesLargeOutputsByteForByte) {
  for (const char* tool : {"gzip", "xz", "zstd", "lz4"})
    if (!has_program(tool)) GTEST_SKIP() << tool << " is not installed (scripts/install-deps.sh installs it)";
  TempDir scratch("vmfix-decompress-test");
  std::string data(9 << 20, '\0');
  uint32_t state = 20261207;
  for (size_t i = 0; i < (5u << 20); ++i) {
    state = state * 1103515245u + 12345u;
    data.push_back(static_cast<char>((state >> 16) % 7));  // compressible, not trivially
  }
  const fs::path file = scratch.path() / "data";
  test::write_file(file, data);
  const std::pair<const char*, Compression> tools[] = {{"gzip -1", Compression::gzip},
                                                       {"xz -0 --check=crc32", Compression::xz},
                                                       {"xz -0 --format=lzma", Compression::lzma},
                                                       {"zstd -q -1", Compression::zstd},
                                                       {"lz4 -l -q -1", Compression::lz4_legacy}};
  for (const auto& [compressor, kind] : tools) {
    SCOPED_TRACE(compressor);
    const std::string packed = run_host_checked({"sh", "-c", std::string(compressor) + " <'" + file.string() + "'"});
    ASSERT_EQ(compression_of(packed), kind);
    const std::string unpacked = decompress(kind, packed, size_t{64} << 20, "test");
    ASSERT_EQ(unpacked.size(), data.size());
    EXPECT_TRUE(unpacked == data);
    EXPECT_THROW(decompress(kind, packed, size_t{4} << 20, "test"), BadInput) << "past the limit";
  }
}

TEST(Initramfs, ThisMachinesInitramfsListsAsLsinitramfsSays) {
  if (!has_program("lsinitramfs")) GTEST_SKIP() << "no lsinitramfs (initramfs-tools) on this machine";
  std::vector<fs::path> images;
  if (fs::is_directory("/boot"))
    for (const auto& entry : fs::directory_iterator("/boot"))
      if (entry.path().filename().string().starts_with("initrd.img-")) images.push_back(entry.path());
  if (images.empty()) GTEST_SKIP() << "no /boot/initrd.img-* (linux-image-amd64 installs one)";
  for (const fs::path& image : images) {
    SCOPED_TRACE(image.string());
    InitramfsListing listing = list_initramfs(read_host_file(image));
    std::set<std::string> ours(listing.files.begin(), listing.files.end()), theirs;
    const std::string listed = run_host_checked({"lsinitramfs", image.string()});
    for (std::string_view line : split_lines(listed)) {
      std::string name(line);
      if (name.empty() || name == ".") continue;
      theirs.insert(name.starts_with("./") ? name.substr(2) : name);
    }
    ours.erase(".");
    EXPECT_GT(ours.size(), 100u);
    EXPECT_EQ(ours, theirs);
  }
}

TEST(Initramfs, DamagedImagesAreErrorsNotCrashes) {
  const std::string good = fixtures::initramfs_image({"usr/lib/modules/5.10.0/kernel/drivers/block/xen-blkfront.ko"});
  EXPECT_EQ(list_initramfs(good).files,
            (std::vector<std::string>{"usr/lib/modules/5.10.0/kernel/drivers/block/xen-blkfront.ko"}));
  EXPECT_THROW(list_initramfs(""), BadInput);
  EXPECT_THROW(list_initramfs(test::random_bytes(4096, 7)), BadInput);
  EXPECT_THROW(list_initramfs("BZh91AY&SY"), BadInput);
  for (size_t cut : {size_t{10}, good.size() / 2, good.size() - 9})
    EXPECT_THROW(list_initramfs(good.substr(0, cut)), BadInput) << "cut at " << cut;
  // A cpio header whose name runs past the end.
  std::string header = "070701" + std::string(11 * 8, '0') + "7FFFFFFF" + "00000000";
  EXPECT_THROW(list_initramfs(header + "x"), BadInput);
  // A bomb: the limit stops decompression.
  const std::string zeros = run_host_checked({"sh", "-c", "head -c 50000000 /dev/zero | gzip -1"});
  EXPECT_THROW(list_initramfs(zeros, 10 << 20), BadInput);
  // ... also when it is spread over many small gzip members.
  const std::string members =
      run_host_checked({"sh", "-c", "for i in $(seq 40); do head -c 1000000 /dev/zero | gzip -1; done"});
  EXPECT_THROW(list_initramfs(members, 10 << 20), BadInput);
  // An lzma header asking for a dictionary of almost 4 GiB (found by fuzz_initramfs): liblzma
  // would allocate it; the decoder's memory limit refuses it.
  const std::string lzma = std::string("\x5d\x00\x00\xff\xff", 5) + std::string(8, '\xff') + std::string(64, '\0');
  try {
    list_initramfs(lzma);
    ADD_FAILURE() << "a 4 GiB lzma dictionary was accepted";
  } catch (const BadInput& error) {
    EXPECT_STREQ(error.what(), "initramfs: xz/lzma data that needs more than 256 MiB to decompress");
  }
  // A cpio entry padded past the end of the image.
  std::string entry =
      "070701" + std::string(6 * 8, '0') + "00000001" + std::string(4 * 8, '0') + "00000002" + "00000000" + "a";
  EXPECT_THROW(list_initramfs(entry + std::string(1, '\0') + "x"), BadInput);
}

}  // namespace
}  // namespace vmfix::bootloader

namespace vmfix::fixers {
namespace {

using test::load_fixture;
std::unique_ptr<Fixer> initramfs_fixer() { return test::fixer_named("initramfs"); }

std::map<std::string, std::string> states(guest::Guest& guest, const std::string& version, const std::string& initrd) {
  std::map<std::string, std::string> found;
  for (const auto& state :
       bootloader::ec2_driver_states(guest, version, bootloader::list_initramfs(guest.read(initrd)).files))
    found[state.module] = state.state;
  return found;
}

// The findings of one rule: the fixer answers linux-initramfs-drivers and linux-ena.
std::vector<Finding> of_rule(const std::vector<Finding>& findings,
                             const std::string& rule = "linux-initramfs-drivers") {
  std::vector<Finding> kept;
  for (const Finding& finding : findings)
    if (finding.rule == rule) kept.push_back(finding);
  return kept;
}

TEST(InitramfsDrivers, FixturesHaveEc2DriversWhereTheyBelong) {
  guest::FakeGuest centos;
  load_fixture(centos, "centos7-vmware");
  const std::string v = "3.10.0-1160.el7.x86_64";
  EXPECT_EQ(
      states(centos, v, "/boot/initramfs-" + v + ".img"),
      (std::map<std::string, std::string>{
          {"xen-blkfront", "in-initramfs"}, {"nvme", "in-initramfs"}, {"xen-netfront", "module"}, {"ena", "module"}}));
  guest::FakeGuest debian;
  load_fixture(debian, "debian11-gpt-bios");
  EXPECT_EQ(states(debian, "5.10.0-28-amd64", "/boot/initrd.img-5.10.0-28-amd64")["nvme"], "built-in");
  auto fixer = initramfs_fixer();
  for (auto* guest : {&centos, &debian}) {
    auto facts = test::linux_boot_facts(*guest);
    ASSERT_TRUE(fixer->applies(facts));
    auto all = fixer->check(*guest, facts);
    auto findings = of_rule(all);
    ASSERT_EQ(findings.size(), 1u);
    EXPECT_EQ(findings[0].status, Status::pass) << findings[0].evidence;
    ASSERT_EQ(of_rule(all, "linux-ena").size(), 1u) << "the report says whether Nitro types can network";
    EXPECT_TRUE(fixer->fix(*guest, facts).empty());
  }
}

// A VMware guest's host-only initramfs: pvscsi, no xen-blkfront, no nvme.
void make_host_only(guest::FakeGuest& guest, const std::string& initrd, const std::string& version) {
  guest.add_file(initrd,
                 fixtures::initramfs_image({"usr/lib/modules/" + version + "/kernel/drivers/scsi/vmw_pvscsi.ko"}));
}

TEST(InitramfsDrivers, DracutRebuildsAHostOnlyInitramfs) {
  guest::FakeGuest guest;
  load_fixture(guest, "rhel8-uefi");
  const std::string v = "4.18.0-513.5.1.el8_9.x86_64", initrd = "/boot/initramfs-" + v + ".img";
  make_host_only(guest, initrd, v);
  auto fixer = initramfs_fixer();
  auto facts = test::linux_boot_facts(guest);
  auto findings = of_rule(fixer->check(guest, facts));
  ASSERT_EQ(findings.size(), 2u);
  for (const Finding& finding : findings) {
    EXPECT_EQ(finding.status, Status::fail);
    EXPECT_FALSE(finding.repairable) << "no dracut in the guest yet: " << finding.evidence;
  }
  guest.add_file("/usr/bin/dracut", "#!/bin/bash\n", 0755);
  findings = of_rule(fixer->check(guest, facts));
  for (const Finding& finding : findings) EXPECT_TRUE(finding.repairable) << finding.evidence;

  guest.on_run([&](const std::vector<std::string>& argv) -> std::string {
    // dracut honours /etc/dracut.conf.d: the stand-in packs what add_drivers names.
    EXPECT_EQ(argv, (std::vector<std::string>{"/usr/bin/dracut", "-f", initrd, v}));
    std::vector<std::string> packed{"usr/lib/modules/" + v + "/kernel/drivers/scsi/vmw_pvscsi.ko"};
    if (guest.read("/etc/dracut.conf.d/90-vmfix-ec2.conf").find(" xen-blkfront nvme ") != std::string::npos)
      for (const char* module : {"block/xen-blkfront.ko", "nvme/host/nvme.ko"})
        packed.push_back("usr/lib/modules/" + v + "/kernel/drivers/" + module);
    guest.write(initrd, fixtures::initramfs_image(packed));
    return "";
  });
  auto changes = fixer->fix(guest, facts);
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0].target, "/etc/dracut.conf.d/90-vmfix-ec2.conf");
  EXPECT_EQ(changes[1].after, "rebuilt with dracut");
  EXPECT_EQ(of_rule(fixer->check(guest, facts))[0].status, Status::pass);
  EXPECT_TRUE(fixer->fix(guest, facts).empty());
  EXPECT_EQ(guest.commands_run().size(), 1u);
}

TEST(InitramfsDrivers, UpdateInitramfsGetsTheModulesListed) {
  guest::FakeGuest guest;
  load_fixture(guest, "ubuntu1804-vmware");
  const std::string v = "4.15.0-213-generic", initrd = "/boot/initrd.img-" + v;
  make_host_only(guest, initrd, v);
  guest.add_file("/usr/sbin/update-initramfs", "#!/bin/sh\n", 0755);
  guest.add_file("/etc/initramfs-tools/modules",
                 "# List of modules that you want to include in your initramfs.\nvmw_pvscsi");
  guest.on_run([&](const std::vector<std::string>& argv) -> std::string {
    EXPECT_EQ(argv, (std::vector<std::string>{"/usr/sbin/update-initramfs", "-u", "-k", v}));
    std::vector<std::string> packed;
    for (std::string_view line : split_lines(guest.read("/etc/initramfs-tools/modules")))
      if (line == "xen-blkfront")
        packed.push_back("usr/lib/modules/" + v + "/kernel/drivers/block/xen-blkfront.ko");
      else if (line == "nvme")
        packed.push_back("usr/lib/modules/" + v + "/kernel/drivers/nvme/host/nvme.ko");
    guest.write(initrd, fixtures::initramfs_image(packed));
    return "";
  });
  auto facts = test::linux_boot_facts(guest);
  auto changes = initramfs_fixer()->fix(guest, facts);
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(guest.read("/etc/initramfs-tools/modules"),
            "# List of modules that you want to include in your initramfs.\nvmw_pvscsi\nxen-blkfront\nnvme\n");
  EXPECT_EQ(of_rule(initramfs_fixer()->check(guest, facts))[0].status, Status::pass);
}

TEST(InitramfsDrivers, AKernelWithoutTheDriverCannotBeFixedByARebuild) {
  guest::FakeGuest guest;
  load_fixture(guest, "centos7-vmware");
  const std::string v = "3.10.0-1160.el7.x86_64";
  guest.add_file("/lib/modules/" + v + "/modules.dep",
                 "kernel/drivers/block/xen-blkfront.ko:\nkernel/drivers/nvme/host/nvme.ko:\n");
  guest.add_file("/usr/sbin/dracut", "", 0755);
  auto all = initramfs_fixer()->check(guest, test::linux_boot_facts(guest));
  auto findings = of_rule(all);
  ASSERT_EQ(findings.size(), 1u) << "xen-netfront is neither built in nor installed";
  EXPECT_FALSE(findings[0].repairable);
  EXPECT_NE(findings[0].evidence.find("install a kernel that has it"), std::string::npos) << findings[0].evidence;
  auto ena = of_rule(all, "linux-ena");
  ASSERT_EQ(ena.size(), 1u);
  EXPECT_EQ(ena[0].status, Status::fail);
  for (const std::string& profile : rules::profile_names()) {
    const auto& rules = rules::load_profile(profile).rules;
    auto rule = std::find_if(rules.begin(), rules.end(), [](const rules::Rule& r) { return r.id == "linux-ena"; });
    ASSERT_NE(rule, rules.end()) << profile;
    EXPECT_EQ(rule->severity, rules::Severity::info) << "the instance type is chosen at launch: Xen types still work";
  }
  EXPECT_NE(ena[0].evidence.find("only Xen-based instance types"), std::string::npos) << ena[0].evidence;
  guest.add_file("/boot/initramfs-" + v + ".img", "not an initramfs at all, just text\n");
  findings = initramfs_fixer()->check(guest, test::linux_boot_facts(guest));
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].status, Status::unknown);
  EXPECT_NE(findings[0].evidence.find("neither a cpio archive nor a known compression"), std::string::npos)
      << findings[0].evidence;
}

}  // namespace
}  // namespace vmfix::fixers

namespace vmfix::bootloader {
namespace {

// The NVMe timeout AWS recommends, as each kernel can take it.
TEST(NvmeTimeout, FromTheKernelsModulesAndVersion) {
  guest::FakeGuest guest;
  guest.add_file("/lib/modules/6.1.0-28-amd64/modules.dep",
                 "kernel/drivers/nvme/host/nvme-core.ko: \nkernel/drivers/nvme/host/nvme.ko: "
                 "kernel/drivers/nvme/host/nvme-core.ko\n");
  EXPECT_EQ(nvme_timeout_argument(guest, "6.1.0-28-amd64"), "nvme_core.io_timeout=4294967295");
  guest.add_file("/lib/modules/4.14.352/modules.builtin",
                 "kernel/drivers/nvme/host/nvme-core.ko\nkernel/drivers/nvme/host/nvme.ko\n");
  EXPECT_EQ(nvme_timeout_argument(guest, "4.14.352"), "nvme_core.io_timeout=255") << "a byte before 4.15";
  guest.add_file("/lib/modules/3.10.0-229.el7.x86_64/modules.dep", "kernel/drivers/block/nvme.ko:\n");
  EXPECT_EQ(nvme_timeout_argument(guest, "3.10.0-229.el7.x86_64"), "nvme.io_timeout=255") << "no nvme-core yet";
  guest.add_file("/lib/modules/3.10.0-1160.el7.x86_64/modules.dep",
                 "kernel/drivers/nvme/host/nvme-core.ko.xz:\nkernel/drivers/nvme/host/nvme.ko.xz:\n");
  EXPECT_EQ(nvme_timeout_argument(guest, "3.10.0-1160.el7.x86_64"), "nvme_core.io_timeout=255")
      << "nvme-core backported";
  guest.add_file("/boot/config-5.10.0-28-amd64", "CONFIG_BLK_DEV_NVME=y\n");
  EXPECT_EQ(nvme_timeout_argument(guest, "5.10.0-28-amd64"), "nvme_core.io_timeout=4294967295");
  guest.add_file("/lib/modules/2.6.32-754.el6.x86_64/modules.dep", "kernel/drivers/scsi/vmw_pvscsi.ko:\n");
  EXPECT_EQ(nvme_timeout_argument(guest, "2.6.32-754.el6.x86_64"), "") << "no NVMe driver at all";
}

}  // namespace
}  // namespace vmfix::bootloader

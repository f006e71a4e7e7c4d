// The gpt-to-mbr fixer on a fake guest whose disk is a real GPT laid out by sgdisk: the table,
// the boot loader command, the configuration edits, and every reason it refuses.
#include <fmt/core.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "disk/gpt_to_mbr.h"
#include "fixers/table.h"
#include "guest/fake_guest.h"
#include "support/files.h"
#include "support/process.h"

namespace vmfix::fixers {
namespace {
namespace fs = std::filesystem;
using ::testing::HasSubstr;

// 64 MiB: BIOS boot (1), root (2), swap (3).
std::string gpt_disk() {
  static const std::string bytes = [] {
    TempDir dir("gpt-fixer");
    fs::path image = dir.path() / "disk.img";
    { std::ofstream(image).close(); }
    fs::resize_file(image, 64 << 20);
    run_host_checked({"sgdisk", "-n1:2048:4095", "-t1:ef02", "-n2:4096:+40M", "-t2:8300", "-n3:0:0", "-t3:8200",
                      "-u2:5A1B0C7E-3D2F-4E6A-9B8C-1D2E3F405162", image.string()});
    return read_host_file(image);
  }();
  return bytes;
}

disk::PartitionTable table_of(const std::string& bytes) {
  return disk::read_partition_table(
      [&](uint64_t offset, size_t length) {
        return offset >= bytes.size() ? std::string() : bytes.substr(offset, length);
      },
      bytes.size());
}

inspect::Facts linux_facts() {
  inspect::Facts facts;
  facts.os_type = "linux";
  facts.distro = "debian";
  facts.package_format = "deb";
  facts.root_device = "/dev/sda2";
  facts.mountpoints = {{"/", "/dev/sda2"}};
  facts.boot_mode = bootloader::BootMode::bios;
  facts.bootloaders.push_back({"grub2", bootloader::BootMode::bios, "/boot/grub/grub.cfg", ""});
  inspect::DiskFacts disk;
  disk.device = "/dev/sda";
  disk.size = 64 << 20;
  disk.partition_table = "gpt";
  disk.partitions.push_back(
      {2, "/dev/sda2", 4096 * 512, 0, 0, "0FC63DAF-8483-4772-8E79-3D69D8477DE4", "linux", "", false, ""});
  facts.disks.push_back(disk);
  return facts;
}

struct Guest {
  guest::FakeGuest fake;
  Guest() {
    fake.add_device("/dev/sda", gpt_disk());
    fake.add_file("/usr/sbin/grub-install", "#!", 0755);
    fake.add_file("/usr/lib/grub/i386-pc/boot.img", std::string(512, 'b'));
    fake.add_file("/boot/grub/i386-pc/core.img", std::string(40 * 1024, 'c'));
    fake.add_file("/etc/fstab", "PARTUUID=5a1b0c7e-3d2f-4e6a-9b8c-1d2e3f405162 / ext4 errors=remount-ro 0 1\n");
    fake.add_file(
        "/boot/grub/grub.cfg",
        "insmod part_gpt\nset root='hd0,gpt2'\nlinux /vmlinuz root=PARTUUID=5A1B0C7E-3D2F-4E6A-9B8C-1D2E3F405162 ro\n");
    std::string grubenv = "# GRUB Environment Block\nkernelopts=root=PARTUUID=5a1b0c7e-3d2f-4e6a-9b8c-1d2e3f405162\n";
    fake.add_file("/boot/grub2/grubenv", grubenv + std::string(1024 - grubenv.size(), '#'));
    fake.on_run([](const std::vector<std::string>&) { return std::string(); });
  }
};

std::unique_ptr<Fixer> fixer() { return make_gpt_to_mbr(); }

TEST(GptToMbrFixer, ConvertsReinstallsGrubAndRenamesPartuuids) {
  Guest g;
  inspect::Facts facts = linux_facts();
  auto f = fixer();
  ASSERT_TRUE(f->applies(facts));
  auto before = f->check(g.fake, facts);
  ASSERT_EQ(before.size(), 1u);
  EXPECT_EQ(before[0].rule, "boot-partitioning");
  EXPECT_EQ(before[0].status, Status::fail);
  EXPECT_TRUE(before[0].repairable);
  EXPECT_THAT(before[0].evidence, HasSubstr("GPT 2 -> MBR 2 (0x83, active, sectors 4096-86015)"));

  auto changes = f->fix(g.fake, facts);
  disk::PartitionTable mbr = table_of(g.fake.device("/dev/sda"));
  EXPECT_EQ(mbr.kind, "mbr");
  ASSERT_EQ(mbr.partitions.size(), 2u);
  EXPECT_EQ(mbr.partitions[0].number, 2);
  EXPECT_TRUE(mbr.partitions[0].bootable);
  EXPECT_EQ(mbr.partitions[1].mbr_type, 0x82);
  const std::string partuuid = disk::mbr_partuuid(mbr.disk_signature, 2);
  EXPECT_EQ(g.fake.read("/etc/fstab"), fmt::format("PARTUUID={} / ext4 errors=remount-ro 0 1\n", partuuid));
  EXPECT_EQ(g.fake.read("/boot/grub/grub.cfg"),
            fmt::format("insmod part_msdos\nset root='hd0,msdos2'\nlinux /vmlinuz root=PARTUUID={} ro\n", partuuid));
  const std::string grubenv = g.fake.read("/boot/grub2/grubenv");
  EXPECT_EQ(grubenv.size(), 1024u) << "grubenv stays one 1024-byte block";
  EXPECT_THAT(grubenv, HasSubstr("kernelopts=root=PARTUUID=" + partuuid + "\n#"));
  ASSERT_EQ(g.fake.commands_run().size(), 1u);
  EXPECT_EQ(g.fake.commands_run()[0],
            (std::vector<std::string>{"/usr/sbin/grub-install", "--target=i386-pc", "/dev/disk/guestfs/vmfixa"}))
      << "the disk by its label: the appliance's kernel may have named it otherwise";
  EXPECT_EQ(changes.size(), 5u);  // table, three files, boot code
  EXPECT_EQ(g.fake.device("/dev/sda").find("EFI PART"), std::string::npos);

  facts.disks[0].partition_table = "mbr";
  EXPECT_FALSE(f->applies(facts));
  facts.disks[0].partition_table = "gpt";  // stale facts: the fixer reads the disk itself
  EXPECT_TRUE(f->fix(g.fake, facts).empty()) << "a second run changes nothing";
  EXPECT_EQ(f->check(g.fake, facts)[0].status, Status::pass);
}

// GRUB legacy's grub-install looks the disk up in its device map by name, so it gets the name
// the appliance's kernel gave the disk (read from the label's link) and a map that makes that
// disk hd0 while it runs; the guest's own map comes back afterwards.
TEST(GptToMbrFixer, GrubLegacyGetsTheKernelsNameForTheDisk) {
  for (bool own_map : {false, true}) {
    SCOPED_TRACE(own_map ? "the guest has a device map" : "no device map");
    Guest g;
    g.fake.rm("/boot/grub/grub.cfg");
    if (own_map) g.fake.add_file("/boot/grub/device.map", "(fd0) /dev/fd0\n(hd0) /dev/sda\n");
    std::string map_while_installing;
    g.fake.on_run([&](const std::vector<std::string>& argv) {
      if (argv == std::vector<std::string>{"readlink", "-f", "/dev/disk/guestfs/vmfixa"})
        return std::string("/dev/sdc\n");
      map_while_installing = g.fake.read("/boot/grub/device.map");
      return std::string();
    });
    inspect::Facts facts = linux_facts();
    facts.bootloaders = {{"grub-legacy", bootloader::BootMode::bios, "/boot/grub/menu.lst", ""}};
    ASSERT_TRUE(fixer()->check(g.fake, facts)[0].repairable);
    fixer()->fix(g.fake, facts);
    ASSERT_EQ(g.fake.commands_run().size(), 2u);
    EXPECT_EQ(g.fake.commands_run()[1], (std::vector<std::string>{"/usr/sbin/grub-install", "/dev/sdc"}));
    EXPECT_EQ(map_while_installing, "(hd0) /dev/sdc\n");
    if (own_map)
      EXPECT_EQ(g.fake.read("/boot/grub/device.map"), "(fd0) /dev/fd0\n(hd0) /dev/sda\n");
    else
      EXPECT_FALSE(g.fake.exists("/boot/grub/device.map"));
  }
  // readlink -f of a link that leads nowhere prints the link itself: an error, and no install.
  Guest g;
  g.fake.on_run([](const std::vector<std::string>& argv) { return argv[0] == "readlink" ? argv[2] : std::string(); });
  inspect::Facts facts = linux_facts();
  facts.bootloaders = {{"grub-legacy", bootloader::BootMode::bios, "/boot/grub/menu.lst", ""}};
  EXPECT_THROW(fixer()->fix(g.fake, facts), Error);
  EXPECT_EQ(g.fake.commands_run().size(), 1u) << "grub-install did not run";
}

TEST(GptToMbrFixer, ModulesFromThePackageCacheOrAReason) {
  Guest g;
  g.fake.rm("/usr/lib/grub/i386-pc/boot.img");
  inspect::Facts facts = linux_facts();
  auto f = fixer();
  auto finding = f->check(g.fake, facts)[0];
  EXPECT_FALSE(finding.repairable);
  EXPECT_THAT(finding.evidence,
              HasSubstr("the guest has no GRUB modules for BIOS boot (/usr/lib/grub/i386-pc) and none in "
                        "its package cache: install the package grub-pc-bin in the guest first"));
  EXPECT_TRUE(f->fix(g.fake, facts).empty());
  EXPECT_THAT(g.fake.device("/dev/sda"), HasSubstr("EFI PART")) << "nothing written";

  facts.boot_mode = bootloader::BootMode::uefi;
  EXPECT_THAT(f->check(g.fake, facts)[0].evidence, HasSubstr("or import it with UEFI boot (--profile aws-current)"));
  facts.boot_mode = bootloader::BootMode::bios;

  g.fake.add_file("/var/cache/apt/archives/grub-pc-bin_2.06-13+deb12u1_amd64.deb", "!<arch>");
  EXPECT_TRUE(f->check(g.fake, facts)[0].repairable);
  f->fix(g.fake, facts);
  ASSERT_EQ(g.fake.commands_run().size(), 2u);
  EXPECT_EQ(g.fake.commands_run()[0],
            (std::vector<std::string>{"dpkg", "-i", "/var/cache/apt/archives/grub-pc-bin_2.06-13+deb12u1_amd64.deb"}));

  Guest rpm;
  rpm.fake.rm("/usr/lib/grub/i386-pc/boot.img");
  rpm.fake.add_file("/var/cache/dnf/baseos-1a2b/packages/grub2-pc-modules-2.02-142.el8.noarch.rpm", "rpm");
  inspect::Facts rhel = linux_facts();
  rhel.distro = "rhel";
  rhel.package_format = "rpm";
  fixer()->fix(rpm.fake, rhel);
  EXPECT_EQ(rpm.fake.commands_run()[0],
            (std::vector<std::string>{"rpm", "-i", "--nodeps",
                                      "/var/cache/dnf/baseos-1a2b/packages/grub2-pc-modules-2.02-142.el8.noarch.rpm"}));
}

TEST(GptToMbrFixer, ReasonsItGives) {
  {
    Guest g;
    g.fake.add_file("/etc/fstab", "PARTLABEL=root / ext4 defaults 0 1\n");
    auto finding = fixer()->check(g.fake, linux_facts())[0];
    EXPECT_FALSE(finding.repairable);
    EXPECT_EQ(finding.evidence, "/etc/fstab names a partition by PARTLABEL=, and an MBR has no partition names");
  }
  {
    Guest g;
    g.fake.rm("/usr/sbin/grub-install");
    EXPECT_EQ(fixer()->check(g.fake, linux_facts())[0].evidence,
              "the guest has no grub-install to put GRUB's boot code on the MBR disk");
  }
  {
    Guest g;
    g.fake.add_file("/boot/grub/i386-pc/core.img", std::string(2 << 20, 'c'));
    EXPECT_EQ(fixer()->check(g.fake, linux_facts())[0].evidence,
              "the gap between the MBR and the first partition (4095 sectors) cannot hold the boot loader's core image "
              "(4112 sectors)");
  }
  {
    Guest g;
    inspect::Facts facts = linux_facts();
    facts.bootloaders = {{"grub2", bootloader::BootMode::uefi, "/boot/efi/EFI/debian/grubx64.efi", ""}};
    facts.bootloaders.clear();
    EXPECT_EQ(fixer()->check(g.fake, facts)[0].evidence, "the guest has no GRUB to boot it by BIOS from an MBR disk");
  }
  {
    Guest g;
    inspect::Facts facts = linux_facts();
    facts.os_type = "windows";
    auto finding = fixer()->check(g.fake, facts)[0];
    EXPECT_FALSE(finding.repairable);
    EXPECT_THAT(finding.evidence, HasSubstr("a Windows GPT disk boots only by UEFI"));
    EXPECT_THAT(finding.evidence,
                HasSubstr("AWS converts such a disk itself when the image is VHDX, the disk is under 2 TiB, "
                          "it has at most 3 primary partitions and is not a dynamic disk (this disk: 0.00 "
                          "TiB, 3 partition(s), basic)"));
    EXPECT_TRUE(fixer()->fix(g.fake, facts).empty());
  }
}

}  // namespace
}  // namespace vmfix::fixers

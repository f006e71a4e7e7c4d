// The Debian-family inspection that stands in for libguestfs's inspect_os: release files in
// libguestfs's order, host names, ELF machines, fstab translation and dpkg's database.
#include "inspect/linux_root.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <regex>

#include "support/files.h"
#include "support/process.h"
#include "support/text.h"
#include "tests/test_support.h"

namespace vmfix::inspect {
namespace {

// A guest's /etc as a map: a missing key is a missing file.
ReadGuestFile files(std::map<std::string, std::string> contents) {
  return [contents = std::move(contents)](const std::string& path) -> std::optional<std::string> {
    auto it = contents.find(path);
    if (it == contents.end()) return std::nullopt;
    return it->second;
  };
}

void expect_release(const std::optional<LinuxRelease>& release, const std::string& distro, const std::string& product,
                    int major, int minor) {
  ASSERT_TRUE(release.has_value());
  EXPECT_EQ(release->distro, distro);
  EXPECT_EQ(release->product_name, product);
  EXPECT_EQ(release->major, major);
  EXPECT_EQ(release->minor, minor);
}

TEST(LinuxRelease, DebianTakesThePointReleaseAndItsNameFromDebianVersion) {
  expect_release(read_debian_family_release(files({
                     {"/etc/os-release",
                      "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\n"
                      "VERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nID=debian\n"},
                     {"/etc/debian_version", "12.4\n"},
                 })),
                 "debian", "12.4", 12, 4);
  // Testing has no VERSION_ID and a codename in debian_version: no number to read.
  expect_release(read_debian_family_release(files({
                     {"/etc/os-release", "PRETTY_NAME=\"Debian GNU/Linux trixie/sid\"\nID=debian\n"},
                     {"/etc/debian_version", "trixie/sid\n"},
                 })),
                 "debian", "trixie/sid", 0, 0);
}

TEST(LinuxRelease, UbuntuAndKaliAreSettledByOsRelease) {
  const std::map<std::string, std::string> ubuntu{
      {"/etc/os-release",
       "NAME=\"Ubuntu\"\nVERSION=\"18.04.6 LTS (Bionic Beaver)\"\nID=ubuntu\nID_LIKE=debian\n"
       "PRETTY_NAME=\"Ubuntu 18.04.6 LTS\"\nVERSION_ID=\"18.04\"\n"},
      {"/etc/debian_version", "buster/sid\n"},
      {"/etc/lsb-release", "DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=18.04\nDISTRIB_DESCRIPTION=\"Ubuntu 18.04 LTS\"\n"},
  };
  expect_release(read_debian_family_release(files(ubuntu)), "ubuntu", "Ubuntu 18.04.6 LTS", 18, 4);
  expect_release(
      read_debian_family_release(
          files({{"/etc/os-release", "ID=kali\nPRETTY_NAME=\"Kali GNU/Linux Rolling\"\nVERSION_ID=\"2023.4\"\n"}})),
      "kalilinux", "Kali GNU/Linux Rolling", 2023, 4);
}

TEST(LinuxRelease, LsbReleaseAnswersWhereOsReleaseCannot) {
  // An ID libguestfs does not know leaves the distribution to lsb-release.
  expect_release(read_debian_family_release(files({
                     {"/etc/os-release",
                      "NAME=\"Linux Mint\"\nID=linuxmint\nPRETTY_NAME=\"Linux Mint 21.2\"\nVERSION_ID=\"21.2\"\n"},
                     {"/etc/lsb-release",
                      "DISTRIB_ID=LinuxMint\nDISTRIB_RELEASE=21.2\nDISTRIB_DESCRIPTION=\"Linux Mint 21.2 Victoria\"\n"},
                     {"/etc/debian_version", "bookworm/sid\n"},
                 })),
                 "linuxmint", "Linux Mint 21.2 Victoria", 21, 2);
  // Before os-release existed.
  expect_release(read_debian_family_release(files({
                     {"/etc/lsb-release",
                      "DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=10.04\nDISTRIB_CODENAME=lucid\n"
                      "DISTRIB_DESCRIPTION=\"Ubuntu 10.04.1 LTS\"\n"},
                     {"/etc/debian_version", "squeeze/sid\n"},
                 })),
                 "ubuntu", "Ubuntu 10.04.1 LTS", 10, 4);
}

TEST(LinuxRelease, OtherFamiliesAndUnknownDistributionsAreLibguestfsToName) {
  EXPECT_FALSE(read_debian_family_release(
      files({{"/etc/os-release", "ID=\"centos\"\nVERSION_ID=\"7\"\nPRETTY_NAME=\"CentOS Linux 7 (Core)\"\n"},
             {"/etc/centos-release", "CentOS Linux release 7.9.2009 (Core)\n"}})));
  EXPECT_FALSE(read_debian_family_release(
      files({{"/etc/os-release", "ID=\"rhel\"\nVERSION_ID=\"8.9\"\nPRETTY_NAME=\"Red Hat Enterprise Linux 8.9\"\n"}})));
  EXPECT_FALSE(read_debian_family_release(
      files({{"/etc/os-release", "ID=\"opensuse-leap\"\nVERSION_ID=\"15.5\"\nPRETTY_NAME=\"openSUSE Leap 15.5\"\n"}})));
  // No os-release, and a Red Hat release file before debian_version in libguestfs's order.
  EXPECT_FALSE(read_debian_family_release(
      files({{"/etc/redhat-release", "Red Hat Enterprise Linux Server release 6.10 (Santiago)\n"},
             {"/etc/debian_version", "6.0\n"}})));
  // A description but no distribution libguestfs knows (Pop!_OS): libguestfs says "unknown".
  EXPECT_FALSE(read_debian_family_release(files(
      {{"/etc/os-release", "ID=pop\nPRETTY_NAME=\"Pop!_OS 22.04 LTS\"\nVERSION_ID=\"22.04\"\n"},
       {"/etc/lsb-release", "DISTRIB_ID=Pop\nDISTRIB_RELEASE=22.04\nDISTRIB_DESCRIPTION=\"Pop!_OS 22.04 LTS\"\n"}})));
  EXPECT_FALSE(read_debian_family_release(files({})));
  EXPECT_FALSE(read_debian_family_release(files({{"/etc/debian_version", "\n"}})));
}

TEST(LinuxRelease, HostNameFilesInLibguestfsOrder) {
  EXPECT_EQ(read_linux_hostname(files({{"/etc/HOSTNAME", "old-suse\n"}, {"/etc/hostname", "new\n"}})), "old-suse");
  EXPECT_EQ(read_linux_hostname(files({{"/etc/HOSTNAME", "\n"}, {"/etc/hostname", "bookworm-web01\nignored\n"}})),
            "bookworm-web01");
  EXPECT_EQ(read_linux_hostname(files(
                {{"/etc/hostname", ""}, {"/etc/sysconfig/network", "NETWORKING=yes\nHOSTNAME=\"legacy-app01\"\n"}})),
            "legacy-app01");
  EXPECT_EQ(read_linux_hostname(files({{"/etc/sysconfig/network", "NETWORKING=yes\n"}})), "");
}

std::string elf_header(int elf_class, int data, uint16_t machine) {
  std::string header(64, '\0');
  header.replace(0, 4,
                 "\x7f"
                 "ELF");
  header[4] = static_cast<char>(elf_class);
  header[5] = static_cast<char>(data);
  const bool little = data == 1;
  header[18] = static_cast<char>(little ? machine & 0xff : machine >> 8);
  header[19] = static_cast<char>(little ? machine >> 8 : machine & 0xff);
  return header;
}

TEST(LinuxRelease, ElfMachines) {
  EXPECT_EQ(elf_architecture(elf_header(2, 1, 62)), "x86_64");
  EXPECT_EQ(elf_architecture(elf_header(1, 1, 3)), "i386");
  EXPECT_EQ(elf_architecture(elf_header(2, 1, 183)), "aarch64");
  EXPECT_EQ(elf_architecture(elf_header(2, 1, 21)), "ppc64le");
  EXPECT_EQ(elf_architecture(elf_header(2, 2, 21)), "ppc64");
  EXPECT_EQ(elf_architecture(elf_header(2, 2, 22)), "s390x");
  EXPECT_EQ(elf_architecture(elf_header(2, 1, 243)), "riscv64");
  EXPECT_EQ(elf_architecture(elf_header(2, 1, 0x1234)), "");
  EXPECT_EQ(elf_architecture(elf_header(2, 1, 62).substr(0, 19)), "") << "cut inside e_machine";
  EXPECT_EQ(elf_architecture("#!/bin/sh\necho not a binary\n"), "");
  // The host's own shell, read as the appliance reads the guest's.
  const std::string machine(trim(run_host_checked({"uname", "-m"})));
  EXPECT_EQ(elf_architecture(read_host_bytes("/bin/sh", 0, 64)), machine);
}

BlockDevices two_disks() {
  BlockDevices devices;
  devices.disks = {"/dev/sda", "/dev/sdb"};
  auto partition = [](int number, const std::string& device, const std::string& partuuid,
                      const std::string& name = "") {
    PartitionFacts p;
    p.number = number;
    p.device = device;
    p.partuuid = partuuid;
    p.name = name;
    return p;
  };
  devices.partitions = {partition(1, "/dev/sda1", "1f2aa318-01"), partition(2, "/dev/sda2", "1f2aa318-02"),
                        partition(1, "/dev/sdb1", "8c6d2b7e-3d1f-4b8a-9c57-0a1b2c3d4e5f", "data")};
  auto filesystem = [](const std::string& device, const std::string& label, const std::string& uuid) {
    FilesystemFacts fs;
    fs.device = device;
    fs.type = "ext4";
    fs.label = label;
    fs.uuid = uuid;
    return fs;
  };
  devices.filesystems = {filesystem("/dev/sda1", "boot", "fef7ccb3-821c-4de8-88dc-71472be5946f"),
                         filesystem("/dev/sda2", "", "d3a8f783-df75-4dc8-9163-975a891052c0"),
                         filesystem("/dev/sdb1", "srv", "2cda1e08-1f22-490b-9101-c93d511bc9c9"),
                         filesystem("/dev/vg0/home", "", "6b1c0d2e-7f3a-4c5b-8d9e-0f1a2b3c4d5e")};
  devices.lvm_canonical = [](const std::string& mapper) -> std::optional<std::string> {
    if (mapper == "/dev/mapper/vg0-home") return "/dev/vg0/home";
    return std::nullopt;
  };
  return devices;
}

TEST(LinuxRelease, FstabSpecsBecomeApplianceDevices) {
  const BlockDevices devices = two_disks();
  auto resolve = [&](const std::string& spec) { return resolve_fstab_device(spec, devices).value_or("(none)"); };
  EXPECT_EQ(resolve("UUID=d3a8f783-df75-4dc8-9163-975a891052c0"), "/dev/sda2");
  EXPECT_EQ(resolve("UUID=\"D3A8F783-DF75-4DC8-9163-975A891052C0\""), "/dev/sda2");
  EXPECT_EQ(resolve("UUID=00000000-0000-0000-0000-000000000000"), "(none)") << "an unknown UUID names no device";
  EXPECT_EQ(resolve("LABEL=srv"), "/dev/sdb1");
  EXPECT_EQ(resolve("LABEL=nothing"), "(none)");
  EXPECT_EQ(resolve("PARTUUID=1f2aa318-02"), "/dev/sda2");
  EXPECT_EQ(resolve("PARTUUID=8C6D2B7E-3D1F-4B8A-9C57-0A1B2C3D4E5F"), "/dev/sdb1");
  EXPECT_EQ(resolve("PARTLABEL=data"), "/dev/sdb1");
  EXPECT_EQ(resolve("/dev/disk/by-uuid/2cda1e08-1f22-490b-9101-c93d511bc9c9"), "/dev/sdb1");
  // Kernel names: the guest's n-th disk is the appliance's n-th, whatever the bus.
  EXPECT_EQ(resolve("/dev/xvda1"), "/dev/sda1");
  EXPECT_EQ(resolve("/dev/vdb1"), "/dev/sdb1");
  EXPECT_EQ(resolve("/dev/hda2"), "/dev/sda2");
  EXPECT_EQ(resolve("/dev/sdb2"), "/dev/sdb2") << "no such partition: left as written";
  EXPECT_EQ(resolve("/dev/sdc1"), "/dev/sdc1") << "no third disk: left as written";
  EXPECT_EQ(resolve("/dev/sdaa1"), "/dev/sdaa1") << "the 27th disk";
  EXPECT_EQ(resolve("/dev/nvme1n1p1"), "/dev/sdb1") << "a Nitro guest's second NVMe disk";
  EXPECT_EQ(resolve("/dev/nvme0n1p2"), "/dev/sda2");
  EXPECT_EQ(resolve("/dev/cciss/c0d1p1"), "/dev/sdb1");
  EXPECT_EQ(resolve("/dev/sdzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz1"), "/dev/sdzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz1")
      << "more letters than any disk has: left as written, never wrapped around to a small number";
  EXPECT_EQ(resolve("/dev/nvme18446744073709551617n1p1"), "/dev/nvme18446744073709551617n1p1");
  EXPECT_EQ(resolve("/dev/mapper/vg0-home"), "/dev/vg0/home");
  EXPECT_EQ(resolve("/dev/mapper/luks-root"), "/dev/mapper/luks-root");
  EXPECT_EQ(resolve("/dev/disk/by-id/ata-VBOX_HARDDISK_VB1234-part1"), "/dev/disk/by-id/ata-VBOX_HARDDISK_VB1234-part1")
      << "two disks: the serial number cannot be matched";
  BlockDevices one = devices;
  one.disks = {"/dev/sda"};
  EXPECT_EQ(resolve_fstab_device("/dev/disk/by-id/ata-VBOX_HARDDISK_VB1234-part1", one), "/dev/sda1");
  EXPECT_EQ(resolve_fstab_device("/dev/disk/by-path/pci-0000:00:10.0-scsi-0:0:0:0-part2", one), "/dev/sda2");
  EXPECT_EQ(resolve("tmpfs"), "(none)");
  EXPECT_EQ(resolve("server:/export"), "(none)");
}

// Kernel names, /dev/disk/by-id|by-path and version numbers against the regular expressions that
// once read them (std::regex: nine tenths of the linux_root fuzzer's time), on specs and release
// lines made of the pieces where the two could part.
TEST(LinuxRelease, HandWrittenReadersAgreeWithTheRegularExpressions) {
  const std::regex kernel_name(R"(/dev/(h|s|v|xv)d([a-z]+)(\d*))");
  const std::regex by_id_or_path(R"(/dev/disk/by-(id|path)/.*-part(\d+))");
  const std::regex major_minor(R"((\d+)\.(\d+))"), major_only(R"((\d+))");
  BlockDevices one;
  one.disks = {"/dev/sda"};
  for (int number : {1, 2, 12}) {
    PartitionFacts partition;
    partition.number = number;
    partition.device = "/dev/sda" + std::to_string(number);
    one.partitions.push_back(partition);
  }
  auto expected_device = [&](const std::string& spec) -> std::string {
    std::smatch match;
    auto partition = [&](const std::string& device) {
      for (const auto& p : one.partitions)
        if (p.device == device) return true;
      return false;
    };
    if (std::regex_match(spec, match, kernel_name))
      return match[2].str() == "a" && partition("/dev/sda" + match[3].str()) ? "/dev/sda" + match[3].str() : spec;
    if (std::regex_match(spec, match, by_id_or_path) && partition("/dev/sda" + match[2].str()))
      return "/dev/sda" + match[2].str();
    return spec;
  };
  auto expected_version = [&](const std::string& line) -> std::pair<int, int> {
    std::smatch match;
    try {
      if (std::regex_search(line, match, major_minor)) return {std::stoi(match[1]), std::stoi(match[2])};
      if (std::regex_search(line, match, major_only)) return {std::stoi(match[1]), 0};
    } catch (const std::out_of_range&) {
    }
    return {0, 0};
  };
  const std::vector<std::string> heads{"sd", "hd", "vd", "xvd", "xd", "disk/by-id/", "disk/by-path/", "disk/by-uuid/",
                                       ""};
  const std::vector<std::string> pieces{"a", "b", "z",  "-part", "-part", "part", "1",  "2", "12",
                                        "1", "2", "12", "x",     "/",     "\r",   "\n", "-", "."};
  const std::vector<std::string> numbers{"1", "12", "0", "04", "99999999999", ".", "a", " ", "x.", "-", "/sid"};
  std::mt19937 random(20261207);
  auto pick = [&](const std::vector<std::string>& from) { return from[random() % from.size()]; };
  int resolved = 0, versions = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string spec = "/dev/" + pick(heads) + (random() % 2 ? "a" : "");
    for (size_t n = random() % 4; n > 0; --n) spec += pick(pieces);
    const std::string device = resolve_fstab_device(spec, one).value_or("(none)");
    resolved += device != spec;
    ASSERT_EQ(device, expected_device(spec)) << spec;
    std::string line = pick(numbers);
    for (size_t n = random() % 5; n > 0; --n) line += pick(numbers);
    if (trim(line).empty()) continue;
    const auto release = read_debian_family_release(files({{"/etc/debian_version", line + "\n"}}));
    ASSERT_TRUE(release.has_value()) << line;
    versions += release->major != 0;
    ASSERT_EQ(std::pair(release->major, release->minor), expected_version(line)) << line;
  }
  EXPECT_GT(resolved, 200) << "the generator must reach the names, or the comparison shows nothing";
  EXPECT_GT(versions, 5000);
}

TEST(LinuxRelease, FstabMountpointsOfTheCorpus) {
  VMFIX_REQUIRE_CORPUS(corpus);
  const BlockDevices devices = two_disks();
  const std::vector<guest::Mountpoint> expected{
      {"/", "/dev/sda2"}, {"/boot", "/dev/sda1"}, {"/home/foo", "/dev/mapper/foo"}, {"/any/foo", "/dev/foo"}};
  for (const char* name : {"fstab", "fstab.comment", "fstab.broken"}) {
    SCOPED_TRACE(name);
    const std::string text = read_host_file(corpus / "linux/fstab/util-linux" / name);
    auto mountpoints = fstab_mountpoints(text, "/dev/sda2", devices);
    // swap, tmpfs, devpts, sysfs, proc, NFS and CIFS have no device. The broken lines are
    // skipped and the rest kept (libguestfs 1.48 would keep only "/" of fstab.broken).
    ASSERT_EQ(mountpoints.size(), std::string(name) == "fstab.broken" ? 3u : 4u);
    for (size_t i = 0; i < mountpoints.size(); ++i) {
      EXPECT_EQ(mountpoints[i].path, expected[i].path);
      EXPECT_EQ(mountpoints[i].device, expected[i].device);
    }
  }
  // The root is the filesystem inspected, even where fstab names another (a disk now gone).
  auto example =
      fstab_mountpoints(read_host_file(corpus / "linux/fstab/util-linux/example.files-fstab"), "/dev/sda2", devices);
  ASSERT_EQ(example.size(), 1u) << "its /boot UUID is on no disk here, so libguestfs drops it too";
  EXPECT_EQ(example[0].path, "/");
  EXPECT_EQ(example[0].device, "/dev/sda2");
}

TEST(LinuxRelease, FstabEntriesLibguestfsLeavesOut) {
  const std::string fstab =
      "/dev/sda2 / ext4 defaults 0 1\n"
      "/dev/cdrom /media/cdrom iso9660 noauto 0 0\n"
      "/dev/fd0 /mnt/floppy auto noauto 0 0\n"
      "/dev/sr0 /mnt/dvd iso9660 noauto 0 0\n"
      "/dev/sdb1 /media/usb ext4 noauto 0 0\n"
      "/dev/sdb1 /srv//data/ xfs defaults 0 2\n"
      "/dev/sda1 /boot ext4\n"
      "/dev/sda1 /sys/firmware/x ext4 defaults 0 0\n"
      "/dev/root /mnt/again ext4 defaults 0 0\n"
      "/dev/sda1 /nofstype\n";
  auto mountpoints = fstab_mountpoints(fstab, "/dev/sda2", two_disks());
  std::vector<std::string> seen;
  for (const auto& mp : mountpoints) seen.push_back(mp.path + "=" + mp.device);
  EXPECT_EQ(seen, (std::vector<std::string>{"/=/dev/sda2", "/mnt/dvd=/dev/sr0", "/srv/data=/dev/sdb1",
                                            "/boot=/dev/sda1", "/mnt/again=/dev/sda2"}));
}

TEST(LinuxRelease, DpkgStatusStates) {
  const std::string status =
      "Package: openssh-server\nStatus: install ok installed\nVersion: 1:9.2p1-2\nDescription: secure shell\n "
      "continued line\n\n"
      "Package: open-vm-tools\nStatus: deinstall ok config-files\nVersion: 2:12.2.0\n\n"
      "Package: gone\nStatus: purge ok not-installed\n\n"
      "Package: linux-image-6.1.0-13-amd64\nStatus: install reinstreq half-installed\n\n"
      "Package: grub-pc\nStatus: install ok unpacked\n\n"
      "Package: zz-last\nStatus: install ok installed";  // no blank line after the last record
  EXPECT_EQ(dpkg_installed_packages(status),
            (std::vector<std::string>{"grub-pc", "linux-image-6.1.0-13-amd64", "openssh-server", "zz-last"}));
  EXPECT_TRUE(dpkg_installed_packages("").empty());
  EXPECT_TRUE(dpkg_installed_packages("Status: install ok installed\n\n").empty()) << "no package name";
}

// A real status file: this machine's own, against dpkg's answer.
TEST(LinuxRelease, DpkgStatusOfThisMachineMatchesDpkgQuery) {
  if (!std::filesystem::exists("/var/lib/dpkg/status") || !std::filesystem::exists("/usr/bin/dpkg-query"))
    GTEST_SKIP() << "not a dpkg system";
  const std::string query = run_host_checked({"dpkg-query", "-W", "-f", "${db:Status-Abbrev} ${Package}\n"});
  std::vector<std::string> expected;
  for (std::string_view line : split_lines(query)) {
    // "ii  name": the second letter is the state; c(onfig-files) and n(ot-installed) are no packages.
    if (line.size() < 5 || line[1] == 'c' || line[1] == 'n') continue;
    expected.emplace_back(trim(line.substr(4)));
  }
  std::sort(expected.begin(), expected.end());
  expected.erase(std::unique(expected.begin(), expected.end()), expected.end());
  EXPECT_EQ(dpkg_installed_packages(read_host_file("/var/lib/dpkg/status")), expected);
  EXPECT_GT(expected.size(), 100u);
}

}  // namespace
}  // namespace vmfix::inspect

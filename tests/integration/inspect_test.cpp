// vmfix --inspect on real appliance launches: every fixture, one launch each.
#include "inspect/inspect.h"

#include <fmt/core.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <iostream>
#include <nlohmann/json.hpp>

#include "guest/appliance_kernel.h"
#include "guest/session.h"
#include "support/error.h"
#include "support/files.h"
#include "support/text.h"
#include "tests/integration/environment.h"
#include "tests/test_support.h"

namespace vmfix::test {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

json inspect(const fs::path& image) {
  CliResult result = run_vmfix({"--inspect", "--json", image.string()});
  EXPECT_EQ(result.exit_status, 0) << result.err;
  json report = json::parse(result.out);
  EXPECT_EQ(report["schema"], "vmfix.inspect/2");
  EXPECT_EQ(report["appliance_launches"], 1) << "vmfix --inspect must cost one appliance launch";
  return report;
}

const json* find_by(const json& list, const std::string& key, const std::string& value) {
  for (const json& item : list)
    if (item.value(key, "") == value) return &item;
  return nullptr;
}

std::string mountpoint_device(const json& guest, const std::string& path) {
  const json* mp = find_by(guest["mountpoints"], "path", path);
  return mp ? (*mp)["device"].get<std::string>() : "";
}

bool has_tool(const json& guest, const std::string& name, const std::string& form) {
  return std::any_of(guest["hypervisor_tools"].begin(), guest["hypervisor_tools"].end(),
                     [&](const json& t) { return t["name"] == name && t["form"] == form; });
}

bool has_loader(const json& guest, const std::string& kind, const std::string& firmware) {
  return std::any_of(guest["bootloaders"].begin(), guest["bootloaders"].end(),
                     [&](const json& b) { return b["kind"] == kind && b["firmware"] == firmware; });
}

// An MBR with one empty Linux partition: a disk, but no operating system.
fs::path write_disk_without_os(const fs::path& directory) {
  std::string disk(32 * 1024 * 1024, '\0');
  disk[510] = '\x55';
  disk[511] = '\xaa';
  const unsigned char entry[16] = {0, 0, 0, 0, 0x83, 0, 0, 0, 0x00, 0x08, 0, 0, 0x00, 0xf8, 0, 0};
  disk.replace(446, 16, reinterpret_cast<const char*>(entry), 16);
  write_file(directory / "blank.img", disk);
  return directory / "blank.img";
}

// An MBR with one NTFS-typed partition holding BitLocker (Windows 7 and later) metadata, laid out
// as libblkid checks it: the "-FVE-FS-" boot sector with the metadata offset at byte 176, and the
// FVE metadata block there with its own signature.
fs::path write_bitlocker_disk(const fs::path& directory) {
  std::string disk(32 * 1024 * 1024, '\0');
  auto put_le = [&](size_t at, uint64_t value, int bytes) {
    for (int i = 0; i < bytes; ++i) disk[at + i] = static_cast<char>((value >> (8 * i)) & 0xff);
  };
  disk[510] = '\x55';
  disk[511] = '\xaa';
  disk[446] = '\x80';
  disk[446 + 4] = '\x07';
  put_le(446 + 8, 2048, 4);
  put_le(446 + 12, disk.size() / 512 - 2048, 4);
  const size_t volume = 2048 * 512, metadata = 0x100000;
  disk.replace(volume, 11, "\xeb\x58\x90-FVE-FS-", 11);
  put_le(volume + 11, 512, 2);  // bytes per sector
  disk[volume + 13] = 8;        // sectors per cluster
  disk.replace(volume + 71, 11, "NO NAME    ");
  put_le(volume + 176, metadata, 8);
  disk[volume + 510] = '\x55';
  disk[volume + 511] = '\xaa';
  disk.replace(volume + metadata, 8, "-FVE-FS-");
  put_le(volume + metadata + 8, 0x40, 2);
  put_le(volume + metadata + 10, 2, 2);  // metadata version 2: Windows 7 and later
  write_file(directory / "bitlocker.img", disk);
  return directory / "bitlocker.img";
}

}  // namespace

// A disk whose volume is BitLocker-encrypted: no OS can be seen, and the volume is the finding,
// a blocker naming it, with exit 2; nothing is written and the source is untouched.
TEST(Inspect, BitLockerVolumeIsABlockerNamingIt) {
  TempDir scratch("vmfix-bitlocker");
  const fs::path disk = write_bitlocker_disk(scratch.path());
  const std::string before = run_host_checked({"sha256sum", disk.string()});
  CliResult check = run_vmfix({"--check", "--json", disk.string()});
  ASSERT_EQ(check.exit_status, 2) << check.err;
  const json report = json::parse(check.out);
  EXPECT_EQ(report["verdict"], "blocked");
  bool found = false;
  for (const json& finding : report["findings"]) {
    if (finding["id"] != "bitlocker") continue;
    found = true;
    EXPECT_EQ(finding["status"], "fail");
    EXPECT_EQ(finding["severity"], "blocker");
    ASSERT_FALSE(finding["evidence"].empty());
    EXPECT_NE(finding["evidence"][0].get<std::string>().find("/dev/sda1 is BitLocker-encrypted"), std::string::npos)
        << finding.dump();
  }
  EXPECT_TRUE(found) << report["findings"].dump(2);
  EXPECT_EQ(report["guest"]["filesystems"][0]["type"], "BitLocker");

  CliResult all = run_vmfix({"--all", "-o", (scratch.path() / "out.vmdk").string(), disk.string()});
  EXPECT_EQ(all.exit_status, 2) << all.err;
  EXPECT_NE(all.out.find("not written: blockers remain"), std::string::npos) << all.out;
  EXPECT_FALSE(fs::exists(scratch.path() / "out.vmdk"));
  EXPECT_EQ(run_host_checked({"sha256sum", disk.string()}), before);
}

// First launch of the run: KVM is tried, and where it is broken the fallback to software
// emulation is announced once and remembered; the next run does not try KVM again.
TEST(LaunchPolicy, FallsBackOnceAndRemembersAndNoOsIsBadInput) {
  fs::remove(cache_dir() / "accel");
  TempDir scratch("vmfix-nos");
  const fs::path blank = write_disk_without_os(scratch.path());

  CliResult first = run_vmfix({"--inspect", blank.string()});
  EXPECT_EQ(first.exit_status, 65) << first.err;
  EXPECT_NE(first.err.find("no operating system found"), std::string::npos) << first.err;
  const bool kvm_broken = fs::exists(cache_dir() / "accel");
  const std::string note = "KVM does not work on this machine";
  if (kvm_broken) {
    EXPECT_NE(first.err.find(note), std::string::npos) << first.err;
    EXPECT_EQ(split_lines(read_host_file(cache_dir() / "accel"))[0], "tcg");
  } else {
    EXPECT_EQ(first.err.find(note), std::string::npos) << first.err;
  }
  // -vv passes libguestfs's own messages through, -x traces its calls.
  CliResult second = run_vmfix({"--inspect", "-vv", "-x", blank.string()});
  EXPECT_EQ(second.exit_status, 65);
  EXPECT_NE(second.err.find("libguestfs: trace: launch"), std::string::npos) << second.err;
  EXPECT_NE(second.err.find("libguestfs: launch: "), std::string::npos) << second.err;
  EXPECT_EQ(second.err.find(note), std::string::npos) << "the failed KVM attempt was paid twice:\n" << second.err;
  if (kvm_broken) {
    EXPECT_NE(second.err.find("KVM failed here before"), std::string::npos) << second.err;
  }
}

// A KVM that hangs instead of failing: qemu is stopped at the deadline, and the launch falls back
// to software emulation and remembers it, as for a KVM that fails. The stand-in qemu hangs only
// when asked to boot the appliance under KVM, as the broken hosts do (-machine accel=kvm:tcg as
// libguestfs writes it, -accel kvm as vmfix's qemu wrapper does).
TEST(LaunchPolicy, AHungKvmLaunchIsStoppedAndFallsBack) {
  if (::access("/dev/kvm", R_OK | W_OK) != 0) GTEST_SKIP() << "no /dev/kvm: qemu never tries KVM here";
  TempDir scratch("vmfix-hung-kvm");
  const fs::path qemu = scratch.path() / "qemu-system-x86_64";
  write_file(
      qemu,
      "#!/bin/sh\n"
      "case \"$*\" in *-kernel*) case \"$*\" in *accel=kvm* | *'-accel kvm'*) while :; do sleep 1; done;; esac;; esac\n"
      "exec /usr/bin/qemu-system-x86_64 \"$@\"\n");
  fs::permissions(qemu, fs::perms::owner_all);
  const fs::path blank = write_disk_without_os(scratch.path());
  const std::vector<std::string> environment = {"VMFIX_CACHE_DIR=" + scratch.path().string(),
                                                "LIBGUESTFS_HV=" + qemu.string(), "VMFIX_KVM_LAUNCH_TIMEOUT=5"};

  CliResult result = run_vmfix({"--inspect", blank.string()}, environment);
  EXPECT_EQ(result.exit_status, 65) << result.err;
  EXPECT_NE(result.err.find("no operating system found"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("had not started the appliance after 5 s"), std::string::npos) << result.err;
  ASSERT_TRUE(fs::exists(scratch.path() / "accel")) << result.err;
  EXPECT_EQ(split_lines(read_host_file(scratch.path() / "accel"))[0], "tcg");
}

TEST(Inspect, CentOS7FromVMware) {
  const fs::path image = fixture_image("centos7-vmware");
  const std::string before = read_host_file(image);
  const fs::path report_file = fs::temp_directory_path() / ("vmfix-report-" + std::to_string(::getpid()) + ".json");
  CliResult result = run_vmfix({"--inspect", "--json", "--report", report_file.string(), image.string()});
  ASSERT_EQ(result.exit_status, 0) << result.err;
  json report = json::parse(result.out);
  EXPECT_EQ(json::parse(read_host_file(report_file)), report) << "--report must hold the same document";
  fs::remove(report_file);
  EXPECT_EQ(read_host_file(image), before) << "inspection modified the source image";

  EXPECT_EQ(report["image"]["disks"][0]["format"], "vmdk");
  EXPECT_EQ(report["image"]["disks"][0]["variant"], "monolithicSparse");
  const json& guest = report["guest"];
  EXPECT_EQ(guest["os_type"], "linux");
  EXPECT_EQ(guest["distro"], "centos");
  EXPECT_EQ(guest["major_version"], 7);
  EXPECT_EQ(guest["minor_version"], 9);
  EXPECT_EQ(guest["arch"], "x86_64");
  EXPECT_EQ(guest["hostname"], "legacy-app01");
  EXPECT_EQ(guest["root_device"], "/dev/sda3");
  EXPECT_EQ(guest["package_format"], "rpm");
  EXPECT_TRUE(guest["packages_count"].is_null()) << "the fixture has no rpm database: unknown, not 0";
  EXPECT_EQ(mountpoint_device(guest, "/"), "/dev/sda3");
  EXPECT_EQ(mountpoint_device(guest, "/boot"), "/dev/sda1");
  const json& disk = guest["disks"][0];
  EXPECT_EQ(disk["partition_table"], "mbr");
  ASSERT_EQ(disk["partitions"].size(), 3u);
  EXPECT_EQ(disk["partitions"][0]["bootable"], true);
  EXPECT_EQ(disk["partitions"][1]["role"], "swap");
  const json* boot = find_by(guest["filesystems"], "device", "/dev/sda1");
  ASSERT_TRUE(boot);
  EXPECT_EQ((*boot)["type"], "ext4");
  EXPECT_EQ((*boot)["label"], "boot");
  EXPECT_EQ((*boot)["mountpoint"], "/boot");
  EXPECT_GT((*boot)["free"].get<uint64_t>(), 50u << 20);
  EXPECT_LT((*boot)["free"].get<uint64_t>(), (*boot)["size"].get<uint64_t>());
  const json* swap = find_by(guest["filesystems"], "device", "/dev/sda2");
  ASSERT_TRUE(swap);
  EXPECT_EQ((*swap)["type"], "swap");
  EXPECT_TRUE((*swap)["free"].is_null());
  EXPECT_EQ(guest["boot_mode"], "bios");
  EXPECT_TRUE(has_loader(guest, "grub2", "bios"));
  ASSERT_EQ(guest["network"].size(), 1u);
  EXPECT_EQ(guest["network"][0]["stack"], "ifcfg");
  EXPECT_EQ(guest["network"][0]["method"], "static");
  EXPECT_EQ(guest["network"][0]["mac_binding"], "00:50:56:9a:4b:01");
  EXPECT_TRUE(has_tool(guest, "vmware-tools", "tarball"));
}

// The appliance boots this machine's kernel uncompressed (guest/appliance_kernel.h) and qemu runs
// through the wrapper that bounds its translation cache (guest/qemu_wrapper.h): -v names the kernel,
// libguestfs's own messages (-vv) show the command it ran and the appliance's kernel banner.
TEST(Inspect, ApplianceBootsTheUncompressedKernelThroughTheQemuWrapper) {
  auto kernel = guest::pick_host_kernel();
  ASSERT_TRUE(kernel) << "no kernel for the appliance on this machine";
  bool pvh = true;
  try {
    guest::uncompressed_kernel(read_host_file(kernel->file));
  } catch (const BadInput&) {
    pvh = false;  // then -v must say the compressed one is used
  }
  CliResult result = run_vmfix({"--inspect", "-vv", fixture_image("ubuntu1804-vmware").string()});
  ASSERT_EQ(result.exit_status, 0) << result.err.substr(0, 4000);
  EXPECT_NE(result.err.find(pvh ? "appliance kernel: " + kernel->version + ", uncompressed"
                                : "appliance kernel: the compressed one"),
            std::string::npos)
      << result.err.substr(0, 4000);
  EXPECT_NE(result.err.find("/qemu-wrapper-"), std::string::npos) << "qemu did not run through the wrapper";
  EXPECT_NE(result.err.find("Linux version " + kernel->version.substr(0, kernel->version.find('-'))), std::string::npos)
      << "the appliance's kernel did not say its version";
}

TEST(Inspect, Ubuntu1804FromVMware) {
  json report = inspect(fixture_image("ubuntu1804-vmware"));
  EXPECT_EQ(report["image"]["disks"][0]["variant"], "streamOptimized");
  const json& guest = report["guest"];
  EXPECT_EQ(guest["distro"], "ubuntu");
  EXPECT_EQ(guest["major_version"], 18);
  EXPECT_EQ(guest["minor_version"], 4);
  EXPECT_EQ(guest["hostname"], "bionic-db02");
  EXPECT_EQ(guest["package_management"], "apt");
  EXPECT_EQ(guest["packages_count"], 7);
  EXPECT_EQ(guest["boot_mode"], "bios");
  EXPECT_TRUE(has_loader(guest, "grub2", "bios"));
  const json* netplan = find_by(guest["network"], "stack", "netplan");
  ASSERT_TRUE(netplan);
  EXPECT_EQ((*netplan)["interface"], "ens160");
  EXPECT_EQ((*netplan)["method"], "static");
  EXPECT_EQ((*netplan)["addresses"], json::array({"192.168.10.21/24"}));
  EXPECT_EQ((*netplan)["mac_binding"], "00:50:56:8a:3c:01");
  EXPECT_TRUE(has_tool(guest, "open-vm-tools", "package"));
}

TEST(Inspect, Debian11OnGptWithBiosBootPartition) {
  json report = inspect(fixture_image("debian11-gpt-bios"));
  EXPECT_EQ(report["image"]["disks"][0]["format"], "qcow2");
  const json& guest = report["guest"];
  EXPECT_EQ(guest["distro"], "debian");
  EXPECT_EQ(guest["major_version"], 11);
  const json& disk = guest["disks"][0];
  EXPECT_EQ(disk["partition_table"], "gpt");
  EXPECT_EQ(disk["partitions"][0]["role"], "bios-boot");
  EXPECT_EQ(disk["partitions"][0]["size"], 1u << 20);
  EXPECT_EQ(guest["boot_mode"], "bios");
  const json* ens192 = find_by(guest["network"], "interface", "ens192");
  ASSERT_TRUE(ens192);
  EXPECT_EQ((*ens192)["stack"], "ifupdown");
  EXPECT_EQ((*ens192)["file"], "/etc/network/interfaces.d/ens192");
  EXPECT_EQ((*ens192)["method"], "static");
}

// Under the 2017 profile (MBR required) the GPT boot disk is a blocker that gpt-to-mbr owns; this
// fixture has no runnable grub-install, so the fixer says it cannot convert and why. (The real
// conversion, of a debootstrapped Debian 12, is tests/acceptance/debian12-gpt.sh.)
TEST(Inspect, Debian11GptUnderAProfileThatNeedsMbr) {
  CliResult result =
      run_vmfix({"--check", "--profile", "aws-2017", "--json", fixture_image("debian11-gpt-bios").string()});
  EXPECT_EQ(result.exit_status, 2) << result.err;  // Debian 11 is not on the 2017 list: a blocker of its own
  json report = json::parse(result.out);
  const json* partitioning = find_by(report["findings"], "id", "boot-partitioning");
  ASSERT_TRUE(partitioning);
  EXPECT_EQ((*partitioning)["status"], "fail");
  EXPECT_EQ((*partitioning)["fixer"], "gpt-to-mbr");
  EXPECT_EQ((*partitioning)["fixable"], true)
      << partitioning->dump(2);  // the fixture has a grub-install and the i386-pc modules
  const json* mode = find_by(report["findings"], "id", "boot-mode");
  ASSERT_TRUE(mode);
  EXPECT_EQ((*mode)["status"], "pass");
}

// vmfix reads Debian-family guests without libguestfs's inspect_os (inspect/linux_root.h). On the
// same launch, inspect_os must then give the same answers, and libguestfs's package list the same
// packages.
TEST(Inspect, OwnDebianFamilyInspectionAgreesWithLibguestfs) {
  for (const char* name : {"ubuntu1804-vmware", "debian11-gpt-bios"}) {
    SCOPED_TRACE(name);
    const fs::path image = fixture_image(name);
    const std::string format = image.extension() == ".qcow2" ? "qcow2" : "vmdk";
    guest::Session session({{image.string(), format, true}}, guest::SessionOptions{});
    session.launch();
    const inspect::Facts facts = inspect::inspect_guest(session, {image.string()}, inspect::MountMode::read_only);
    ASSERT_FALSE(facts.found_by_libguestfs)
        << "vmfix's own search must find this guest, else this test compares libguestfs with itself";
    guestfs_h* g = session.handle();
    auto text = [&](char* value) { return guest::take_string(g, value, "inspect_get"); };
    // The disks' names and sizes, which vmfix takes on the host, are the appliance's.
    const auto devices = guest::take_strings(g, guestfs_list_devices(g), "list_devices");
    ASSERT_EQ(facts.disks.size(), devices.size());
    for (size_t i = 0; i < devices.size(); ++i) {
      EXPECT_EQ(facts.disks[i].device, devices[i]);
      EXPECT_EQ(static_cast<int64_t>(facts.disks[i].size), guestfs_blockdev_getsize64(g, devices[i].c_str()));
    }
    ASSERT_EQ(guestfs_umount_all(g), 0);
    const auto roots = guest::take_strings(g, guestfs_inspect_os(g), "inspect_os");
    ASSERT_EQ(roots.size(), 1u);
    const char* root = roots[0].c_str();
    EXPECT_EQ(facts.root_device, roots[0]);
    EXPECT_EQ(facts.os_type, text(guestfs_inspect_get_type(g, root)));
    EXPECT_EQ(facts.distro, text(guestfs_inspect_get_distro(g, root)));
    EXPECT_EQ(facts.product_name, text(guestfs_inspect_get_product_name(g, root)));
    EXPECT_EQ(facts.major_version, guestfs_inspect_get_major_version(g, root));
    EXPECT_EQ(facts.minor_version, guestfs_inspect_get_minor_version(g, root));
    EXPECT_EQ(facts.arch, text(guestfs_inspect_get_arch(g, root)));
    EXPECT_EQ(facts.hostname, text(guestfs_inspect_get_hostname(g, root)));
    EXPECT_EQ(facts.package_format, text(guestfs_inspect_get_package_format(g, root)));
    EXPECT_EQ(facts.package_management, text(guestfs_inspect_get_package_management(g, root)));
    std::vector<std::string> theirs, ours;
    const auto flat = guest::take_strings(g, guestfs_inspect_get_mountpoints(g, root), "inspect_get_mountpoints");
    for (size_t i = 0; i + 1 < flat.size(); i += 2) theirs.push_back(flat[i] + "=" + flat[i + 1]);
    for (const guest::Mountpoint& mp : facts.mountpoints) ours.push_back(mp.path + "=" + mp.device);
    std::sort(theirs.begin(), theirs.end());
    std::sort(ours.begin(), ours.end());
    EXPECT_EQ(ours, theirs);
    for (const guest::Mountpoint& mp : facts.mountpoints)
      ASSERT_EQ(guestfs_mount_ro(g, mp.device.c_str(), mp.path.c_str()), 0) << mp.path;
    std::unique_ptr<guestfs_application2_list, decltype(&guestfs_free_application2_list)> apps(
        guestfs_inspect_list_applications2(g, root), guestfs_free_application2_list);
    ASSERT_TRUE(apps);
    std::vector<std::string> packages;
    for (uint32_t i = 0; i < apps->len; ++i) packages.emplace_back(apps->val[i].app2_name);
    std::sort(packages.begin(), packages.end());
    packages.erase(std::unique(packages.begin(), packages.end()), packages.end());  // multiarch: one name, two records
    EXPECT_TRUE(facts.packages_known);
    EXPECT_EQ(facts.packages, packages);
    EXPECT_FALSE(packages.empty());
    session.shutdown();
  }
}

TEST(Inspect, Rhel8BootingThroughUefi) {
  json report = inspect(fixture_image("rhel8-uefi"));
  EXPECT_EQ(report["image"]["disks"][0]["format"], "vhdx");
  const json& guest = report["guest"];
  EXPECT_EQ(guest["distro"], "rhel");
  EXPECT_EQ(guest["major_version"], 8);
  EXPECT_EQ(guest["minor_version"], 9);
  EXPECT_EQ(mountpoint_device(guest, "/boot/efi"), "/dev/sda1");
  EXPECT_EQ(guest["disks"][0]["partitions"][0]["role"], "esp");
  EXPECT_EQ(guest["boot_mode"], "uefi");
  EXPECT_TRUE(has_loader(guest, "bls", ""));
  EXPECT_TRUE(has_loader(guest, "grub2", "uefi"));
  EXPECT_TRUE(has_loader(guest, "efi-fallback", "uefi"));
  const json* esp = find_by(guest["filesystems"], "device", "/dev/sda1");
  ASSERT_TRUE(esp);
  EXPECT_EQ((*esp)["type"], "vfat");
  const json* nm = find_by(guest["network"], "stack", "networkmanager");
  ASSERT_TRUE(nm);
  EXPECT_EQ((*nm)["method"], "static");
  EXPECT_EQ((*nm)["mac_binding"], "00:50:56:A1:22:33");
  EXPECT_TRUE(has_tool(guest, "open-vm-tools", "files"));
}

TEST(Inspect, WindowsServer2012R2FromVMware) {
  json report = inspect(fixture_image("win2012r2-vmware"));
  EXPECT_EQ(report["image"]["disks"][0]["format"], "vhd");
  EXPECT_EQ(report["image"]["disks"][0]["variant"], "dynamic");
  const json& guest = report["guest"];
  EXPECT_EQ(guest["os_type"], "windows");
  EXPECT_EQ(guest["product_name"], "Windows Server 2012 R2 Standard");
  EXPECT_EQ(guest["product_variant"], "Server");
  EXPECT_EQ(guest["major_version"], 6);
  EXPECT_EQ(guest["minor_version"], 3);
  EXPECT_EQ(guest["arch"], "x86_64");
  EXPECT_EQ(guest["hostname"], "WIN2012R2-APP");
  EXPECT_EQ(guest["windows_current_control_set"], "ControlSet001");
  EXPECT_EQ(guest["disks"][0]["partition_table"], "mbr");
  EXPECT_EQ(guest["boot_mode"], "bios");
  EXPECT_TRUE(has_loader(guest, "windows-boot-manager", "bios"));
  int static_interfaces = 0, dhcp_interfaces = 0;
  for (const json& n : guest["network"]) {
    EXPECT_EQ(n["stack"], "windows-tcpip");
    if (n["method"] == "static") {
      ++static_interfaces;
      EXPECT_EQ(n["addresses"], json::array({"10.1.2.50"}));
    }
    if (n["method"] == "dhcp") ++dhcp_interfaces;
  }
  EXPECT_EQ(static_interfaces, 1);
  EXPECT_EQ(dhcp_interfaces, 1);
  EXPECT_TRUE(has_tool(guest, "vmware-tools", "windows-service"));
  EXPECT_TRUE(has_tool(guest, "vmware-tools", "windows-program"));
  for (const json& tool : guest["hypervisor_tools"]) {
    const std::string evidence = tool["evidence"];
    EXPECT_EQ(evidence.find("stornvme"), std::string::npos);
    EXPECT_EQ(evidence.find("vmbus"), std::string::npos);
  }
}

}  // namespace vmfix::test

namespace vmfix::test {

// An OVA as ESXi exports it: OVF first, SHA256 manifest, streamOptimized disks; two disks, one VM,
// one launch, disks read in place inside the archive.
TEST(Inspect, TwoDiskOvaInOneLaunch) {
  TempDir scratch("vmfix-ova-it");
  const fs::path dir = scratch.path();
  run_host_checked({"qemu-img", "convert", "-q", "-O", "vmdk", "-o", "subformat=streamOptimized",
                    fixture_image("centos7-vmware").string(), (dir / "centos-disk1.vmdk").string()});
  std::string data(16 * 1024 * 1024, '\0');  // a data disk: an MBR, nothing else
  data[510] = '\x55';
  data[511] = '\xaa';
  write_file(dir / "data.raw", data);
  run_host_checked({"qemu-img", "convert", "-q", "-f", "raw", "-O", "vmdk", "-o", "subformat=streamOptimized",
                    (dir / "data.raw").string(), (dir / "centos-disk2.vmdk").string()});
  write_file(dir / "centos.ovf", ovf_descriptor({{"centos-disk1.vmdk", fs::file_size(dir / "centos-disk1.vmdk")},
                                                 {"centos-disk2.vmdk", fs::file_size(dir / "centos-disk2.vmdk")}}));
  std::string manifest;
  for (const char* name : {"centos.ovf", "centos-disk1.vmdk", "centos-disk2.vmdk"}) {
    std::string line = run_host_checked({"sha256sum", (dir / name).string()});
    manifest += "SHA256(" + std::string(name) + ")= " + line.substr(0, 64) + "\n";
  }
  write_file(dir / "centos.mf", manifest);
  const fs::path ova = dir / "centos.ova";
  run_host_checked({"tar", "--format=ustar", "-C", dir.string(), "-cf", ova.string(), "centos.ovf", "centos.mf",
                    "centos-disk1.vmdk", "centos-disk2.vmdk"});
  const std::string before = run_host_checked({"sha256sum", ova.string()});

  json report = inspect(ova);
  EXPECT_EQ(run_host_checked({"sha256sum", ova.string()}), before) << "the OVA was modified";
  EXPECT_EQ(report["image"]["kind"], "ova");
  EXPECT_EQ(report["image"]["ovf"]["manifest"], "verified");
  EXPECT_EQ(report["image"]["ovf"]["cdroms"], 1);
  ASSERT_EQ(report["image"]["disks"].size(), 2u);
  EXPECT_EQ(report["image"]["disks"][1]["variant"], "streamOptimized");
  const json& guest = report["guest"];
  EXPECT_EQ(guest["distro"], "centos");
  ASSERT_EQ(guest["disks"].size(), 2u);
  EXPECT_EQ(guest["disks"][1]["size"], 16u << 20);
  EXPECT_EQ(guest["disks"][1]["source"], ova.string() + ":centos-disk2.vmdk");
}

// libguestfs translates the names its calls take (/dev/sdb is the second disk added), but the
// appliance's kernel names its disks as their probes finish: under load its /dev/sda has been the
// guest's second disk and its /dev/sdb the appliance's own (then grub-install refused a "cross-disk
// install"). Guest programs therefore get program_device(): the label's link must reach the disk
// libguestfs's name reaches, and its partitions, whatever order this launch's probes took.
TEST(ApplianceDisks, GuestProgramsReachEachDiskByItsLabel) {
  TempDir dir("vmfix-labels");
  std::vector<guest::Drive> drives;
  for (int i = 0; i < 3; ++i) {
    const fs::path disk = dir.path() / fmt::format("disk{}.raw", i);
    write_file(disk, "");
    fs::resize_file(disk, 16 << 20);
    drives.push_back({disk.string(), "raw", false});
  }
  guest::Session session(drives, guest::SessionOptions{});
  session.launch();
  guestfs_h* g = session.handle();
  auto sh = [&](const std::string& command) {  // in the appliance, outside the guest
    char* extra[] = {const_cast<char*>(command.c_str()), nullptr};
    return guest::take_string(g, guestfs_debug(g, "sh", extra), "debug sh");
  };
  // A marker in each disk's boot code area and at the start of its partition, written through
  // libguestfs's names, read back through the links.
  auto marker = [](const std::string& device) { return "vmfix marker " + device + ";"; };
  auto offset = [&](const std::string& device) {
    return std::isdigit(device.back()) ? 0 : 446 - marker(device).size();
  };
  std::vector<std::string> names;
  for (const std::string& device : session.devices()) {
    ASSERT_EQ(guestfs_part_disk(g, device.c_str(), "mbr"), 0);
    for (const std::string& name : {device, device + "1"}) {
      const std::string bytes = marker(name);
      ASSERT_EQ(guestfs_pwrite_device(g, name.c_str(), bytes.data(), bytes.size(), static_cast<int64_t>(offset(name))),
                static_cast<int>(bytes.size()));
      names.push_back(name);
    }
  }
  std::string kernel_names;
  for (const std::string& name : names) {
    const std::string path = guest::program_device(name);
    ASSERT_EQ(path.rfind("/dev/disk/guestfs/vmfix", 0), 0u) << path;
    EXPECT_EQ(sh(fmt::format("dd if={} bs=1 skip={} count={} 2>/dev/null", path, offset(name), marker(name).size())),
              marker(name))
        << name << " through " << path;
    kernel_names += fmt::format(" {}={}", name, trim(sh("readlink -f " + path)));
  }
  // Which names the kernel gave this time, for the log: the order varies from launch to launch.
  std::cerr << "the appliance kernel's names:" << kernel_names << "\n";
  session.shutdown();
}

}  // namespace vmfix::test

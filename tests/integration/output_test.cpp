// Writing: an OVA with several disks and the drives AWS refuses, --in-place, and interrupts at the
// worst moments. The source is checksummed before and after every run.
#include "image/output.h"

#include <fmt/core.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "image/ova.h"
#include "image/vm_source.h"
#include "support/files.h"
#include "support/process.h"
#include "support/text.h"
#include "tests/integration/environment.h"
#include "tests/test_support.h"

namespace vmfix::test {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string finding_status(const json& report, const std::string& id) {
  for (const json& finding : report["findings"])
    if (finding["id"] == id) return finding["status"];
  return "missing";
}

}  // namespace

// An OVA from VMware with two disks, a CD-ROM, two NICs and an nvram file comes back as an OVA
// AWS reads: the OVF first, a SHA256 manifest, streamOptimized disks, one NIC, no drives; and
// vmfix, reading the output again, finds it ready.
TEST(Output, OvaInOvaOutWithDrivesAndNicsRemoved) {
  TempDir scratch("vmfix-output-it");
  const fs::path dir = scratch.path();
  random_disk(dir / "data.raw", 1);
  run_host_checked({"qemu-img", "convert", "-q", "-f", "raw", "-O", "vmdk", "-o", "subformat=streamOptimized",
                    (dir / "data.raw").string(), (dir / "win-disk2.vmdk").string()});
  windows_ovf(dir, "win-disk2.vmdk");
  std::string manifest;
  for (const char* name : {"win.ovf", "win-disk1.vmdk", "win-disk2.vmdk", "win.nvram"})
    manifest += fmt::format("SHA1({})= {}\n", name, run_host_checked({"sha1sum", (dir / name).string()}).substr(0, 40));
  write_file(dir / "win.mf", manifest);
  const fs::path ova = dir / "win.ova";
  run_host_checked({"tar", "--format=ustar", "-C", dir.string(), "-cf", ova.string(), "win.ovf", "win.mf",
                    "win-disk1.vmdk", "win-disk2.vmdk", "win.nvram"});
  const std::string before = sha256(ova);

  CliResult all = run_vmfix({"--all", "--json", ova.string()}, {cache_environment()});
  ASSERT_EQ(all.exit_status, 0) << all.err;
  EXPECT_EQ(sha256(ova), before) << "the source OVA was modified";
  json report = json::parse(all.out);
  EXPECT_EQ(report["appliance_launches"], 1);
  EXPECT_EQ(report["verdict"], "ready");
  const fs::path out = dir / "win-vmfix.ova";  // by default: an OVA beside the OVA
  EXPECT_EQ(report["output"]["path"], out.string());
  EXPECT_EQ(report["output"]["format"], "ova");
  std::string removed;
  for (const json& what : report["output"]["removed_from_ovf"]) removed += what.get<std::string>() + "; ";
  for (const char* expected : {"CD/DVD drive", "network adapter", "file 'win.nvram'"})
    EXPECT_NE(removed.find(expected), std::string::npos) << expected << " in " << removed;

  // The layout AWS and ovftool expect, read by GNU tar; each disk streamOptimized and sound.
  EXPECT_EQ(run_host_checked({"tar", "-tf", out.string()}),
            "win-vmfix.ovf\nwin-vmfix.mf\nwin-vmfix-disk1.vmdk\nwin-vmfix-disk2.vmdk\n");
  const std::string ovf = run_host_checked({"tar", "-xOf", out.string(), "win-vmfix.ovf"});
  EXPECT_EQ(ovf.find("nvram"), std::string::npos);
  EXPECT_EQ(ovf.find("<rasd:ResourceType>15</rasd:ResourceType>"), std::string::npos);
  for (const auto& member : image::read_tar_members(out)) {
    if (!member.name.ends_with(".vmdk")) continue;
    const std::string spec = fmt::format(
        R"(json:{{"driver":"vmdk","file":{{"driver":"raw","offset":{},"size":{},"file":{{"driver":"file","filename":"{}"}}}}}})",
        member.offset, member.size, out.string());
    EXPECT_EQ(run_host({"qemu-img", "check", "-q", spec}).exit_status, 0) << member.name;
    EXPECT_NE(run_host_checked({"qemu-img", "info", spec}).find("create type: streamOptimized"), std::string::npos);
  }

  // Read again by vmfix: both disks, the manifest verified, nothing left to do.
  CliResult check = run_vmfix({"--check", "--json", out.string()}, {cache_environment()});
  ASSERT_EQ(check.exit_status, 0) << check.err << check.out.substr(0, 2000);
  json checked = json::parse(check.out);
  EXPECT_EQ(checked["image"]["kind"], "ova");
  EXPECT_EQ(checked["image"]["ovf"]["manifest"], "verified");
  EXPECT_EQ(checked["image"]["ovf"]["cdroms"], 0);
  EXPECT_EQ(checked["image"]["ovf"]["nics"], 1);
  ASSERT_EQ(checked["image"]["disks"].size(), 2u);
  EXPECT_EQ(checked["guest"]["disks"][1]["size"], 1u << 20);
  for (const char* id : {"windows-rtc-utc", "network-dhcp", "windows-rdp", "cdrom", "network-single-nic"})
    EXPECT_EQ(finding_status(checked, id), "pass") << id;
}

// The Windows fixture written by vmfix's writer as each disk format AWS takes, then read back by
// vmfix in one launch (an OVF naming all five): every output is a disk libguestfs reads, with the
// source's size and partitions.
TEST(Output, EveryDiskFormatOfAFixtureReadsBack) {
  TempDir scratch("vmfix-output-it");
  const fs::path dir = scratch.path();
  const image::VmSource vm = image::open_vm(fixture_image("win2012r2-vmware"));
  const fs::path overlay = image::create_overlay(vm.disks.front(), dir, 0);
  std::vector<std::pair<std::string, uint64_t>> disks;
  for (const char* format : {"raw", "vhd", "vhd-fixed", "vhdx", "vmdk"}) {
    const fs::path out = dir / fmt::format("win-{}.disk", format);
    image::write_output(vm, {overlay}, image::choose_output(vm, out.string(), image::output_format_named(format)), {},
                        false);
    disks.push_back({out.filename().string(), fs::file_size(out)});
  }
  // vmfix writes streamOptimized VMDKs itself (image/stream_vmdk.h): qemu reads the same disk back.
  ProcessResult same = run_host({"qemu-img", "compare", "-q", "-f", "raw", "-F", "vmdk",
                                 (dir / "win-raw.disk").string(), (dir / "win-vmdk.disk").string()});
  EXPECT_EQ(same.exit_status, 0) << same.output;
  write_file(dir / "all.ovf", ovf_descriptor(disks));
  CliResult inspect = run_vmfix({"--inspect", "--json", (dir / "all.ovf").string()}, {cache_environment()});
  ASSERT_EQ(inspect.exit_status, 0) << inspect.err;
  json report = json::parse(inspect.out);
  ASSERT_EQ(report["image"]["disks"].size(), 5u);
  const std::vector<std::string> formats{"raw", "vhd", "vhd", "vhdx", "vmdk"};
  const std::vector<std::string> variants{"", "dynamic", "fixed", "", "streamOptimized"};
  const json& guest = report["guest"];
  ASSERT_EQ(guest["disks"].size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    SCOPED_TRACE(disks[i].first);
    EXPECT_EQ(report["image"]["disks"][i]["format"], formats[i]);
    EXPECT_EQ(report["image"]["disks"][i].value("variant", ""), variants[i]);
    EXPECT_EQ(guest["disks"][i]["size"], fs::file_size(dir / "win-raw.disk"))
        << "the raw output is the disk, byte for byte";
    EXPECT_EQ(guest["disks"][i]["partition_table"], "mbr");
    EXPECT_EQ(guest["disks"][i]["partitions"].size(), guest["disks"][0]["partitions"].size());
  }
  EXPECT_EQ(guest["os_type"], "windows");
}

// --in-place edits a raw image itself, after saying so, and the edits are there for guestfish and
// hivexregedit to read.
TEST(Output, InPlaceEditsTheRawImageItself) {
  TempDir scratch("vmfix-output-it");
  const fs::path raw = scratch.path() / "win.raw";
  run_host_checked(
      {"qemu-img", "convert", "-q", "-O", "raw", fixture_image("win2012r2-vmware").string(), raw.string()});
  // qemu-img compare reads only the allocated parts of the 8 GiB: the fixture is the pristine copy.
  auto same_as_fixture = [&] {
    return run_host({"qemu-img", "compare", "-q", "-f", "raw", "-F", "vpc", raw.string(),
                     fixture_image("win2012r2-vmware").string()})
               .exit_status == 0;
  };
  ASSERT_TRUE(same_as_fixture());
  CliResult all = run_vmfix({"--all", "--in-place", "--json", raw.string()}, {cache_environment()});
  ASSERT_EQ(all.exit_status, 0) << all.err;
  EXPECT_NE(all.err.find("--in-place: " + raw.string() + " itself will be changed"), std::string::npos) << all.err;
  json report = json::parse(all.out);
  EXPECT_EQ(report["output"]["in_place"], true);
  EXPECT_EQ(report["output"]["written"], true);
  EXPECT_FALSE(same_as_fixture()) << "the edits are not in the image";
  EXPECT_FALSE(fs::exists(scratch.path() / "win-vmfix.img")) << "in place means no second image";

  if (fs::exists(cache_dir() / "accel")) ::setenv("LIBGUESTFS_BACKEND_SETTINGS", "force_tcg", 1);
  run_host_checked({"guestfish", "--ro", "-a", raw.string(), "-m", "/dev/sda1", "download",
                    "/Windows/System32/config/SYSTEM", (scratch.path() / "SYSTEM").string(), ":", "is-file",
                    "/Windows/Panther/unattend.xml"});
  const std::string system = run_host_checked({"hivexregedit", "--export", (scratch.path() / "SYSTEM").string(),
                                               "\\ControlSet001\\Control\\TimeZoneInformation"});
  EXPECT_NE(system.find("\"RealTimeIsUniversal\"=dword:00000001"), std::string::npos) << system;
}

// Interrupted while writing: with SIGTERM nothing is left behind at all; with SIGKILL nothing under
// the output's names; killed while the appliance starts, no qemu lives on. The sources never change.
TEST(Output, InterruptsLeaveTheSourceAndNoOutput) {
  TempDir scratch("vmfix-output-it");
  const fs::path dir = scratch.path() / "vm", tmp = scratch.path() / "tmp", out_dir = scratch.path() / "out";
  for (const fs::path& d : {dir, tmp, out_dir}) fs::create_directory(d);
  random_disk(dir / "data.raw", 256);  // compressing it into a VMDK takes a while: the window
  const fs::path ovf = windows_ovf(dir, "data.raw");
  std::map<std::string, std::string> sums;
  for (const auto& entry : fs::directory_iterator(dir)) sums[entry.path().string()] = sha256(entry.path());
  // libguestfs keeps its appliance where it always does; everything vmfix creates goes to `tmp`.
  const std::vector<std::string> environment{cache_environment(), "TMPDIR=" + tmp.string(),
                                             "LIBGUESTFS_CACHEDIR=/var/tmp"};
  const fs::path out = out_dir / "out.vmdk";
  const std::vector<std::string> args{"--fix", "rtc-utc", "--force", "-o", out.string(), ovf.string()};

  auto partial_dirs = [&] { return test::partial_dirs(out_dir); };
  auto wait_for_writing = [&](VmfixProcess& vmfix) {
    for (int i = 0; i < 3000 && partial_dirs().empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ASSERT_FALSE(partial_dirs().empty()) << "vmfix never started writing: " << vmfix.err_so_far();
    std::this_thread::sleep_for(std::chrono::seconds(1));  // into the conversion, well before its end
  };
  auto qemu_left = [&] { return process_left_on(tmp); };
  auto sources_unchanged = [&] {
    for (const auto& [file, sum] : sums) EXPECT_EQ(sha256(file), sum) << file << " changed";
  };

  {
    VmfixProcess vmfix(args, environment);
    wait_for_writing(vmfix);
    ::kill(vmfix.pid(), SIGTERM);
    CliResult result = vmfix.wait();
    EXPECT_EQ(result.exit_status, 128 + SIGTERM) << result.err;
    EXPECT_NE(result.err.find("interrupted"), std::string::npos) << result.err;
    EXPECT_FALSE(fs::exists(out));
    EXPECT_FALSE(fs::exists(out_dir / "out-disk2.vmdk"));
    EXPECT_TRUE(partial_dirs().empty()) << "SIGTERM: the partial output is removed";
    for (const auto& entry : fs::directory_iterator(tmp))
      EXPECT_FALSE(entry.path().filename().string().starts_with("vmfix-")) << entry.path() << " left behind";
    EXPECT_FALSE(qemu_left()) << "a process still uses " << tmp;
    sources_unchanged();
  }
  {
    VmfixProcess vmfix(args, environment);
    wait_for_writing(vmfix);
    ::kill(vmfix.pid(), SIGKILL);
    vmfix.wait();
    EXPECT_FALSE(fs::exists(out));
    EXPECT_FALSE(fs::exists(out_dir / "out-disk2.vmdk"));
    EXPECT_FALSE(qemu_left()) << "a process still uses " << tmp;
    sources_unchanged();
  }
  {
    VmfixProcess vmfix(args, environment);
    // The appliance's qemu has its sockets and overlays under `tmp`: kill vmfix as soon as it runs.
    bool starting = false;
    for (int i = 0; i < 1200 && !starting; ++i) {
      starting = run_host({"pgrep", "-f", "qemu-system.*" + tmp.string()}).exit_status == 0;
      if (!starting) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_TRUE(starting) << "no appliance ever started: " << vmfix.err_so_far();
    ::kill(vmfix.pid(), SIGKILL);
    vmfix.wait();
    EXPECT_FALSE(qemu_left()) << "qemu outlived vmfix";
    EXPECT_FALSE(fs::exists(out));
    sources_unchanged();
  }
}

}  // namespace vmfix::test

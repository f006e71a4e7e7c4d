// --check, --dry-run and --all on the fixtures: one launch each, the failures each fixture was built
// with and no others, a dry run that plans exactly what --all then changes, the source untouched,
// every edit read back from the output with independent tools (guestfish and hivexregedit), and a
// second run on the output that finds it ready and changes nothing.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "registry/values.h"
#include "support/files.h"
#include "support/process.h"
#include "support/text.h"
#include "tests/integration/environment.h"
#include "tests/test_support.h"

namespace vmfix::test {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// The output's hives exported to .reg text by hivexregedit, and its answer file, after one guestfish
// run copied them out.
struct OutputFiles {
  std::string system, software, unattend;
};

OutputFiles read_output(const fs::path& image, const fs::path& scratch) {
  if (fs::exists(cache_dir() / "accel")) ::setenv("LIBGUESTFS_BACKEND_SETTINGS", "force_tcg", 1);
  run_host_checked({"guestfish", "--ro", "-a", image.string(), "-m", "/dev/sda1", "download",
                    "/Windows/System32/config/SYSTEM", (scratch / "SYSTEM").string(), ":", "download",
                    "/Windows/System32/config/SOFTWARE", (scratch / "SOFTWARE").string(), ":", "download",
                    "/Windows/Panther/unattend.xml", (scratch / "unattend.xml").string()});
  auto exported = [&](const char* hive) {
    return run_host_checked(
        {"hivexregedit", "--export", "--unsafe-printable-strings", (scratch / hive).string(), "\\"});
  };
  return {exported("SYSTEM"), exported("SOFTWARE"), read_host_file(scratch / "unattend.xml")};
}

std::set<std::string> with_status(const json& findings, const std::string& status, const char* field = nullptr) {
  std::set<std::string> ids;
  for (const json& finding : findings) {
    const json& where = field ? finding[field] : finding;
    if (where["status"] == status) ids.insert(finding["id"].get<std::string>());
  }
  return ids;
}

std::set<std::string> change_set(const json& changes) {
  std::set<std::string> set;
  for (const json& change : changes)
    set.insert(fmt::format("{} {} {} -> {}", change["fixer"].get<std::string>(), change["target"].get<std::string>(),
                           change["before"].get<std::string>(), change["after"].get<std::string>()));
  return set;
}

}  // namespace

TEST(Remediate, WindowsCheckDryRunAllAndReadyAfterwards) {
  const fs::path source = fixture_image("win2012r2-vmware");
  const std::string source_sum = run_host_checked({"sha256sum", source.string()});
  TempDir scratch("vmfix-remediate-it");
  const fs::path output = scratch.path() / "fixed.vhd";
  const std::set<std::string> built_in{"network-dhcp",     "vmware-tools",       "windows-rdp",
                                       "windows-unattend", "windows-autologon",  "windows-rtc-utc",
                                       "windows-pagefile", "windows-san-policy", "windows-fast-startup"};

  // --check: exactly the problems the fixture was built with, every one fixable but the account
  // without a password (the SAM read on the host: a warning a person has to settle).
  std::set<std::string> failing = built_in;
  failing.insert("windows-passwords");
  CliResult check = run_vmfix({"--check", "--json", source.string()});
  ASSERT_EQ(check.exit_status, 1) << check.err;
  json checked = json::parse(check.out);
  EXPECT_EQ(checked["schema"], "vmfix.report/1");
  EXPECT_EQ(checked["verdict"], "fixable");
  EXPECT_EQ(checked["appliance_launches"], 1);
  EXPECT_EQ(with_status(checked["findings"], "fail"), failing);
  for (const json& finding : checked["findings"])
    if (finding["status"] == "fail") {
      EXPECT_EQ(finding["fixable"].get<bool>(), finding["id"] != "windows-passwords") << finding["id"];
    }
  for (const json& finding : checked["findings"])
    if (finding["id"] == "windows-passwords") {
      EXPECT_EQ(finding["message"], "enabled accounts without a password: svc-backup") << finding.dump();
    }
  EXPECT_TRUE(with_status(checked["findings"], "unknown").empty()) << checked["findings"].dump(2);
  EXPECT_TRUE(checked["output"].is_null());

  // --dry-run plans; nothing is written.
  CliResult dry = run_vmfix({"--dry-run", "--json", "-o", output.string(), source.string()});
  ASSERT_EQ(dry.exit_status, 1) << dry.err;
  json planned = json::parse(dry.out);
  EXPECT_EQ(planned["mode"], "dry-run");
  EXPECT_FALSE(planned["output"]["written"].get<bool>());
  EXPECT_FALSE(fs::exists(output));
  EXPECT_FALSE(planned["changes"].empty());

  // --all: the same changes as planned, every built-in failure fixed, the output written, ready.
  CliResult all = run_vmfix({"--all", "--json", "-o", output.string(), source.string()});
  ASSERT_EQ(all.exit_status, 0) << all.err;
  json report = json::parse(all.out);
  EXPECT_EQ(report["appliance_launches"], 1);
  EXPECT_EQ(report["verdict_before"], "fixable");
  EXPECT_EQ(report["verdict"], "ready");
  EXPECT_TRUE(report["output"]["written"].get<bool>());
  EXPECT_EQ(report["output"]["format"], "vhd");
  EXPECT_EQ(change_set(report["changes"]), change_set(planned["changes"]));
  EXPECT_EQ(with_status(report["findings"], "fixed"), built_in);
  EXPECT_EQ(with_status(report["findings"], "fail", "before"), failing);
  EXPECT_EQ(run_host_checked({"sha256sum", source.string()}), source_sum) << "the source image was modified";
  std::set<std::string> targets;
  for (const json& change : report["changes"]) {
    targets.insert(change["target"].get<std::string>());
    EXPECT_EQ(change.dump().find("Fixture-Only-Passw0rd"), std::string::npos) << "a password leaked into the report";
  }
  EXPECT_TRUE(targets.count("HKLM\\SYSTEM\\ControlSet002\\Control\\TimeZoneInformation\\RealTimeIsUniversal"));
  EXPECT_TRUE(targets.count("HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon\\DefaultPassword"));
  EXPECT_TRUE(targets.count("/Windows/Panther/unattend.xml"));

  // Read back with tools that are not vmfix.
  const OutputFiles files = read_output(output, scratch.path());
  const std::string& system = files.system;
  const std::string& software = files.software;
  for (const char* set : {"ControlSet001", "ControlSet002"}) {
    const std::string tz = std::string("[\\") + set + "\\Control\\TimeZoneInformation]";
    ASSERT_NE(system.find(tz), std::string::npos) << tz;
    EXPECT_NE(system.find("\"RealTimeIsUniversal\"=dword:00000001", system.find(tz)), std::string::npos);
    for (const char* service : {"VMTools", "vmci", "vmxnet3ndis6"}) {
      const std::string key = std::string("[\\") + set + "\\Services\\" + service + "]";
      ASSERT_NE(system.find(key), std::string::npos) << key;
      EXPECT_EQ(system.find("\"Start\"=dword:00000004", system.find(key)), system.find("\"Start\"=", system.find(key)))
          << key;
    }
    const std::string stornvme = std::string("[\\") + set + "\\Services\\stornvme]";
    EXPECT_EQ(system.find("\"Start\"=dword:00000003", system.find(stornvme)),
              system.find("\"Start\"=", system.find(stornvme)));
  }
  EXPECT_EQ(system.find("\"fDenyTSConnections\"=dword:00000001"), std::string::npos);
  EXPECT_EQ(system.find("Active=FALSE"), std::string::npos);
  EXPECT_EQ(system.find("\"EnableDHCP\"=dword:00000000"), std::string::npos);
  // hivexregedit writes REG_MULTI_SZ as hex(7) bytes, folded over lines.
  std::string unfolded;
  for (size_t at = 0; at < system.size(); ++at) {
    if (system.compare(at, 4, "\\\n  ") == 0)
      at += 3;
    else
      unfolded += system[at];
  }
  std::string paging = "\"PagingFiles\"=hex(7):";
  const std::string expected = registry::make_multi_string("PagingFiles", {"C:\\pagefile.sys 2048 2048"}).data;
  for (size_t i = 0; i < expected.size(); ++i)
    paging += fmt::format("{}{:02x}", i ? "," : "", static_cast<unsigned char>(expected[i]));
  EXPECT_NE(unfolded.find(paging), std::string::npos) << paging;
  EXPECT_NE(software.find("\"AutoAdminLogon\"=str(1):\"0\""), std::string::npos) << software;
  EXPECT_EQ(software.find("DefaultPassword"), std::string::npos);
  EXPECT_NE(software.find("\"DefaultUserName\"=str(1):\"Administrator\""), std::string::npos);
  // Every disk online, Fast Startup and hibernation off, in both control sets.
  for (const char* set : {"ControlSet001", "ControlSet002"}) {
    const std::string partmgr = std::string("[\\") + set + "\\Services\\partmgr\\Parameters]";
    ASSERT_NE(system.find(partmgr), std::string::npos) << partmgr;
    EXPECT_NE(system.find("\"SanPolicy\"=dword:00000001", system.find(partmgr)), std::string::npos) << set;
    const std::string power = std::string("[\\") + set + "\\Control\\Session Manager\\Power]";
    ASSERT_NE(system.find(power), std::string::npos) << power;
    EXPECT_NE(system.find("\"HiberbootEnabled\"=dword:00000000", system.find(power)), std::string::npos) << set;
  }
  EXPECT_EQ(system.find("\"SanPolicy\"=dword:00000002"), std::string::npos);
  EXPECT_EQ(system.find("\"HiberbootEnabled\"=dword:00000001"), std::string::npos);
  // The VMware Tools uninstall runs at boot, before logon (Winlogon's Setup hook), not at a logon.
  const size_t setup = system.find("[\\Setup]");
  ASSERT_NE(setup, std::string::npos) << system;
  EXPECT_NE(system.find("\"SetupType\"=dword:00000002", setup), std::string::npos);
  EXPECT_NE(system.find("msiexec.exe /x {9B6F1F2A-3C4D-4E5F-8A7B-6C5D4E3F2A1B} /qn /norestart", setup),
            std::string::npos);
  EXPECT_EQ(software.find("vmfix-uninstall-vmware-tools"), std::string::npos) << "no RunOnce entry for it";
  EXPECT_NE(files.unattend.find("processorArchitecture=\"amd64\""), std::string::npos) << files.unattend;

  // The output checks ready, and a second --all changes nothing.
  const fs::path again = scratch.path() / "again.vhd";
  CliResult second = run_vmfix({"--all", "--json", "-o", again.string(), output.string()});
  ASSERT_EQ(second.exit_status, 0) << second.err;
  json second_report = json::parse(second.out);
  EXPECT_EQ(second_report["verdict_before"], "ready");
  EXPECT_EQ(with_status(second_report["findings"], "fail", "before"), std::set<std::string>{"windows-passwords"})
      << second_report["findings"].dump(2);
  EXPECT_TRUE(second_report["changes"].empty()) << second_report["changes"].dump(2);
  for (const json& fixer : second_report["fixers"]) EXPECT_NE(fixer["status"], "changed");
}

// CentOS 7 from VMware: skipping the network fixer leaves a blocker, so --all writes nothing and
// says why; the full --all fixes network, tools and format, and the output checks ready.
TEST(Remediate, LinuxBlockerStopsTheOutputAndAllMakesItReady) {
  const fs::path source = fixture_image("centos7-vmware");
  TempDir scratch("vmfix-remediate-it");
  const fs::path output = scratch.path() / "centos.vmdk";
  const std::set<std::string> built_in{"network-dhcp",    "vmware-tools",       "image-format",      "linux-fstab",
                                       "linux-grub-root", "linux-grub-console", "linux-nvme-timeout"};

  CliResult skipped = run_vmfix({"--all", "--skip", "network-dhcp", "--json", "-o", output.string(), source.string()});
  ASSERT_EQ(skipped.exit_status, 2) << skipped.err;
  json blocked = json::parse(skipped.out);
  EXPECT_EQ(blocked["verdict"], "blocked");
  EXPECT_FALSE(blocked["output"]["written"].get<bool>());
  EXPECT_FALSE(fs::exists(output));
  for (const json& finding : blocked["findings"]) {
    if (finding["id"] != "network-dhcp") continue;
    EXPECT_EQ(finding["status"], "fail");
    EXPECT_FALSE(finding["fixable"].get<bool>()) << "its fixer was skipped";
  }

  const fs::path job = scratch.path() / "job.json";
  CliResult all = run_vmfix({"--all", "--json", "-o", output.string(), "--aws-import-json", job.string(), "--s3",
                             "s3://my-bucket/imports/", source.string()});
  ASSERT_EQ(all.exit_status, 0) << all.err;
  json report = json::parse(all.out);
  EXPECT_EQ(report["verdict"], "ready");
  EXPECT_EQ(with_status(report["findings"], "fixed"), built_in);
  // The hand-off to AWS names the disk written, as import-image takes it.
  const json import = json::parse(read_host_file(job));
  EXPECT_EQ(import["route"], "import-image") << import.dump(2);
  EXPECT_EQ(import["problems"], json::array()) << import.dump(2);
  EXPECT_EQ(import["upload"][0]["file"], fs::absolute(output).string());
  EXPECT_EQ(import["import_image"]["DiskContainers"][0]["Format"], "VMDK");
  EXPECT_EQ(import["import_image"]["DiskContainers"][0]["UserBucket"]["S3Key"], "imports/centos.vmdk");
  EXPECT_EQ(import["import_image"]["BootMode"], "legacy-bios");
  EXPECT_EQ(import["import_image"]["Platform"], "Linux");
  EXPECT_EQ(import["report_sha256"].get<std::string>().size(), 64u);
  for (const json& finding : report["findings"])
    if (finding["severity"] == "blocker" && !built_in.count(finding["id"].get<std::string>())) {
      EXPECT_NE(finding["before"]["status"], "fail") << finding["id"] << " (a false blocker?)";
    }
  bool ifcfg_diff = false;
  for (const json& change : report["changes"])
    if (change["target"] == "/etc/sysconfig/network-scripts/ifcfg-eth0") {
      const std::string diff = change["diff"];
      ifcfg_diff =
          diff.find("-BOOTPROTO=static") != std::string::npos && diff.find("+BOOTPROTO=dhcp") != std::string::npos;
    }
  EXPECT_TRUE(ifcfg_diff) << report["changes"].dump(2);
  bool grub_diff = false;  // no grub2-mkconfig in the fixture: grub.cfg is edited in place
  for (const json& change : report["changes"])
    if (change["target"] == "/boot/grub2/grub.cfg") {
      const std::string diff = change["diff"];
      grub_diff = diff.find("-\tlinux16 /vmlinuz-3.10.0-1160.el7.x86_64 root=/dev/sda3") != std::string::npos &&
                  diff.find("console=tty0 console=ttyS0,115200\n") != std::string::npos;
    }
  EXPECT_TRUE(grub_diff) << report["changes"].dump(2);

  CliResult check = run_vmfix({"--check", "--json", output.string()});
  ASSERT_EQ(check.exit_status, 0) << check.err << check.out;
  json checked = json::parse(check.out);
  EXPECT_EQ(checked["verdict"], "ready");
  EXPECT_TRUE(with_status(checked["findings"], "fail").count("network-dhcp") == 0);
  EXPECT_TRUE(with_status(checked["findings"], "pass").count("linux-initramfs-drivers"))
      << "read from the image's gzip initramfs";
  EXPECT_EQ(checked["image"]["disks"][0]["variant"], "streamOptimized");
}

// The GPT fixture under the 2017 profile (MBR required): gpt-to-mbr converts it with the guest's
// own grub-install, and the partition keeps its sectors. The converted image checks clean.
TEST(Remediate, GptFixtureBecomesMbrUnderTheProfileThatNeedsIt) {
  const fs::path source = fixture_image("debian11-gpt-bios");
  TempDir scratch("vmfix-remediate-it");
  const fs::path output = scratch.path() / "bullseye.img";
  const std::string source_sum = run_host_checked({"sha256sum", source.string()});
  const fs::path source_raw = scratch.path() / "source.raw";
  run_host_checked({"qemu-img", "convert", "-O", "raw", source.string(), source_raw.string()});
  json before = json::parse(run_host_checked({"sfdisk", "--json", source_raw.string()}))["partitiontable"];
  ASSERT_EQ(before["label"], "gpt");
  ASSERT_EQ(before["partitions"].size(), 2u);  // BIOS boot, root
  const json& root = before["partitions"][1];

  // --force: Debian 11 is not on the 2017 list, a blocker of its own that the output must not wait for.
  CliResult fixed = run_vmfix({"--fix", "gpt-to-mbr", "--profile", "aws-2017", "--force", "--json", "--output-format",
                               "raw", "-o", output.string(), source.string()});
  ASSERT_FALSE(fixed.out.empty()) << fixed.err;
  json report = json::parse(fixed.out);
  ASSERT_TRUE(report["output"].is_object() && report["output"]["written"] == true)
      << "exit " << fixed.exit_status << "\n"
      << fixed.out << "\n"
      << fixed.err;
  EXPECT_EQ(with_status(report["findings"], "fixed").count("boot-partitioning"), 1u) << report["findings"].dump(2);
  EXPECT_EQ(run_host_checked({"sha256sum", source.string()}), source_sum) << "the source changed";

  json after = json::parse(run_host_checked({"sfdisk", "--json", output.string()}))["partitiontable"];
  EXPECT_EQ(after["label"], "dos");
  ASSERT_EQ(after["partitions"].size(), 1u) << "the BIOS boot partition is dropped";
  EXPECT_EQ(after["partitions"][0]["start"], root["start"]);
  EXPECT_EQ(after["partitions"][0]["size"], root["size"]);
  EXPECT_EQ(after["partitions"][0]["type"], "83");
  EXPECT_EQ(after["partitions"][0]["bootable"], true);
  run_host_checked({"sfdisk", "--verify", output.string()});
  const std::string mbr = read_host_bytes(output, 0, 512);
  EXPECT_NE(mbr.find("GRUB"), std::string::npos) << "no GRUB boot code in the MBR";
  const uint64_t size = fs::file_size(output);
  EXPECT_EQ(read_host_bytes(output, 512, 8).find("EFI PART"), std::string::npos) << "primary GPT header left";
  EXPECT_EQ(read_host_bytes(output, size - 512, 8).find("EFI PART"), std::string::npos) << "backup GPT header left";
  const std::string before_uuid =
      run_host_checked({"blkid", "-p", "-o", "value", "-s", "UUID", "--offset",
                        std::to_string(root["start"].get<uint64_t>() * 512), source_raw.string()});
  const std::string after_uuid =
      run_host_checked({"blkid", "-p", "-o", "value", "-s", "UUID", "--offset",
                        std::to_string(root["start"].get<uint64_t>() * 512), output.string()});
  EXPECT_EQ(after_uuid, before_uuid);

  CliResult check = run_vmfix({"--check", "--profile", "aws-2017", "--json", output.string()});
  json checked = json::parse(check.out);
  EXPECT_EQ(with_status(checked["findings"], "pass").count("boot-partitioning"), 1u) << checked["findings"].dump(2);
  EXPECT_EQ(checked["guest"]["disks"][0]["partition_table"], "mbr");
}

TEST(Remediate, OutputRulesAreUsageErrors) {
  const fs::path source = fixture_image("win2012r2-vmware");
  EXPECT_EQ(run_vmfix({"--all", "--output-format", "qcow2", "-o", "/tmp/x.qcow2", source.string()}).exit_status, 64);
  EXPECT_EQ(run_vmfix({"--fix", "rtc-utc", "--in-place", source.string()}).exit_status, 64);
  EXPECT_EQ(run_vmfix({"--all", "-o", source.string(), source.string()}).exit_status, 64);
  EXPECT_EQ(run_vmfix({"--fix", "no-such-fixer", source.string()}).exit_status, 64);
  EXPECT_EQ(run_vmfix({"--all", "--skip", "no-such-fixer", source.string()}).exit_status, 64);
  EXPECT_EQ(run_vmfix({"--check", "-o", "/tmp/x.vhd", source.string()}).exit_status, 64);
  EXPECT_EQ(run_vmfix({"--check", "--profile", "aws-1999", source.string()}).exit_status, 64);
}

TEST(Remediate, UnattendFileMustBeAnAnswerFile) {
  const fs::path source = fixture_image("win2012r2-vmware");
  TempDir scratch("vmfix-remediate-it");
  write_host_file_atomic(scratch.path() / "bad.xml", "<unattend><settings>");
  write_host_file_atomic(scratch.path() / "evil.xml",
                         "<!DOCTYPE u [<!ENTITY x SYSTEM \"file:///etc/shadow\">]><unattend>&x;</unattend>");
  for (const char* file : {"bad.xml", "evil.xml", "missing.xml"}) {
    CliResult result = run_vmfix({"--all", "--unattend", (scratch.path() / file).string(), "-o",
                                  (scratch.path() / "out.vhd").string(), source.string()});
    EXPECT_EQ(result.exit_status, 65) << file << result.err;
    EXPECT_EQ(split_lines(result.err).size(), 1u) << result.err;
    EXPECT_FALSE(fs::exists(scratch.path() / "out.vhd"));
  }
}

}  // namespace vmfix::test

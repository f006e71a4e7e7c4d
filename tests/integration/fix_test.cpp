// vmfix --fix on the Windows fixture: one launch, a new image, the source untouched, every edit
// read back from the output with independent tools (guestfish and hivexregedit), and a second
// run that changes nothing.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "registry/values.h"
#include "support/files.h"
#include "support/process.h"
#include "tests/integration/environment.h"
#include "tests/test_support.h"

namespace vmfix::test {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// The output's hives, exported to .reg text by hivexregedit, after guestfish copied them out.
std::string exported_hive(const fs::path& image, const std::string& hive, const fs::path& scratch) {
  if (fs::exists(cache_dir() / "accel")) ::setenv("LIBGUESTFS_BACKEND_SETTINGS", "force_tcg", 1);
  const fs::path local = scratch / hive;
  if (!fs::exists(local))
    run_host_checked({"guestfish", "--ro", "-a", image.string(), "-m", "/dev/sda1", "download",
                      "/Windows/System32/config/" + hive, local.string()});
  return run_host_checked({"hivexregedit", "--export", "--unsafe-printable-strings", local.string(), "\\"});
}

}  // namespace

TEST(Fix, WindowsRegistryFixersEndToEnd) {
  const fs::path source = fixture_image("win2012r2-vmware");
  const std::string source_sum = run_host_checked({"sha256sum", source.string()});
  TempDir scratch("vmfix-fix-it");
  const fs::path output = scratch.path() / "fixed.vhd";

  CliResult first = run_vmfix({"--fix", "rtc-utc,rdp,autologon,pagefile,network-dhcp", "--json", "-o", output.string(), source.string()});
  ASSERT_EQ(first.exit_status, 0) << first.err;
  json report = json::parse(first.out);
  EXPECT_EQ(report["appliance_launches"], 1);
  EXPECT_EQ(report["output"]["format"], "vhd");
  EXPECT_EQ(run_host_checked({"sha256sum", source.string()}), source_sum) << "the source image was modified";
  std::set<std::string> targets;
  for (const json& change : report["changes"]) {
    targets.insert(change["target"].get<std::string>());
    EXPECT_EQ(change.dump().find("Fixture-Only-Passw0rd"), std::string::npos) << "a password leaked into the report";
  }
  EXPECT_TRUE(targets.count("HKLM\\SYSTEM\\ControlSet002\\Control\\TimeZoneInformation\\RealTimeIsUniversal"));
  EXPECT_TRUE(targets.count("HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon\\DefaultPassword"));

  // Read back with tools that are not vmfix.
  const std::string system = exported_hive(output, "SYSTEM", scratch.path());
  const std::string software = exported_hive(output, "SOFTWARE", scratch.path());
  for (const char* set : {"ControlSet001", "ControlSet002"}) {
    const std::string tz = std::string("[\\") + set + "\\Control\\TimeZoneInformation]";
    ASSERT_NE(system.find(tz), std::string::npos) << tz;
    EXPECT_NE(system.find("\"RealTimeIsUniversal\"=dword:00000001", system.find(tz)), std::string::npos);
  }
  EXPECT_EQ(system.find("\"fDenyTSConnections\"=dword:00000001"), std::string::npos);
  EXPECT_EQ(system.find("Active=FALSE"), std::string::npos);
  EXPECT_EQ(system.find("\"EnableDHCP\"=dword:00000000"), std::string::npos);
  // hivexregedit writes REG_MULTI_SZ as hex(7) bytes, folded over lines.
  std::string unfolded;
  for (size_t at = 0; at < system.size(); ++at) {
    if (system.compare(at, 4, "\\\n  ") == 0) at += 3;
    else unfolded += system[at];
  }
  std::string paging = "\"PagingFiles\"=hex(7):";
  const std::string expected = registry::make_multi_string("PagingFiles", {"C:\\pagefile.sys 2048 2048"}).data;
  for (size_t i = 0; i < expected.size(); ++i) paging += fmt::format("{}{:02x}", i ? "," : "", static_cast<unsigned char>(expected[i]));
  EXPECT_NE(unfolded.find(paging), std::string::npos) << paging;
  EXPECT_NE(software.find("\"AutoAdminLogon\"=str(1):\"0\""), std::string::npos) << software;
  EXPECT_EQ(software.find("DefaultPassword"), std::string::npos);
  EXPECT_NE(software.find("\"DefaultUserName\"=str(1):\"Administrator\""), std::string::npos);

  // Idempotent: the fixed image needs nothing more.
  const fs::path again = scratch.path() / "again.vhd";
  CliResult second = run_vmfix({"--fix", "rtc-utc,rdp,autologon,pagefile,network-dhcp", "--json", "-o", again.string(), output.string()});
  ASSERT_EQ(second.exit_status, 0) << second.err;
  json second_report = json::parse(second.out);
  EXPECT_TRUE(second_report["changes"].empty()) << second_report["changes"].dump(2);
  for (const json& fixer : second_report["fixers"]) EXPECT_EQ(fixer["status"], "unchanged");
}

TEST(Fix, OutputRulesAreUsageErrors) {
  const fs::path source = fixture_image("win2012r2-vmware");
  EXPECT_EQ(run_vmfix({"--fix", "rtc-utc", "--output-format", "ova", "-o", "/tmp/x.ova", source.string()}).exit_status, 64);
  EXPECT_EQ(run_vmfix({"--fix", "rtc-utc", "--in-place", source.string()}).exit_status, 64);
  EXPECT_EQ(run_vmfix({"--fix", "rtc-utc", "-o", source.string(), source.string()}).exit_status, 64);
  EXPECT_EQ(run_vmfix({"--fix", "no-such-fixer", source.string()}).exit_status, 64);
}

}  // namespace vmfix::test

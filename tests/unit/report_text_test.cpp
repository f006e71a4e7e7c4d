// The remediation report as text: findings grouped by area, details only where they matter, the
// changes, the verdict line and what was written, without colour unless asked.
#include <gtest/gtest.h>

#include "remediate/text.h"
#include "rules/profile.h"

namespace vmfix::remediate {
namespace {

Report checked_debian(bool uefi_on_2017) {
  inspect::Facts facts;
  facts.os_type = "linux";
  facts.distro = "debian";
  facts.major_version = 12;
  facts.product_name = "Debian GNU/Linux 12 (bookworm)";
  facts.arch = "x86_64";
  facts.boot_mode = uefi_on_2017 ? bootloader::BootMode::uefi : bootloader::BootMode::bios;
  facts.root_device = "/dev/sda1";
  facts.disks.push_back({"/dev/sda", "disk.img", 8ULL << 30, uefi_on_2017 ? "gpt" : "mbr", {}, {}});
  facts.filesystems.push_back({"/dev/sda1", "ext4", "", "", "/", 8ULL << 30, 4ULL << 30, true});
  facts.linux.kernels.push_back(
      {"6.1.0-18-amd64", "/boot/vmlinuz-6.1.0-18-amd64", "/boot/initrd.img-6.1.0-18-amd64", true});
  facts.bootloaders.push_back({"grub2", facts.boot_mode, "/boot/grub/grub.cfg", ""});
  Report report;
  report.mode = Mode::check;
  report.profile = &rules::load_profile(uefi_on_2017 ? "aws-2017" : "aws-current");
  report.vm.kind = "disk";
  report.vm.path = "/library/guest.img";
  report.facts = facts;
  report.before = rules::evaluate({*report.profile, report.facts, {"raw", "", "", 1, -1, -1, -1}, nullptr, {}});
  report.after = report.before;
  return report;
}

TEST(ReportText, ShowsTheGuestTheFindingsAndTheVerdict) {
  const std::string text = render_text(checked_debian(false), {false, 1});
  EXPECT_TRUE(text.starts_with("/library/guest.img (debian Debian GNU/Linux 12 (bookworm)), profile aws-current\n"))
      << text;
  EXPECT_NE(text.find("\nverdict: "), std::string::npos) << text;
  EXPECT_EQ(text.find("\x1b["), std::string::npos) << "no colour unless asked";
  EXPECT_EQ(text.find("changes"), std::string::npos) << "--check plans no changes";
  EXPECT_EQ(text.find("skipped"), std::string::npos) << "skipped rules only with -v";
}

TEST(ReportText, ABlockerIsShownWithItsMessageAndTheVerdictSaysBlocked) {
  // The 2017 profile takes no UEFI guest: a blocker with its message under it.
  const Report report = checked_debian(true);
  ASSERT_EQ(report.final_state().verdict, rules::Verdict::blocked);
  const std::string text = render_text(report, {false, 1});
  EXPECT_NE(text.find("FAIL    blocker  boot-mode"), std::string::npos) << text;
  EXPECT_NE(text.find("verdict: blocked ("), std::string::npos) << text;
  const std::string colored = render_text(report, {true, 1});
  EXPECT_NE(colored.find("\x1b["), std::string::npos) << "colour when asked";
}

}  // namespace
}  // namespace vmfix::remediate

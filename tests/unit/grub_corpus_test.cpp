// The GRUB edits on real menus (grubby's test corpus: GRUB 2 menus and GRUB legacy menu.lst
// files from Fedora, RHEL and SUSE) and on every combination of the /etc/default/grub settings
// that decide what a later update-grub writes (GRUB_DISABLE_LINUX_UUID, GRUB_DISABLE_LINUX_PARTUUID,
// a device name typed into GRUB_CMDLINE_LINUX*), in the main file and in a drop-in.
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>

#include "bootloader/grub_edit.h"
#include "support/files.h"
#include "support/text.h"
#include "tests/test_support.h"

namespace vmfix::bootloader {
namespace {

namespace fs = std::filesystem;

// Every kernel device name a menu may hold has a filesystem, with a UUID made from its name.
const Ec2Args kEc2{[](const std::string& device) { return "uuid-of-" + device.substr(5); },
                   "nvme_core.io_timeout=4294967295"};
const std::regex kDeviceName(R"((root|resume)=/dev/(sd|hd|vd|xvd)[a-z]+[0-9]*\b)");

// The lines an edit may change: kernel lines and timeouts. Everything else comes out byte for byte.
bool editable(std::string_view line) {
  std::string_view t = trim(line);
  for (std::string_view keyword : {"linux", "linux16", "linuxefi", "kernel", "set timeout", "timeout", "default"})
    if (t.starts_with(keyword)) return true;
  return false;
}

void expect_only_editable_lines_changed(const std::string& before, const std::string& after) {
  auto old_lines = split_lines(before), new_lines = split_lines(after);
  ASSERT_EQ(old_lines.size(), new_lines.size()) << "lines added or lost";
  for (size_t i = 0; i < old_lines.size(); ++i)
    if (!editable(old_lines[i])) {
      EXPECT_EQ(old_lines[i], new_lines[i]) << "line " << i + 1;
    }
}

void expect_ec2_command_lines(const std::string& menu, MenuSyntax syntax) {
  for (const std::string& args : linux_command_lines(menu, syntax)) {
    EXPECT_TRUE(has_serial_console(args)) << args;
    EXPECT_NE(args.find("nvme_core.io_timeout=4294967295"), std::string::npos) << args;
    EXPECT_FALSE(std::regex_search(args, kDeviceName)) << args;
  }
}

std::vector<fs::path> corpus_files(const fs::path& corpus, std::string_view prefix) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(corpus / "linux/grub/grubby-test")) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && name.starts_with(prefix) && name.find("support") == std::string::npos)
      files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(GrubCorpus, Grub2MenusEditedInPlace) {
  VMFIX_REQUIRE_CORPUS(corpus);
  int menus = 0;
  for (const fs::path& path : corpus_files(corpus, "grub2.")) {
    SCOPED_TRACE(path.filename().string());
    const std::string menu = read_host_file(path);
    if (linux_command_lines(menu, MenuSyntax::grub2).empty()) continue;
    ++menus;
    const std::string edited = ec2_grub_cfg(menu, kEc2);
    expect_only_editable_lines_changed(menu, edited);
    expect_ec2_command_lines(edited, MenuSyntax::grub2);
    for (int seconds : menu_timeouts(edited, MenuSyntax::grub2)) EXPECT_FALSE(timeout_too_long(seconds)) << seconds;
    EXPECT_EQ(ec2_grub_cfg(edited, kEc2), edited) << "a second edit changed something";
    // What an appliance-run grub-mkconfig would leave, repaired: no device name or hint of the appliance's.
    const std::string repaired = repair_appliance_names(edited, {"1111-root", "2222-swap", ""});
    EXPECT_TRUE(device_names_in_menu(repaired).empty())
        << fmt::format("{}", fmt::join(device_names_in_menu(repaired), "; "));
    EXPECT_EQ(repair_appliance_names(repaired, {"1111-root", "2222-swap", ""}), repaired);
  }
  EXPECT_GE(menus, 20);
}

TEST(GrubCorpus, GrubLegacyMenusEditedInPlace) {
  VMFIX_REQUIRE_CORPUS(corpus);
  int menus = 0, with_device_names = 0;
  for (const fs::path& path : corpus_files(corpus, "grub.")) {
    SCOPED_TRACE(path.filename().string());
    const std::string menu = read_host_file(path);
    if (linux_command_lines(menu, MenuSyntax::legacy).empty()) continue;
    ++menus;
    with_device_names += std::regex_search(menu, kDeviceName);
    const std::string edited = ec2_grub_legacy(menu, kEc2);
    expect_only_editable_lines_changed(menu, edited);
    expect_ec2_command_lines(edited, MenuSyntax::legacy);
    EXPECT_EQ(ec2_grub_legacy(edited, kEc2), edited);
  }
  EXPECT_GE(menus, 10);
  EXPECT_GE(with_device_names, 5) << "the corpus's menus name roots like /dev/sda1 and /dev/hda6";
}

// A BLS entry as Fedora and RHEL 8+ write it, with the options inline or in grubenv's kernelopts.
TEST(GrubCorpus, BlsEntriesWithAndWithoutKernelopts) {
  const std::string inline_options =
      "title Red Hat Enterprise Linux (4.18.0-513.el8.x86_64) 8.9 (Ootpa)\nversion 4.18.0-513.el8.x86_64\n"
      "linux /vmlinuz-4.18.0-513.el8.x86_64\ninitrd /initramfs-4.18.0-513.el8.x86_64.img $tuned_initrd\n"
      "options root=/dev/sda2 ro crashkernel=auto resume=/dev/sda3 rhgb quiet $tuned_params\nid rhel-4.18.0\n";
  const std::string edited = ec2_bls_entry(inline_options, kEc2);
  EXPECT_NE(edited.find(
                "options root=UUID=uuid-of-sda2 ro crashkernel=auto resume=UUID=uuid-of-sda3 rhgb quiet $tuned_params "
                "nvme_core.io_timeout=4294967295 console=tty0 console=ttyS0,115200\n"),
            std::string::npos)
      << edited;
  EXPECT_EQ(ec2_bls_entry(edited, kEc2), edited);
  const std::string via_grubenv = "title Fedora\nlinux /vmlinuz-6.5\noptions $kernelopts\n";
  EXPECT_EQ(ec2_bls_entry(via_grubenv, kEc2), via_grubenv) << "the options live in grubenv";
  EXPECT_EQ(ec2_kernel_args("root=/dev/sda2 ro", kEc2),
            "root=UUID=uuid-of-sda2 ro nvme_core.io_timeout=4294967295 console=tty0 console=ttyS0,115200");
  EXPECT_EQ(ec2_kernel_args("ro nvme_core.io_timeout=30 console=ttyS0", kEc2),
            "ro nvme_core.io_timeout=4294967295 console=ttyS0")
      << "a shorter timeout is raised in place";
}

TEST(GrubCorpus, EveryCombinationOfTheUuidSettings) {
  const std::vector<std::string> uuid_settings = {"", "GRUB_DISABLE_LINUX_UUID=true\n",
                                                  "GRUB_DISABLE_LINUX_UUID=\"true\"\n",
                                                  "GRUB_DISABLE_LINUX_UUID=false\n", "#GRUB_DISABLE_LINUX_UUID=true\n"};
  const std::vector<std::string> partuuid_settings = {"", "GRUB_DISABLE_LINUX_PARTUUID=true\n",
                                                      "GRUB_DISABLE_LINUX_PARTUUID=false\n"};
  const std::vector<std::pair<std::string, std::string>> cmdlines = {{"", "quiet"},
                                                                     {"root=/dev/sda2", "quiet"},
                                                                     {"", "quiet resume=/dev/sda3"},
                                                                     {"net.ifnames=0", "root=/dev/vda1 splash"}};
  for (bool drop_in : {false, true})
    for (const auto& uuid : uuid_settings)
      for (const auto& partuuid : partuuid_settings)
        for (const auto& [linux, linux_default] : cmdlines) {
          const std::string text = "GRUB_DEFAULT=0\nGRUB_TIMEOUT=5\n" + uuid + partuuid +
                                   "GRUB_CMDLINE_LINUX_DEFAULT=\"" + linux_default + "\"\nGRUB_CMDLINE_LINUX=\"" +
                                   linux + "\"\n";
          SCOPED_TRACE(text + (drop_in ? "(a drop-in)" : ""));
          const std::string edited = ec2_default_grub(text, kEc2, {false, drop_in});
          EXPECT_EQ(edited.find("GRUB_DISABLE_LINUX_UUID=true"),
                    edited.find("#GRUB_DISABLE_LINUX_UUID=true") + (uuid[0] == '#'))
              << "no active GRUB_DISABLE_LINUX_UUID=true is left";
          EXPECT_EQ(edited.find("GRUB_DISABLE_LINUX_UUID=\"true\""), std::string::npos);
          if (!partuuid.empty()) {
            EXPECT_NE(edited.find(partuuid), std::string::npos) << "PARTUUID settings are left alone";
          }
          EXPECT_FALSE(std::regex_search(edited, kDeviceName)) << edited;
          EXPECT_NE(edited.find("console=ttyS0,115200"), std::string::npos) << edited;
          EXPECT_NE(edited.find("nvme_core.io_timeout=4294967295"), std::string::npos) << edited;
          EXPECT_EQ(ec2_default_grub(edited, kEc2, {false, drop_in}), edited) << "a second edit changed something";
        }
  // A drop-in that sets nothing the edit owns is left alone; the main file gains what it lacks.
  EXPECT_EQ(ec2_default_grub("GRUB_TERMINAL=console\n", kEc2, {false, true}), "GRUB_TERMINAL=console\n");
  EXPECT_EQ(ec2_default_grub("GRUB_TERMINAL=console\n", kEc2),
            "GRUB_TERMINAL=console\nGRUB_CMDLINE_LINUX=\"nvme_core.io_timeout=4294967295 console=tty0 "
            "console=ttyS0,115200\"\n");
}

}  // namespace
}  // namespace vmfix::bootloader

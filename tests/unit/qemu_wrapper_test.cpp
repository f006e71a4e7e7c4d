// The qemu wrapper script, run by the real /bin/sh in front of a stand-in qemu that prints the
// command line it got: libguestfs's -machine accel=... becomes -accel options in the same order,
// TCG's with the translation cache size, and nothing else changes, whatever the arguments hold.
#include "guest/qemu_wrapper.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "support/error.h"
#include "support/files.h"
#include "support/process.h"
#include "support/text.h"
#include "tests/test_support.h"

namespace vmfix::guest {
namespace {

namespace fs = std::filesystem;

// The arguments the stand-in qemu received, one per line.
std::vector<std::string> received(const fs::path& wrapper, const std::vector<std::string>& arguments) {
  std::vector<std::string> argv{wrapper.string()};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  const std::string output = run_host_checked(argv);
  std::vector<std::string> lines;
  for (std::string_view line : split_lines(output)) lines.emplace_back(line);
  return lines;
}

class QemuWrapper : public ::testing::Test {
 protected:
  void SetUp() override {
    qemu_ = scratch_.path() / "qemu";
    test::write_file(qemu_, "#!/bin/sh\nfor arg in \"$@\"; do printf '%s\\n' \"$arg\"; done\n");
    fs::permissions(qemu_, fs::perms::owner_all);
    auto installed = install_qemu_wrapper(scratch_.path() / "cache", qemu_.string(), 128);
    ASSERT_TRUE(installed);
    wrapper_ = *installed;
  }
  TempDir scratch_{"vmfix-qemu-wrapper-test"};
  fs::path qemu_, wrapper_;
};

TEST_F(QemuWrapper, MovesTheAcceleratorsOutOfMachineIntoAccelOptions) {
  // What libguestfs 1.48 passes, with KVM allowed and with software emulation forced.
  EXPECT_EQ(received(wrapper_, {"-global", "virtio-blk-pci.scsi=off", "-machine", "accel=kvm:tcg,graphics=off", "-cpu",
                                "max,la57=off", "-append", "panic=1 console=ttyS0 quiet"}),
            (std::vector<std::string>{"-global", "virtio-blk-pci.scsi=off", "-machine", "graphics=off", "-accel", "kvm",
                                      "-accel", "tcg,tb-size=128", "-cpu", "max,la57=off", "-append",
                                      "panic=1 console=ttyS0 quiet"}));
  EXPECT_EQ(received(wrapper_, {"-M", "q35,accel=tcg", "-m", "1280"}),
            (std::vector<std::string>{"-machine", "q35", "-accel", "tcg,tb-size=128", "-m", "1280"}));
  EXPECT_EQ(received(wrapper_, {"-machine", "accel=tcg"}), (std::vector<std::string>{"-accel", "tcg,tb-size=128"}));
}

TEST_F(QemuWrapper, LeavesEveryOtherCommandLineAlone) {
  // libguestfs's feature probes, and arguments with spaces, globs, quotes and empty strings.
  EXPECT_EQ(received(wrapper_, {"-help"}), (std::vector<std::string>{"-help"}));
  EXPECT_EQ(received(wrapper_, {"-display", "none", "-machine", "none", "-qmp", "stdio"}),
            (std::vector<std::string>{"-display", "none", "-machine", "none", "-qmp", "stdio"}));
  const std::vector<std::string> odd{"-drive", "file=/tmp/a b/*.qcow2,id=hd0", "it's", "$HOME", "-machine"};
  EXPECT_EQ(received(wrapper_, odd), odd);
  EXPECT_EQ(run_host({wrapper_.string(), "", "x"}).output, "\nx\n");
}

TEST_F(QemuWrapper, IsWrittenOnceExecutableAndOnlyForAQemuItCanName) {
  struct stat info {};
  ASSERT_EQ(::stat(wrapper_.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0755u);
  EXPECT_EQ(install_qemu_wrapper(scratch_.path() / "cache", qemu_.string(), 128), wrapper_);
  EXPECT_NE(install_qemu_wrapper(scratch_.path() / "cache", qemu_.string(), 64), wrapper_);
  EXPECT_FALSE(install_qemu_wrapper(scratch_.path() / "cache", "/opt/it's/qemu", 128));
  EXPECT_FALSE(install_qemu_wrapper(scratch_.path() / "cache", "", 128));
}

// A cache directory that cannot be made (a read-only /var/tmp, a VMFIX_CACHE_DIR under /proc) is
// vmfix's Error, which the session turns into a note, not the filesystem library's exception
// (an internal error that stopped the run).
TEST_F(QemuWrapper, ACacheThatCannotBeMadeIsAnError) {
  write_host_file_atomic(scratch_.path() / "file", "");
  EXPECT_THROW(install_qemu_wrapper(scratch_.path() / "file" / "cache", qemu_.string(), 128), Error);
}

}  // namespace
}  // namespace vmfix::guest

// The watchdog that turns a hung KVM launch into a failure, on real child processes.
#include "guest/launch_watchdog.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "guest/session.h"
#include "support/files.h"

namespace vmfix::guest {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// Starts `program` (a copy of sleep, whose name sets the child's command name) for 30 s.
pid_t start(const fs::path& program) {
  pid_t pid = ::fork();
  if (pid == 0) {
    ::execl(program.c_str(), program.c_str(), "30", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

// Waits up to `limit` for the child to end; returns its wait status, or -1 if it is still running.
int wait_for(pid_t pid, std::chrono::milliseconds limit) {
  for (auto waited = 0ms; waited < limit; waited += 20ms) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) return status;
    ::usleep(20 * 1000);
  }
  return -1;
}

class LaunchWatchdogTest : public ::testing::Test {
 protected:
  fs::path copy_of_sleep(const std::string& name) {
    fs::path program = scratch_.path() / name;
    fs::copy_file("/bin/sleep", program);
    fs::permissions(program, fs::perms::owner_all);
    return program;
  }
  TempDir scratch_{"vmfix-watchdog-test"};
};

}  // namespace

TEST_F(LaunchWatchdogTest, StopsAQemuChildThatOutlivesTheDeadline) {
  pid_t qemu = start(copy_of_sleep("qemu-system-x86_64"));
  ASSERT_GT(qemu, 0);
  int status;
  {
    LaunchWatchdog watchdog(300ms);
    status = wait_for(qemu, 5s);
    EXPECT_TRUE(watchdog.fired());
  }
  if (status == -1) ::kill(qemu, SIGKILL), ::waitpid(qemu, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
}

TEST_F(LaunchWatchdogTest, LeavesOtherChildrenAndQuickLaunchesAlone) {
  pid_t other = start(copy_of_sleep("not-qemu"));
  pid_t qemu = start(copy_of_sleep("qemu-system-x86_64"));
  {
    LaunchWatchdog watchdog(2s);
    EXPECT_EQ(wait_for(other, 600ms), -1) << "a child that is not qemu was stopped";
    EXPECT_EQ(wait_for(qemu, 100ms), -1) << "qemu was stopped before its deadline";
    EXPECT_FALSE(watchdog.fired());
  }  // the launch returned: watching ends, and nothing is killed afterwards
  ::usleep(2500 * 1000);
  EXPECT_EQ(wait_for(qemu, 10ms), -1) << "qemu was stopped after the watch ended";
  for (pid_t pid : {other, qemu}) ::kill(pid, SIGKILL), ::waitpid(pid, nullptr, 0);
}

TEST(LaunchDeadline, FromTheEnvironmentElseSixtySeconds) {
  ::unsetenv("VMFIX_KVM_LAUNCH_TIMEOUT");
  EXPECT_EQ(kvm_launch_deadline(), 60s);
  ::setenv("VMFIX_KVM_LAUNCH_TIMEOUT", "2.5", 1);
  EXPECT_EQ(kvm_launch_deadline(), 2500ms);
  ::setenv("VMFIX_KVM_LAUNCH_TIMEOUT", "nonsense", 1);
  EXPECT_EQ(kvm_launch_deadline(), 60s);
  for (const char* huge : {"1e20", "inf"}) {  // at most a day (a cast of these overflowed)
    ::setenv("VMFIX_KVM_LAUNCH_TIMEOUT", huge, 1);
    EXPECT_EQ(kvm_launch_deadline(), 24h) << huge;
  }
  ::unsetenv("VMFIX_KVM_LAUNCH_TIMEOUT");
}

}  // namespace vmfix::guest

// libguestfs's names for the disks in the order they were added (guestfs(3), "BLOCK DEVICE
// NAMING"): letters as in a spreadsheet's columns.
TEST(ApplianceDiskName, LettersAfterZWrapToTwo) {
  EXPECT_EQ(vmfix::guest::appliance_disk_name(0), "/dev/sda");
  EXPECT_EQ(vmfix::guest::appliance_disk_name(1), "/dev/sdb");
  EXPECT_EQ(vmfix::guest::appliance_disk_name(25), "/dev/sdz");
  EXPECT_EQ(vmfix::guest::appliance_disk_name(26), "/dev/sdaa");
  EXPECT_EQ(vmfix::guest::appliance_disk_name(27), "/dev/sdab");
  EXPECT_EQ(vmfix::guest::appliance_disk_name(51), "/dev/sdaz");
  EXPECT_EQ(vmfix::guest::appliance_disk_name(52), "/dev/sdba");
  EXPECT_EQ(vmfix::guest::appliance_disk_name(701), "/dev/sdzz");
  EXPECT_EQ(vmfix::guest::appliance_disk_name(702), "/dev/sdaaa");
  EXPECT_EQ(vmfix::guest::appliance_disk_label(0), "vmfixa");
  EXPECT_EQ(vmfix::guest::appliance_disk_label(27), "vmfixab");
}

// Guest programs reach a disk by its label's link, whatever the appliance's kernel named it.
TEST(DiskNames, ProgramsGetTheLabelsLink) {
  using vmfix::guest::program_device;
  EXPECT_EQ(program_device("/dev/sda"), "/dev/disk/guestfs/vmfixa");
  EXPECT_EQ(program_device("/dev/sdb2"), "/dev/disk/guestfs/vmfixb2");
  EXPECT_EQ(program_device("/dev/sdab15"), "/dev/disk/guestfs/vmfixab15");
  EXPECT_EQ(program_device("/dev/sdabcdefghijklmno1"), "/dev/disk/guestfs/vmfixabcdefghijklmno1")
      << "15 letters: a label of 20, libguestfs's limit";
  for (size_t i : {0, 1, 25, 26, 701, 702, 18277})
    EXPECT_EQ(program_device(vmfix::guest::appliance_disk_name(i)),
              "/dev/disk/guestfs/" + vmfix::guest::appliance_disk_label(i));
  // Not a whole disk or one of its partitions: stable names, unchanged.
  for (const char* other : {"/dev/vg0/root", "/dev/mapper/vg0-root", "/dev/md0", "/dev/sd", "/dev/sda0", "/dev/sdA1",
                            "/dev/sda1b", "/dev/sdabcdefghijklmnop", "/dev/vda1", "/dev/nvme0n1p1", "LABEL=root"})
    EXPECT_EQ(program_device(other), other) << other;
}

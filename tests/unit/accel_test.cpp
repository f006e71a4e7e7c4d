#include "guest/accel.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include "support/error.h"
#include "support/files.h"

namespace vmfix::guest {

namespace {
// Points the cache at a scratch directory for one test, and restores the environment.
class AccelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("VMFIX_CACHE_DIR", scratch_.path().c_str(), 1);
    ::unsetenv("VMFIX_ACCEL");
  }
  void TearDown() override {
    ::unsetenv("VMFIX_CACHE_DIR");
    ::unsetenv("VMFIX_ACCEL");
  }
  TempDir scratch_{"vmfix-accel-test"};
};
}  // namespace

TEST_F(AccelTest, ParsesNames) {
  EXPECT_EQ(parse_accel("kvm"), Accel::kvm);
  EXPECT_EQ(parse_accel("tcg"), Accel::tcg);
  EXPECT_EQ(parse_accel("auto"), Accel::automatic);
  EXPECT_THROW(parse_accel("hvf"), UsageError);
}

TEST_F(AccelTest, ExplicitRequestsNeverFallBack) {
  EXPECT_TRUE(plan_acceleration(Accel::tcg).force_tcg);
  EXPECT_FALSE(plan_acceleration(Accel::tcg).may_fall_back);
  EXPECT_FALSE(plan_acceleration(Accel::kvm).force_tcg);
  EXPECT_FALSE(plan_acceleration(Accel::kvm).may_fall_back);
  ::setenv("VMFIX_ACCEL", "tcg", 1);
  EXPECT_TRUE(plan_acceleration(Accel::automatic).force_tcg);
  EXPECT_FALSE(plan_acceleration(Accel::kvm).force_tcg);  // the option wins over the environment
}

TEST_F(AccelTest, TheFailedAttemptIsRememberedForThisKernel) {
  if (::access("/dev/kvm", R_OK | W_OK) != 0) GTEST_SKIP() << "no /dev/kvm: qemu picks TCG by itself";
  AccelPlan first = plan_acceleration(Accel::automatic);
  EXPECT_FALSE(first.force_tcg);
  EXPECT_TRUE(first.may_fall_back);
  remember_kvm_broken("qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69");
  AccelPlan second = plan_acceleration(Accel::automatic);
  EXPECT_TRUE(second.force_tcg);
  EXPECT_FALSE(second.may_fall_back);
  // A cache written under another kernel does not count.
  write_host_file_atomic(accel_cache_file(), "tcg\nsome-other-kernel\nwhatever\n");
  EXPECT_FALSE(plan_acceleration(Accel::automatic).force_tcg);
}

TEST_F(AccelTest, RecognisesKvmFailures) {
  const std::string log =
      "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69\n"
      "qemu-system-x86_64: ../../target/i386/kvm/kvm.c:3183: kvm_buf_set_msrs: Assertion failed.\n";
  EXPECT_TRUE(looks_like_kvm_failure(log, "appliance closed the connection unexpectedly"));
  EXPECT_EQ(kvm_failure_evidence(log, ""), "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69");
  EXPECT_FALSE(looks_like_kvm_failure("supermin: failed to find a suitable kernel", "launch failed"));
}

}  // namespace vmfix::guest

#pragma once
// Turns a KVM launch that hangs into a launch that fails.
//
// On some hosts qemu under KVM neither fails nor boots: it spins at full CPU before the
// appliance's kernel prints a line, and guestfs_launch waits for ever. The launch policy can only
// fall back to software emulation after a failure, so while a KVM launch is watched a thread looks
// for this process's qemu children and kills any that has run longer than the deadline. The launch
// then fails, and fired() tells the policy why.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace vmfix::guest {

// How long qemu may run under KVM before the appliance is up: VMFIX_KVM_LAUNCH_TIMEOUT (seconds)
// when set, else 60 s. A working KVM starts the appliance in a few seconds; the deadline counts
// from qemu's start, so building the appliance (supermin) does not count.
std::chrono::milliseconds kvm_launch_deadline();

class LaunchWatchdog {
 public:
  explicit LaunchWatchdog(std::chrono::milliseconds deadline);
  ~LaunchWatchdog();  // stops watching; call it as soon as the launch returns
  LaunchWatchdog(const LaunchWatchdog&) = delete;
  LaunchWatchdog& operator=(const LaunchWatchdog&) = delete;

  bool fired() const { return fired_.load(); }
  std::chrono::milliseconds deadline() const { return deadline_; }

 private:
  void watch();

  std::chrono::milliseconds deadline_;
  std::atomic<bool> fired_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  bool done_ = false;
  std::thread thread_;
};

}  // namespace vmfix::guest

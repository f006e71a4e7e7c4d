#include "guest/launch_watchdog.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace vmfix::guest {

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds kPollInterval{200};
constexpr std::chrono::seconds kDefaultDeadline{60};

// The pids of this process's children whose command name starts with "qemu", from /proc/PID/stat:
// "PID (COMM) STATE PPID ...", where COMM may itself hold spaces and parentheses.
std::vector<pid_t> qemu_children() {
  std::vector<pid_t> found;
  const pid_t self = ::getpid();
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", error)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream file(entry.path() / "stat");
    std::string stat;
    if (!std::getline(file, stat)) continue;
    const size_t open = stat.find('(');
    const size_t close = stat.rfind(')');
    if (open == std::string::npos || close == std::string::npos || close + 4 >= stat.size()) continue;
    const std::string_view comm(stat.data() + open + 1, close - open - 1);
    if (comm.substr(0, 4) != "qemu") continue;
    const std::string_view rest(stat.data() + close + 4);  // past ") S "
    pid_t parent = 0;
    std::from_chars(rest.data(), rest.data() + rest.size(), parent);
    if (parent == self) found.push_back(static_cast<pid_t>(std::atoi(name.c_str())));
  }
  return found;
}

}  // namespace

std::chrono::milliseconds kvm_launch_deadline() {
  if (const char* text = std::getenv("VMFIX_KVM_LAUNCH_TIMEOUT"); text && *text) {
    const double seconds = std::strtod(text, nullptr);  // at most a day: 1e20 or inf would overflow
    if (seconds > 0) return std::chrono::milliseconds(static_cast<long long>(std::min(seconds, 86400.0) * 1000));
  }
  return kDefaultDeadline;
}

LaunchWatchdog::LaunchWatchdog(std::chrono::milliseconds deadline)
    : deadline_(deadline), thread_([this] { watch(); }) {}

LaunchWatchdog::~LaunchWatchdog() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    done_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void LaunchWatchdog::watch() {
  std::map<pid_t, Clock::time_point> first_seen;
  std::unique_lock<std::mutex> lock(mutex_);
  while (!wake_.wait_for(lock, kPollInterval, [this] { return done_; })) {
    const auto now = Clock::now();
    for (pid_t pid : qemu_children()) {
      auto [seen, inserted] = first_seen.try_emplace(pid, now);
      if (inserted || now - seen->second < deadline_) continue;
      // Said before the kill: whoever sees qemu die (libguestfs's launch, returning) must find
      // why. Taken back when qemu was already gone, so the watchdog stopped nothing.
      const bool before = fired_.exchange(true);
      if (::kill(pid, SIGKILL) != 0) fired_ = before;
    }
  }
}

}  // namespace vmfix::guest

#include "support/cores.h"

#include <sched.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

namespace vmfix {
namespace fs = std::filesystem;

namespace {

unsigned cpus_in_affinity_mask() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return static_cast<unsigned>(CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

std::string first_line(const fs::path& path) {
  std::ifstream file(path);
  std::string line;
  std::getline(file, line);
  return line;
}

// The tightest limit on the way from `dir` up to `root`; `limit_in(dir)` reads one level's.
template <typename LimitIn>
std::optional<unsigned> tightest_up_to(const fs::path& root, fs::path dir, LimitIn limit_in) {
  std::optional<unsigned> tightest;
  for (;; dir = dir.parent_path()) {
    if (auto cores = limit_in(dir)) tightest = tightest ? std::min(*tightest, *cores) : *cores;
    if (dir == root || dir == dir.parent_path()) return tightest;
  }
}

// The quota of this process's cgroup: v2's cpu.max, else v1's cpu controller (cfs_quota_us,
// cfs_period_us; -1 is no limit), from /proc/self/cgroup's "ID:CONTROLLERS:PATH" lines.
std::optional<unsigned> cgroup_quota_cores() {
  std::ifstream cgroups("/proc/self/cgroup");
  std::string line;
  while (std::getline(cgroups, line)) {
    const size_t first = line.find(':'), second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    const std::string controllers = "," + line.substr(first + 1, second - first - 1) + ",";
    const fs::path path = fs::path(line.substr(second + 1)).relative_path();
    if (controllers == ",," && fs::exists("/sys/fs/cgroup/cgroup.controllers"))
      return tightest_up_to("/sys/fs/cgroup", "/sys/fs/cgroup" / path,
                            [](const fs::path& dir) { return cores_of_cpu_max(first_line(dir / "cpu.max")); });
    if (controllers.find(",cpu,") == std::string::npos) continue;
    const fs::path root = "/sys/fs/cgroup/cpu";
    return tightest_up_to(root, root / path, [](const fs::path& dir) {
      return cores_of_cpu_max(first_line(dir / "cpu.cfs_quota_us") + " " + first_line(dir / "cpu.cfs_period_us"));
    });
  }
  return std::nullopt;
}

}  // namespace

std::optional<unsigned> cores_of_cpu_max(std::string_view cpu_max) {
  const size_t space = cpu_max.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  const std::string_view quota_text = cpu_max.substr(0, space), period_text = cpu_max.substr(space + 1);
  uint64_t quota = 0, period = 0;
  auto parse = [](std::string_view text, uint64_t& value) {
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    return error == std::errc() && end == text.data() + text.size();
  };
  if (quota_text == "max" || quota_text == "-1" || !parse(quota_text, quota) || !parse(period_text, period) ||
      period == 0 || quota == 0)
    return std::nullopt;
  return static_cast<unsigned>(std::max<uint64_t>(1, (quota + period - 1) / period));
}

unsigned usable_cores() {
  const unsigned cpus = cpus_in_affinity_mask();
  const std::optional<unsigned> quota = cgroup_quota_cores();
  return quota ? std::min(cpus, *quota) : cpus;
}

}  // namespace vmfix

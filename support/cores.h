#pragma once
// How many cores this process may keep busy: the CPUs it may run on (its affinity mask, as taskset
// or a Slurm allocation set it), fewer when a cgroup's CPU quota (a container's --cpus) allows less,
// from the process's own cgroup up to the root. std::thread::hardware_concurrency counts the
// machine's CPUs, which overcommits both cases.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vmfix {

struct CoreSources {
  std::filesystem::path cgroup_root = "/sys/fs/cgroup";  // v2; v1's cpu controller under cpu/
  std::filesystem::path self_cgroup = "/proc/self/cgroup";
  unsigned affinity_cpus = 0;  // 0: sched_getaffinity
};

struct UsableCores {
  unsigned count = 1;
  std::vector<std::string> evidence;  // what set it, for -v
};

UsableCores usable_cores_of(const CoreSources& sources);
unsigned usable_cores();  // of this process, as it runs

// This process's cgroup v2 directory ("0::/PATH" in self_cgroup) under cgroup_root, then each
// ancestor up to the root: a limit anywhere on the way applies. Empty without cgroup v2.
std::vector<std::filesystem::path> cgroup_chain(const CoreSources& sources);

// The whole cores a CPU quota of "QUOTA PERIOD" allows (cgroup v2's cpu.max; "max" or v1's -1:
// no limit), at least one; nullopt when it sets no limit or cannot be read.
std::optional<unsigned> cores_of_cpu_max(std::string_view cpu_max);

}  // namespace vmfix

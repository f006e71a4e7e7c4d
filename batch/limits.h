#pragma once
// What this process may use, not what the host has: the CPUs of its affinity mask and its cgroup
// v2 quota (cpu.max), the memory the kernel says is available and its cgroup's headroom
// (memory.max less memory.current), each cgroup from the process's own up to the root.
#include <cstdint>
#include <filesystem>
#include <string>

namespace vmfix::batch {

struct ProcessLimits {
  unsigned cpus = 1;
  uint64_t memory = 0;   // bytes
  std::string evidence;  // what set them, for -v
};

struct LimitSources {
  std::filesystem::path cgroup_root = "/sys/fs/cgroup";
  std::filesystem::path self_cgroup = "/proc/self/cgroup";
  std::filesystem::path meminfo = "/proc/meminfo";
  unsigned affinity_cpus = 0;  // 0: sched_getaffinity
};

ProcessLimits process_limits(const LimitSources& sources = {});

// Appliances that fit: one a CPU, kApplianceBytes each (batch.h); at least 1.
int jobs_within(const ProcessLimits& limits);

// The vCPUs each of `jobs` appliances side by side gets on `usable` cores: an equal share, at
// least one, at most the two a lone run gets.
unsigned appliance_cpus_per_worker(unsigned usable, int jobs);

}  // namespace vmfix::batch

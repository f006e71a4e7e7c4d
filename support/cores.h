#pragma once
// How many cores this process may keep busy: the CPUs it may run on (its affinity mask, as taskset
// or a Slurm allocation set it), fewer when a cgroup's CPU quota (a container's --cpus) allows less.
// std::thread::hardware_concurrency counts the machine's CPUs, which overcommits both cases.
#include <optional>
#include <string_view>

namespace vmfix {

unsigned usable_cores();

// The whole cores a CPU quota of "QUOTA PERIOD" (cgroup v2's cpu.max; "max" or v1's -1: no limit)
// allows, rounded up; nullopt when it sets no limit or cannot be read.
std::optional<unsigned> cores_of_cpu_max(std::string_view cpu_max);

}  // namespace vmfix

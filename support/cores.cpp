#include "support/cores.h"

#include <fmt/core.h>
#include <sched.h>

#include <algorithm>
#include <charconv>
#include <fstream>
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

// cgroup v1: the cpu controller's directory of this process ("ID:cpu,cpuacct:/PATH") and its
// ancestors, each with its quota as "QUOTA PERIOD".
std::vector<std::pair<fs::path, std::string>> v1_quotas(const CoreSources& sources) {
  std::ifstream cgroups(sources.self_cgroup);
  std::string line;
  std::vector<std::pair<fs::path, std::string>> quotas;
  while (std::getline(cgroups, line)) {
    const size_t first = line.find(':'), second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    if (("," + line.substr(first + 1, second - first - 1) + ",").find(",cpu,") == std::string::npos) continue;
    const fs::path root = sources.cgroup_root / "cpu";
    for (fs::path dir = root / fs::path(line.substr(second + 1)).relative_path();; dir = dir.parent_path()) {
      quotas.emplace_back(dir, first_line(dir / "cpu.cfs_quota_us") + " " + first_line(dir / "cpu.cfs_period_us"));
      if (dir == root || dir == dir.parent_path()) break;
    }
  }
  return quotas;
}

}  // namespace

std::vector<fs::path> cgroup_chain(const CoreSources& sources) {
  std::ifstream cgroups(sources.self_cgroup);
  std::string line;
  std::optional<std::string> path;
  while (std::getline(cgroups, line))
    if (line.starts_with("0::")) path = line.substr(3);
  std::vector<fs::path> chain;
  if (!path) return chain;
  for (fs::path at = sources.cgroup_root / fs::path(*path).relative_path();; at = at.parent_path()) {
    chain.push_back(at);
    if (at == sources.cgroup_root || !at.has_relative_path() || at.parent_path() == at) break;
  }
  return chain;
}

std::optional<unsigned> cores_of_cpu_max(std::string_view cpu_max) {
  while (!cpu_max.empty() && (cpu_max.back() == '\n' || cpu_max.back() == ' ')) cpu_max.remove_suffix(1);
  const size_t space = cpu_max.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  const std::string_view quota_text = cpu_max.substr(0, space), period_text = cpu_max.substr(space + 1);
  uint64_t quota = 0, period = 0;
  auto parse = [](std::string_view text, uint64_t& value) {
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    return error == std::errc() && end == text.data() + text.size();
  };
  if (!parse(quota_text, quota) || !parse(period_text, period) || period == 0 || quota == 0) return std::nullopt;
  return static_cast<unsigned>(std::max<uint64_t>(1, quota / period));
}

UsableCores usable_cores_of(const CoreSources& sources) {
  UsableCores cores;
  cores.count = sources.affinity_cpus ? sources.affinity_cpus : cpus_in_affinity_mask();
  cores.evidence.push_back(fmt::format("{} CPUs in the affinity mask", cores.count));
  auto limit = [&](const fs::path& where, const std::string& quota) {
    if (auto allowed = cores_of_cpu_max(quota)) {
      cores.count = std::min(cores.count, *allowed);
      cores.evidence.push_back(fmt::format("{} {}", where.string(), quota));
    }
  };
  for (const fs::path& group : cgroup_chain(sources)) limit(group / "cpu.max", first_line(group / "cpu.max"));
  for (const auto& [group, quota] : v1_quotas(sources)) limit(group / "cpu.cfs_quota_us", quota);
  return cores;
}

unsigned usable_cores() {
  static const unsigned count = usable_cores_of({}).count;  // a process's limits do not change under it
  return count;
}

}  // namespace vmfix

#include "batch/limits.h"

#include <fmt/core.h>
#include <fmt/ranges.h>
#include <sched.h>

#include <algorithm>
#include <fstream>
#include <optional>
#include <sstream>

#include "batch/batch.h"
#include "support/text.h"

namespace vmfix::batch {
namespace fs = std::filesystem;

namespace {

std::optional<std::string> first_line(const fs::path& file) {
  std::ifstream in(file);
  std::string line;
  if (!in || !std::getline(in, line)) return std::nullopt;
  return std::string(trim(line));
}

std::optional<uint64_t> number(std::string_view text) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
  return std::stoull(std::string(text));
}

// The cgroup v2 path of this process ("0::/PATH"), as a directory under the root, and each
// ancestor up to the root: a limit anywhere on the way applies.
std::vector<fs::path> cgroup_chain(const LimitSources& sources) {
  std::ifstream in(sources.self_cgroup);
  std::string line, path;
  while (std::getline(in, line))
    if (line.starts_with("0::")) path = line.substr(3);
  std::vector<fs::path> chain;
  if (path.empty()) return chain;
  fs::path at = sources.cgroup_root / fs::path(path).relative_path();
  for (;; at = at.parent_path()) {
    chain.push_back(at);
    if (at == sources.cgroup_root || !at.has_relative_path() || at.parent_path() == at) break;
  }
  return chain;
}

unsigned affinity_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return 0;
  return static_cast<unsigned>(CPU_COUNT(&set));
}

uint64_t meminfo_available(const fs::path& meminfo) {
  std::ifstream in(meminfo);
  std::string key, unit;
  uint64_t kib = 0;
  while (in >> key >> kib >> unit)
    if (key == "MemAvailable:") return kib << 10;
  return 0;
}

}  // namespace

ProcessLimits process_limits(const LimitSources& sources) {
  ProcessLimits limits;
  const unsigned affinity = sources.affinity_cpus ? sources.affinity_cpus : affinity_cpus();
  limits.cpus = std::max(1u, affinity);
  limits.memory = meminfo_available(sources.meminfo);
  std::vector<std::string> said{fmt::format("{} CPUs in the affinity mask", affinity),
                                fmt::format("MemAvailable {} MiB", limits.memory >> 20)};
  for (const fs::path& group : cgroup_chain(sources)) {
    // cpu.max: "QUOTA PERIOD" in microseconds, or "max PERIOD".
    if (auto cpu = first_line(group / "cpu.max")) {
      const std::vector<std::string> fields = split_words(*cpu);
      const auto quota = fields.size() == 2 ? number(fields[0]) : std::nullopt;
      const auto period = fields.size() == 2 ? number(fields[1]) : std::nullopt;
      if (quota && period && *period > 0) {
        limits.cpus = std::min(limits.cpus, std::max(1u, static_cast<unsigned>(*quota / *period)));
        said.push_back(fmt::format("{}/cpu.max {}", group.string(), *cpu));
      }
    }
    const auto max = first_line(group / "memory.max");
    const auto limit = max ? number(*max) : std::nullopt;
    if (limit) {
      const auto used = first_line(group / "memory.current");
      const uint64_t current = used ? number(*used).value_or(0) : 0;
      limits.memory = std::min(limits.memory, *limit > current ? *limit - current : 0);
      said.push_back(fmt::format("{}/memory.max {} MiB, {} MiB used", group.string(), *limit >> 20, current >> 20));
    }
  }
  limits.evidence = fmt::format("{} CPUs, {} MiB: {}", limits.cpus, limits.memory >> 20, fmt::join(said, "; "));
  return limits;
}

int jobs_within(const ProcessLimits& limits) {
  const uint64_t by_memory = limits.memory / kApplianceBytes;
  return static_cast<int>(std::max<uint64_t>(1, std::min<uint64_t>(limits.cpus, by_memory)));
}

}  // namespace vmfix::batch

#include "batch/limits.h"

#include <fmt/core.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <fstream>
#include <optional>
#include <sstream>

#include "batch/batch.h"
#include "support/cores.h"
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
  const CoreSources where{sources.cgroup_root, sources.self_cgroup, sources.affinity_cpus};
  UsableCores cores = usable_cores_of(where);
  limits.cpus = cores.count;
  limits.memory = meminfo_available(sources.meminfo);
  std::vector<std::string> said = std::move(cores.evidence);
  said.push_back(fmt::format("MemAvailable {} MiB", limits.memory >> 20));
  for (const fs::path& group : cgroup_chain(where)) {
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

unsigned appliance_cpus_per_worker(unsigned usable, int jobs) {
  return std::clamp(usable / static_cast<unsigned>(std::max(jobs, 1)), 1u, 2u);
}

}  // namespace vmfix::batch

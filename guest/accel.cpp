#include "guest/accel.h"

#include <fmt/core.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdlib>
#include <system_error>

#include "support/error.h"
#include "support/files.h"
#include "support/text.h"

namespace vmfix::guest {

namespace {

// The cached decision holds for this host kernel only: a kernel update may fix KVM.
std::string host_kernel() {
  struct utsname name {};
  return ::uname(&name) == 0 ? name.release : "unknown";
}

bool cached_kvm_broken() {
  try {
    const std::string cached = read_host_file(accel_cache_file());
    auto lines = split_lines(cached);
    return lines.size() >= 2 && lines[0] == "tcg" && lines[1] == host_kernel();
  } catch (const Error&) {
    return false;
  }
}

}  // namespace

Accel parse_accel(std::string_view text) {
  if (text == "auto" || text.empty()) return Accel::automatic;
  if (text == "kvm") return Accel::kvm;
  if (text == "tcg") return Accel::tcg;
  throw UsageError(fmt::format("unknown acceleration '{}' (expected auto, kvm or tcg)", text));
}

std::filesystem::path accel_cache_file() { return user_cache_dir() / "accel"; }

AccelPlan plan_acceleration(Accel requested) {
  if (requested == Accel::automatic) {
    if (const char* env = std::getenv("VMFIX_ACCEL"); env && *env) requested = parse_accel(env);
  }
  if (requested == Accel::tcg) return {true, false, "software emulation requested"};
  if (requested == Accel::kvm) return {false, false, "KVM requested"};
  if (::access("/dev/kvm", R_OK | W_OK) != 0) return {false, false, "no usable /dev/kvm; qemu uses software emulation"};
  if (cached_kvm_broken())
    return {true, false, fmt::format("KVM failed here before (cached in {})", accel_cache_file().string())};
  return {false, true, "trying KVM"};
}

bool looks_like_kvm_failure(std::string_view appliance_log, std::string_view error) {
  std::string text = to_lower(appliance_log) + "\n" + to_lower(error);
  return text.find("failed to set msr") != std::string::npos || text.find("kvm_") != std::string::npos ||
         text.find("kvm:") != std::string::npos || text.find("could not access kvm") != std::string::npos;
}

std::string kvm_failure_evidence(std::string_view appliance_log, std::string_view error) {
  for (std::string_view line : split_lines(appliance_log)) {
    std::string lower = to_lower(line);
    if (lower.find("msr") != std::string::npos || lower.find("kvm") != std::string::npos)
      return std::string(trim(line));
  }
  return std::string(trim(error));
}

void remember_kvm_broken(std::string_view evidence) {
  std::error_code ignored;
  std::filesystem::create_directories(user_cache_dir(), ignored);
  try {
    write_host_file_atomic(accel_cache_file(), fmt::format("tcg\n{}\n{}\n", host_kernel(), evidence));
  } catch (const Error&) {
    // Not fatal: the next run pays the failed attempt again.
  }
}

}  // namespace vmfix::guest

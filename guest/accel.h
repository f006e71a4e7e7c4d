#pragma once
// Launch policy: use KVM when it works, fall back to software emulation (TCG) when it does not,
// and remember that so the failed attempt is paid at most once per machine.
#include <filesystem>
#include <string>
#include <string_view>

namespace vmfix::guest {

enum class Accel { automatic, kvm, tcg };

// "auto", "kvm" or "tcg"; anything else is a UsageError.
Accel parse_accel(std::string_view text);

// What to do for the next launch, from the request (option, else VMFIX_ACCEL) and the cache.
struct AccelPlan {
  bool force_tcg = false;      // start qemu without KVM
  bool may_fall_back = false;  // on a KVM failure, retry once with TCG and remember it
  std::string reason;          // why, for -v
};
AccelPlan plan_acceleration(Accel requested);

// True when a failed launch shows the signs of broken KVM (qemu's own words in the log).
bool looks_like_kvm_failure(std::string_view appliance_log, std::string_view error);

// Keeps a line of qemu's complaint, for the note and the cache.
std::string kvm_failure_evidence(std::string_view appliance_log, std::string_view error);

void remember_kvm_broken(std::string_view evidence);
std::filesystem::path accel_cache_file();

}  // namespace vmfix::guest

#include "guest/session.h"

#include <fmt/core.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

#include "guest/appliance_kernel.h"
#include "guest/launch_watchdog.h"
#include "guest/qemu_wrapper.h"
#include "support/cores.h"
#include "support/files.h"
#include "support/process.h"

namespace vmfix::guest {

namespace {
std::atomic<int> launches{0};
constexpr size_t kLogTail = 64 * 1024;
}  // namespace

void throw_last_error(guestfs_h* g, std::string_view operation) {
  const char* message = guestfs_last_error(g);
  throw GuestError(fmt::format("{}: {}", operation, message ? message : "unknown libguestfs error"));
}

void check(guestfs_h* g, int result, std::string_view operation) {
  if (result == -1) throw_last_error(g, operation);
}

std::string take_string(guestfs_h* g, char* text, std::string_view operation) {
  if (text == nullptr) throw_last_error(g, operation);
  std::string result(text);
  std::free(text);
  return result;
}

std::vector<std::string> take_strings(guestfs_h* g, char** list, std::string_view operation) {
  if (list == nullptr) throw_last_error(g, operation);
  std::vector<std::string> result;
  for (char** item = list; *item; ++item) {
    result.emplace_back(*item);
    std::free(*item);
  }
  std::free(list);
  return result;
}

Session::Session(std::vector<Drive> drives, SessionOptions options)
    : drives_(std::move(drives)), options_(std::move(options)) {}

Session::~Session() {
  if (handle_ && launched_) guestfs_shutdown(handle_);  // best effort; shutdown() reports errors
  close_handle();
}

int Session::launch_count() { return launches.load(); }

void Session::on_event(guestfs_h*, void* self_pointer, uint64_t event, int, int, const char* buf, size_t buf_len,
                       const uint64_t* array, size_t array_len) {
  auto* self = static_cast<Session*>(self_pointer);
  if (event == GUESTFS_EVENT_TRACE || event == GUESTFS_EVENT_LIBRARY || event == GUESTFS_EVENT_WARNING) {
    const char* kind = event == GUESTFS_EVENT_TRACE ? "trace: " : event == GUESTFS_EVENT_WARNING ? "warning: " : "";
    std::fprintf(stderr, "libguestfs: %s%.*s\n", kind, static_cast<int>(buf_len), buf);
  } else if (event == GUESTFS_EVENT_APPLIANCE) {
    if (self->options_.libguestfs_verbose) std::fwrite(buf, 1, buf_len, stderr);
    self->appliance_log_.append(buf, buf_len);
    if (self->appliance_log_.size() > kLogTail) self->appliance_log_.erase(0, self->appliance_log_.size() - kLogTail);
  } else if (event == GUESTFS_EVENT_PROGRESS && array_len >= 4 && self->options_.on_progress) {
    self->options_.on_progress(array[2], array[3]);
  }
}

// Adds "force_tcg" to the handle's backend settings (which may hold the user's own, from
// LIBGUESTFS_BACKEND_SETTINGS).
static void force_software_emulation(guestfs_h* g) {
  auto settings = take_strings(g, guestfs_get_backend_settings(g), "get_backend_settings");
  settings.push_back("force_tcg");
  std::vector<char*> list;
  for (std::string& setting : settings) list.push_back(setting.data());
  list.push_back(nullptr);
  check(g, guestfs_set_backend_settings(g, list.data()), "set_backend_settings");
}

// A second vCPU boots the appliance about 3 s sooner under software emulation (13.7 -> 10.4 s,
// guestfish on the same image; qemu runs each vCPU on a host thread) and costs nothing under KVM.
// More did not help.
int appliance_cpus(const char* setting, unsigned usable) {
  if (setting) {
    const int cpus = std::atoi(setting);
    if (cpus >= 1 && cpus <= 16) return cpus;
  }
  return static_cast<int>(std::clamp(usable, 1u, 2u));
}

static int appliance_cpus() { return appliance_cpus(std::getenv("VMFIX_APPLIANCE_CPUS"), usable_cores()); }

// qemu's memory, where vmfix runs qemu itself (the direct backend). A balloon device with free
// page reporting: the appliance's kernel hands the pages it frees back to qemu, whose resident set
// then follows what the appliance uses now rather than the most it ever touched (with the page
// cache dropped before each guest program, see LibguestfsGuest::run, dpkg in the appliance took
// qemu's peak from 785-810 to 701 MiB on the Debian 12 image). And a bounded translation cache
// under software emulation (qemu_wrapper.h).
void Session::bound_qemu_memory() {
  char* backend = guestfs_get_backend(handle_);
  const bool direct = backend && std::string_view(backend) == "direct";
  std::free(backend);
  if (!direct) return;
  check(handle_, guestfs_config(handle_, "-device", "virtio-balloon-pci,free-page-reporting=on"), "config");
  char* hv = guestfs_get_hv(handle_);
  const std::string qemu = hv ? hv : "";
  std::free(hv);
  std::optional<std::filesystem::path> wrapper;
  try {
    wrapper = install_qemu_wrapper(user_cache_dir(), qemu, kTranslationCacheMiB);
  } catch (const Error& error) {
    if (options_.verbose && options_.on_note)
      options_.on_note(fmt::format("qemu keeps its default translation cache: {}", error.what()));
  }
  if (wrapper) check(handle_, guestfs_set_hv(handle_, wrapper->c_str()), "set_hv");
}

// The host kernel uncompressed, when it can be had (appliance_kernel.h): supermin builds vmfix's
// appliance with it, in vmfix's own libguestfs cache. Prepared once per process, before any
// thread of vmfix's own runs, since it sets supermin's variables in the environment.
static const std::optional<ApplianceKernel>& appliance_kernel(std::string& why) {
  static std::once_flag once;
  static std::optional<ApplianceKernel> prepared;
  static std::string reason;
  std::call_once(once, [] {
    prepared = prepare_appliance_kernel(user_cache_dir(), reason);
    if (!prepared) return;
    ::setenv("SUPERMIN_KERNEL", prepared->vmlinux.c_str(), 1);
    ::setenv("SUPERMIN_KERNEL_VERSION", prepared->kernel.version.c_str(), 1);
    ::setenv("SUPERMIN_MODULES", prepared->kernel.modules.c_str(), 1);
  });
  why = reason;
  return prepared;
}

void Session::use_uncompressed_kernel() {
  std::string why;
  const auto& kernel = appliance_kernel(why);
  if (kernel) check(handle_, guestfs_set_cachedir(handle_, kernel->cachedir.c_str()), "set_cachedir");
  if (!options_.verbose || !options_.on_note) return;
  options_.on_note(
      kernel ? fmt::format("appliance kernel: {}, uncompressed ({})", kernel->kernel.version, kernel->vmlinux.string())
             : fmt::format("appliance kernel: the compressed one libguestfs picks ({})", why));
}

void Session::open_handle(bool force_tcg) {
  close_handle();
  appliance_log_.clear();
  handle_ = guestfs_create_flags(0);
  if (handle_ == nullptr) throw GuestError("cannot create a libguestfs handle");
  guestfs_set_error_handler(handle_, nullptr, nullptr);  // errors reach the user as exceptions
  uint64_t events = GUESTFS_EVENT_APPLIANCE | GUESTFS_EVENT_PROGRESS;
  if (options_.trace) events |= GUESTFS_EVENT_TRACE;
  if (options_.libguestfs_verbose) events |= GUESTFS_EVENT_LIBRARY | GUESTFS_EVENT_WARNING;
  if (guestfs_set_event_callback(handle_, on_event, events, 0, this) == -1)
    throw_last_error(handle_, "set_event_callback");
  if (options_.trace) check(handle_, guestfs_set_trace(handle_, 1), "set_trace");
  if (options_.libguestfs_verbose) check(handle_, guestfs_set_verbose(handle_, 1), "set_verbose");
  check(handle_, guestfs_set_identifier(handle_, "vmfix"), "set_identifier");
  if (force_tcg) force_software_emulation(handle_);
  check(handle_, guestfs_set_smp(handle_, appliance_cpus()), "set_smp");
  check(handle_, guestfs_set_autosync(handle_, 0), "set_autosync");  // shutdown() syncs, and says when that fails
  bound_qemu_memory();
  use_uncompressed_kernel();
  for (size_t i = 0; i < drives_.size(); ++i) {
    const Drive& drive = drives_[i];
    const std::string label = appliance_disk_label(i);  // see program_device()
    int result = guestfs_add_drive_opts(handle_, drive.path.c_str(), GUESTFS_ADD_DRIVE_OPTS_FORMAT,
                                        drive.format.c_str(), GUESTFS_ADD_DRIVE_OPTS_READONLY, drive.readonly ? 1 : 0,
                                        GUESTFS_ADD_DRIVE_OPTS_LABEL, label.c_str(), -1);
    check(handle_, result, fmt::format("add drive {}", drive.path));
  }
}

void Session::close_handle() {
  if (handle_) guestfs_close(handle_);
  handle_ = nullptr;
  launched_ = false;
}

// guestfs_launch; when the attempt may fall back, under a watchdog that stops a qemu which hangs
// (see launch_watchdog.h), and says so in `hung`.
static int launch_watched(guestfs_h* g, bool watch, bool& hung) {
  if (!watch) return guestfs_launch(g);
  LaunchWatchdog watchdog(kvm_launch_deadline());
  int result = guestfs_launch(g);
  hung = watchdog.fired();
  return result;
}

void Session::launch() {
  auto note = [&](std::string_view message) {
    if (options_.on_note) options_.on_note(message);
  };
  AccelPlan plan = plan_acceleration(options_.accel);
  if (options_.verbose)
    note(fmt::format("launching the appliance ({} disk(s), {} vCPU(s), {}: {})", drives_.size(), appliance_cpus(),
                     plan.force_tcg ? "software emulation" : "KVM if available", plan.reason));
  open_handle(plan.force_tcg);
  bool hung = false;
  if (launch_watched(handle_, plan.may_fall_back, hung) == 0) {
    launched_ = true;
    ++launches;
    return;
  }
  std::string error = guestfs_last_error(handle_) ? guestfs_last_error(handle_) : "launch failed";
  if (!plan.may_fall_back || !(hung || looks_like_kvm_failure(appliance_log_, error)))
    throw GuestError(fmt::format("cannot start the libguestfs appliance: {}", error));

  std::string evidence =
      hung ? fmt::format("qemu under KVM had not started the appliance after {} s, and was stopped",
                         std::chrono::duration_cast<std::chrono::seconds>(kvm_launch_deadline()).count())
           : kvm_failure_evidence(appliance_log_, error);
  note(
      fmt::format("KVM does not work on this machine ({}); using software emulation, which is "
                  "slower. This is remembered in {}; set VMFIX_ACCEL=kvm to try KVM again.",
                  evidence, accel_cache_file().string()));
  open_handle(true);
  if (guestfs_launch(handle_) != 0) throw_last_error(handle_, "cannot start the libguestfs appliance");
  remember_kvm_broken(evidence);  // only now: software emulation worked, so KVM was the problem
  ++launches;
  launched_ = true;
}

void Session::shutdown() {
  if (!handle_ || !launched_) return;
  // Read-only drives have nothing to write back (libguestfs's own overlays take what mounting
  // wrote, and go).
  const bool writable = std::any_of(drives_.begin(), drives_.end(), [](const Drive& drive) { return !drive.readonly; });
  if (writable) {
    check(handle_, guestfs_umount_all(handle_), "umount_all");
    check(handle_, guestfs_sync(handle_), "sync");
  }
  check(handle_, guestfs_shutdown(handle_), "shutdown");
  launched_ = false;
}

std::vector<std::string> Session::devices() const {
  std::vector<std::string> names;
  for (size_t i = 0; i < drives_.size(); ++i) names.push_back(appliance_disk_name(i));
  return names;
}

std::vector<uint64_t> Session::drive_sizes() const {
  std::vector<uint64_t> sizes;
  for (const Drive& drive : drives_) {
    const nlohmann::json info = nlohmann::json::parse(
        run_host_checked({"qemu-img", "info", "-U", "--output=json", "-f", drive.format, drive.path}));
    sizes.push_back(info.at("virtual-size").get<uint64_t>());
  }
  return sizes;
}

}  // namespace vmfix::guest

#pragma once
// RAII over one libguestfs handle and its appliance. All disks of a VM go into ONE launch.
#include <guestfs.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "guest/accel.h"
#include "guest/guest.h"

namespace vmfix::guest {

struct Drive {
  std::string path;
  std::string format;    // always explicit ("raw", "qcow2", "vmdk", "vpc", "vhdx"): never probed
  bool readonly = true;  // writes go to a throw-away overlay inside the appliance
};

struct SessionOptions {
  Accel accel = Accel::automatic;
  bool verbose = false;             // -v: say how the appliance is launched
  bool libguestfs_verbose = false;  // -vv: libguestfs's messages and the appliance's console, on stderr
  bool trace = false;               // -x: each libguestfs call, on stderr
  std::function<void(uint64_t done, uint64_t total)> on_progress;
  std::function<void(std::string_view message)> on_note;  // one-line notices for the user
};

// The appliance's vCPUs: VMFIX_APPLIANCE_CPUS (`setting`) when it says 1-16, else 2, or 1 on a
// single usable core. vmfix batch sets the variable to share the cores among its workers.
int appliance_cpus(const char* setting, unsigned usable);

class Session {
 public:
  Session(std::vector<Drive> drives, SessionOptions options);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Starts the appliance under the launch policy (see accel.h).
  void launch();
  // Unmounts, syncs and stops the appliance; errors here mean edits may be lost, so they throw.
  void shutdown();

  guestfs_h* handle() { return handle_; }
  const std::vector<Drive>& drives() const { return drives_; }
  // Appliance device of each drive, in the order the drives were given ("/dev/sda", ...), without
  // asking the appliance: libguestfs names the disks /dev/sda, ..., /dev/sdz, /dev/sdaa, ... in the
  // order they were added (guestfs(3), "BLOCK DEVICE NAMING"); a list_devices round trip costs
  // about 0.2 s under software emulation.
  std::vector<std::string> devices() const;
  // The size qemu gives each drive, from qemu-img on the host (with a shared lock: the
  // appliance's qemu holds the images), instead of a blockdev run in the appliance per disk.
  std::vector<uint64_t> drive_sizes() const;

  // How many appliances this process has started (a failed KVM attempt does not count).
  static int launch_count();

 private:
  void open_handle(bool force_tcg);
  void use_uncompressed_kernel();
  void bound_qemu_memory();
  void close_handle();
  static void on_event(guestfs_h*, void* self, uint64_t event, int, int, const char* buf, size_t buf_len,
                       const uint64_t* array, size_t array_len);

  std::vector<Drive> drives_;
  SessionOptions options_;
  guestfs_h* handle_ = nullptr;
  std::string appliance_log_;  // the tail of qemu's and the appliance's console output
  bool launched_ = false;
};

// libguestfs result helpers: throw GuestError with libguestfs's own message on failure, and
// free what libguestfs allocated.
void check(guestfs_h* g, int result, std::string_view operation);
std::string take_string(guestfs_h* g, char* text, std::string_view operation);
std::vector<std::string> take_strings(guestfs_h* g, char** list, std::string_view operation);
[[noreturn]] void throw_last_error(guestfs_h* g, std::string_view operation);

}  // namespace vmfix::guest

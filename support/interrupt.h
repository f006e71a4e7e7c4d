#pragma once
// Interrupts. On SIGINT, SIGTERM or SIGHUP vmfix stops the host programs it started, removes its
// temporary directories and partial outputs, and exits with 128+N. The source is never touched
// by any of that: it is only ever opened read-only.
//
// SIGKILL cannot be caught. What it leaves are private directories (".vmfix-partial-HOST-PID-*"
// beside the output, "vmfix-*" under the temporary directory), never a file under the output's
// name; remove_stale_partials() clears the former on the next run.
#include <sys/types.h>

#include <filesystem>

namespace vmfix::interrupt {

// Installs the handlers; once, early in main.
void install();

// While alive, `path` (a file or a directory tree) is removed if vmfix is interrupted.
class RemoveOnInterrupt {
 public:
  explicit RemoveOnInterrupt(std::filesystem::path path);
  ~RemoveOnInterrupt();
  RemoveOnInterrupt(const RemoveOnInterrupt&) = delete;
  RemoveOnInterrupt& operator=(const RemoveOnInterrupt&) = delete;

 private:
  std::filesystem::path path_;
};

// While alive, an interrupt waits: for a step that must not be cut short (writing the changes into
// the source with --in-place). The interrupt is honoured when it ends.
class Critical {
 public:
  Critical();
  ~Critical();
  Critical(const Critical&) = delete;
  Critical& operator=(const Critical&) = delete;
};

// While registered, a child process is sent SIGTERM if vmfix is interrupted.
void add_child(pid_t pid);
void remove_child(pid_t pid);

// The name prefix for a private partial-output directory of this process (".vmfix-partial-HOST-PID-",
// for people reading a directory listing), and the cleanup of such directories in `directory` that
// nobody uses any more: their lock file (see InUse) is there and nobody holds it; one without a
// lock file once it is a minute old. A lock, not the process id, decides: it holds across
// containers with their own pid namespaces, and across NFS clients.
std::string partial_prefix();
void remove_stale_partials(const std::filesystem::path& directory);

// The host's name with every character but letters, digits and dots as '_', as partial_prefix()
// and the batch journal carry it.
std::string host_name();

// An flock on a lock file in `directory` while alive: "a vmfix is writing here".
class InUse {
 public:
  explicit InUse(const std::filesystem::path& directory);
  ~InUse();
  InUse(const InUse&) = delete;
  InUse& operator=(const InUse&) = delete;
  // The lock is on what `directory` still names: a sweep between its creation and the lock may
  // have removed it, and then the lock holds a directory nobody can reach.
  bool holds(const std::filesystem::path& directory) const;
  bool locked() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

}  // namespace vmfix::interrupt

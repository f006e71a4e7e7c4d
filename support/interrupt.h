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

// While registered, a child process is sent SIGTERM if vmfix is interrupted.
void add_child(pid_t pid);
void remove_child(pid_t pid);

// The name prefix for a private partial-output directory of this process, and the cleanup of
// directories with that prefix in `directory` whose process (on this host) no longer exists.
std::string partial_prefix();
void remove_stale_partials(const std::filesystem::path& directory);

}  // namespace vmfix::interrupt

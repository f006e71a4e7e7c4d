#pragma once
// Errors carry what failed and where; the CLI turns each kind into one line and an exit code.
#include <stdexcept>
#include <string>

namespace vmfix {

// Exit codes of the CLI contract (README, "Exit codes").
enum ExitCode : int {
  kExitReady = 0,      // ready / success
  kExitFixable = 1,    // fixable findings remain (check, dry-run)
  kExitBlocked = 2,    // blocking findings vmfix cannot fix
  kExitUsage = 64,     // usage error: options the command line contract does not allow
  kExitBadInput = 65,  // the input image (or a file in it) is unusable
  kExitInternal = 70,  // a bug or an environment failure
  kExitRetry = 75,     // (batch --fail-on retryable) an image failed that the next run retries
};

// Base class: anything vmfix throws on purpose.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what, int exit_code = kExitInternal)
      : std::runtime_error(what), exit_code_(exit_code) {}
  int exit_code() const { return exit_code_; }

 private:
  int exit_code_;
};

// The user asked for something that cannot be done as asked.
class UsageError : public Error {
 public:
  explicit UsageError(const std::string& what) : Error(what, kExitUsage) {}
};

// The input (image, hive, config file) is missing, unreadable, corrupt or hostile.
class BadInput : public Error {
 public:
  explicit BadInput(const std::string& what) : Error(what, kExitBadInput) {}
};

// Host-side system call failure, with errno text appended.
[[noreturn]] void throw_errno(const std::string& what);

}  // namespace vmfix

#pragma once
// Running host programs (qemu-img) without a shell: argv in, exit status and output out.
#include <sys/types.h>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace vmfix {

struct ProcessResult {
  int exit_status = 0;  // 128+N when killed by signal N
  std::string output;   // stdout and stderr together
};

// `on_output`, when given, sees the output as it arrives (for progress), in chunks.
ProcessResult run_host(const std::vector<std::string>& argv,
                       const std::function<void(std::string_view)>& on_output = {});

// Starts argv[0] (searched in PATH) with stdin from /dev/null and stdout and stderr on the given
// descriptors. The child is sent SIGTERM should vmfix die, even by SIGKILL (PR_SET_PDEATHSIG), so
// no qemu-img or worker outlives it. Call it from the main thread (the signal follows the thread
// that started the child). Throws when the program cannot be found.
pid_t spawn_child(const std::vector<std::string>& argv, int stdout_fd, int stderr_fd);

// stdout alone in `output` (a document to parse), stderr apart in `errors`.
struct SplitResult {
  int exit_status = 0;
  std::string output, errors;
};
SplitResult run_host_split(const std::vector<std::string>& argv);

// Runs and throws an Error naming the command and its output when it fails.
std::string run_host_checked(const std::vector<std::string>& argv,
                             const std::function<void(std::string_view)>& on_output = {});

}  // namespace vmfix

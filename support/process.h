#pragma once
// Running host programs (qemu-img) without a shell: argv in, exit status and output out.
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

// Runs and throws an Error naming the command and its output when it fails.
std::string run_host_checked(const std::vector<std::string>& argv,
                             const std::function<void(std::string_view)>& on_output = {});

}  // namespace vmfix

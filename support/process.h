#pragma once
// Running host programs (qemu-img) without a shell: argv in, exit status and output out.
#include <string>
#include <vector>

namespace vmfix {

struct ProcessResult {
  int exit_status = 0;  // 128+N when killed by signal N
  std::string output;   // stdout and stderr together
};

ProcessResult run_host(const std::vector<std::string>& argv);

// Runs and throws an Error naming the command and its output when it fails.
std::string run_host_checked(const std::vector<std::string>& argv);

}  // namespace vmfix

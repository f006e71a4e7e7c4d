#include "support/process.h"

#include <fmt/core.h>
#include <fmt/ranges.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "support/error.h"
#include "support/interrupt.h"

extern char** environ;

namespace vmfix {

ProcessResult run_host(const std::vector<std::string>& argv, const std::function<void(std::string_view)>& on_output) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw_errno("pipe");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 2);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  int spawn_error = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[1]);
  if (spawn_error != 0) {
    ::close(pipe_fds[0]);
    errno = spawn_error;
    throw_errno(fmt::format("cannot run {}", argv.front()));
  }
  interrupt::add_child(pid);
  ProcessResult result;
  char buffer[8192];
  for (;;) {
    ssize_t n = ::read(pipe_fds[0], buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    result.output.append(buffer, static_cast<size_t>(n));
    if (on_output) on_output(std::string_view(buffer, static_cast<size_t>(n)));
  }
  ::close(pipe_fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  interrupt::remove_child(pid);
  result.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

std::string run_host_checked(const std::vector<std::string>& argv,
                             const std::function<void(std::string_view)>& on_output) {
  ProcessResult result = run_host(argv, on_output);
  if (result.exit_status != 0)
    throw Error(fmt::format("{} failed (exit {}): {}", fmt::join(argv, " "), result.exit_status, result.output));
  return result.output;
}

}  // namespace vmfix

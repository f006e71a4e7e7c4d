#include "support/process.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <fmt/ranges.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "support/error.h"
#include "support/files.h"
#include "support/interrupt.h"
#include "support/unique_fd.h"

extern char** environ;

namespace vmfix {

namespace {

std::string find_program(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  std::string_view dirs = path && *path ? path : "/usr/local/bin:/usr/bin:/bin";
  while (!dirs.empty()) {
    const size_t colon = dirs.find(':');
    std::string candidate = std::string(dirs.substr(0, colon));
    candidate += (candidate.empty() ? "./" : "/") + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    dirs.remove_prefix(colon == std::string_view::npos ? dirs.size() : colon + 1);
  }
  errno = ENOENT;
  throw_errno(fmt::format("cannot run {}", name));
}

}  // namespace

pid_t spawn_child(const std::vector<std::string>& argv, int stdout_fd, int stderr_fd) {
  const std::string program = find_program(argv.front());
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd < 0) throw_errno("open /dev/null");
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {  // only async-signal-safe calls from here to execve
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(127);  // the parent died before the line above
    if (::dup2(null_fd, 0) < 0 || ::dup2(stdout_fd, 1) < 0 || ::dup2(stderr_fd, 2) < 0) ::_exit(127);
    ::execve(program.c_str(), args.data(), environ);
    ::_exit(127);
  }
  ::close(null_fd);
  if (pid < 0) throw_errno(fmt::format("cannot run {}", argv.front()));
  interrupt::add_child(pid);
  return pid;
}

ProcessResult run_host(const std::vector<std::string>& argv, const std::function<void(std::string_view)>& on_output) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw_errno("pipe");
  pid_t pid = 0;
  try {
    pid = spawn_child(argv, pipe_fds[1], pipe_fds[1]);
  } catch (...) {
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    throw;
  }
  ::close(pipe_fds[1]);
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

SplitResult run_host_split(const std::vector<std::string>& argv) {
  TempDir scratch("vmfix-run");
  const std::filesystem::path errors = scratch.path() / "stderr";
  const UniqueFd errors_fd(::open(errors.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!errors_fd.valid()) throw_errno(errors.string());
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw_errno("pipe");
  UniqueFd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
  const pid_t pid = spawn_child(argv, write_end.get(), errors_fd.get());
  write_end.reset();
  SplitResult result;
  char buffer[8192];
  for (;;) {
    ssize_t n = ::read(read_end.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    result.output.append(buffer, static_cast<size_t>(n));
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  interrupt::remove_child(pid);
  result.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.errors = read_host_file(errors);
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

#include "support/interrupt.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "support/unique_fd.h"

namespace vmfix::interrupt {
namespace fs = std::filesystem;

namespace {

int wake_fds[2] = {-1, -1};

struct Registry {
  std::mutex critical;  // held by a Critical section; the cleanup waits for it
  std::mutex mutex;
  std::multiset<fs::path> paths;
  std::set<pid_t> children;
};

Registry& registry() {
  static Registry* instance = new Registry;  // never destroyed: the cleanup thread may outlive main
  return *instance;
}

// The only thing a signal handler may safely do here: wake the cleanup thread.
void on_signal(int signal_number) {
  const unsigned char byte = static_cast<unsigned char>(signal_number);
  const int saved = errno;
  [[maybe_unused]] ssize_t ignored = ::write(wake_fds[1], &byte, 1);
  errno = saved;
}

[[noreturn]] void clean_up_and_exit(int signal_number) {
  Registry& r = registry();
  if (!r.critical.try_lock()) {
    fmt::print(stderr, "vmfix: interrupted ({}); finishing the write into the source first\n",
               ::strsignal(signal_number));
    r.critical.lock();
  }
  std::lock_guard lock(r.mutex);  // held until _exit: nothing registers anything any more
  for (pid_t child : r.children) ::kill(child, SIGTERM);
  std::error_code ignored;
  for (const fs::path& path : r.paths) fs::remove_all(path, ignored);
  fmt::print(stderr, "vmfix: interrupted ({}); temporary files and partial output removed\n",
             ::strsignal(signal_number));
  ::_exit(128 + signal_number);
}

}  // namespace

void install() {
  if (wake_fds[0] >= 0) return;
  if (::pipe2(wake_fds, O_CLOEXEC) != 0) return;  // no cleanup on interrupt, but vmfix still works
  registry();
  std::thread([] {
    unsigned char byte = 0;
    for (;;) {
      ssize_t n = ::read(wake_fds[0], &byte, 1);
      if (n == 1) clean_up_and_exit(byte);
      if (n < 0 && errno == EINTR) continue;
      return;
    }
  }).detach();
  struct sigaction action {};
  action.sa_handler = on_signal;
  action.sa_flags = SA_RESTART;
  sigemptyset(&action.sa_mask);
  for (int signal_number : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(signal_number, &action, nullptr);
}

RemoveOnInterrupt::RemoveOnInterrupt(fs::path path) : path_(std::move(path)) {
  std::lock_guard lock(registry().mutex);
  registry().paths.insert(path_);
}

RemoveOnInterrupt::~RemoveOnInterrupt() {
  std::lock_guard lock(registry().mutex);
  auto found = registry().paths.find(path_);
  if (found != registry().paths.end()) registry().paths.erase(found);
}

Critical::Critical() { registry().critical.lock(); }

Critical::~Critical() { registry().critical.unlock(); }

void add_child(pid_t pid) {
  std::lock_guard lock(registry().mutex);
  registry().children.insert(pid);
}

void remove_child(pid_t pid) {
  std::lock_guard lock(registry().mutex);
  registry().children.erase(pid);
}

std::string host_name() {
  char buffer[256] = {};
  if (::gethostname(buffer, sizeof buffer - 1) != 0) return "host";
  std::string name;
  for (const char* c = buffer; *c; ++c) name += (std::isalnum(static_cast<unsigned char>(*c)) || *c == '.') ? *c : '_';
  return name.empty() ? "host" : name;
}

std::string partial_prefix() { return fmt::format(".vmfix-partial-{}-{}-", host_name(), ::getpid()); }

namespace {

// The lock of a partial directory: a regular file in it, opened for writing, because NFS carries
// flock on a file opened so to the server (as a whole-file POSIX lock), and a directory's lock
// only within one client.
fs::path lock_file(const fs::path& directory) { return directory / ".vmfix-lock"; }

}  // namespace

void remove_stale_partials(const fs::path& directory) {
  std::error_code error;
  const auto a_minute_ago = fs::file_time_type::clock::now() - std::chrono::minutes(1);
  for (const auto& entry : fs::directory_iterator(directory, error)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with(".vmfix-partial-") || entry.is_symlink(error) || !entry.is_directory(error)) continue;
    const UniqueFd fd(::open(lock_file(entry.path()).c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW));
    bool gone = false;
    if (fd.valid())
      gone = ::flock(fd.get(), LOCK_EX | LOCK_NB) == 0;  // nobody holds it: its writer is gone
    else  // no lock yet: being made right now, or its maker died first (then it is old)
      gone = errno == ENOENT && fs::last_write_time(entry.path(), error) < a_minute_ago && !error;
    if (gone) {
      std::error_code ignored;
      fs::remove_all(entry.path(), ignored);
    }
  }
}

InUse::InUse(const fs::path& directory) {
  fd_ = ::open(lock_file(directory).c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd_ >= 0 && ::flock(fd_, LOCK_EX) != 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

bool InUse::holds(const fs::path& directory) const {
  struct stat locked {
  }, named{};
  return fd_ >= 0 && ::fstat(fd_, &locked) == 0 && ::stat(lock_file(directory).c_str(), &named) == 0 &&
         locked.st_dev == named.st_dev && locked.st_ino == named.st_ino;
}

InUse::~InUse() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace vmfix::interrupt

#include "fuzz/fuzz_input.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace vmfix::fuzz {

InputFile::InputFile(const uint8_t* data, size_t size) {
  fd_ = ::memfd_create("fuzz-input", MFD_CLOEXEC);
  if (fd_ < 0) std::abort();
  for (size_t written = 0; written < size;) {
    ssize_t n = ::write(fd_, data + written, size - written);
    if (n <= 0) std::abort();
    written += static_cast<size_t>(n);
  }
}

InputFile::~InputFile() { ::close(fd_); }

std::filesystem::path InputFile::path() const { return "/proc/self/fd/" + std::to_string(fd_); }

}  // namespace vmfix::fuzz

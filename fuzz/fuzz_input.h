#pragma once
// The fuzzer's input as a file (a memfd), for the parsers that read files: "/proc/self/fd/N".
#include <cstddef>
#include <cstdint>
#include <filesystem>

namespace vmfix::fuzz {

class InputFile {
 public:
  InputFile(const uint8_t* data, size_t size);
  ~InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;
  std::filesystem::path path() const;

 private:
  int fd_ = -1;
};

}  // namespace vmfix::fuzz

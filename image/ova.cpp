#include "image/ova.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <set>

#include "support/error.h"
#include "support/files.h"
#include "support/unique_fd.h"

namespace vmfix::image {

namespace {

constexpr uint64_t kBlock = 512;

std::string field(std::string_view block, size_t at, size_t length) {
  std::string_view value = block.substr(at, length);
  return std::string(value.substr(0, value.find('\0')));
}

// Octal, or GNU base-256 for sizes of 8 GiB and more (high bit of the first byte set).
uint64_t number(std::string_view block, size_t at, size_t length, const std::string& where) {
  if (static_cast<unsigned char>(block[at]) & 0x80) {
    // Positive base-256 only, and no more than 8 significant bytes.
    if (static_cast<unsigned char>(block[at]) != 0x80)
      throw BadInput(fmt::format("{}: corrupt tar header (size)", where));
    uint64_t value = 0;
    for (size_t i = 1; i < length; ++i) {
      if (value >> 56) throw BadInput(fmt::format("{}: corrupt tar header (size)", where));
      value = (value << 8) | static_cast<unsigned char>(block[at + i]);
    }
    return value;
  }
  uint64_t value = 0;
  bool digits = false;
  for (size_t i = 0; i < length; ++i) {
    char c = block[at + i];
    if (c == ' ' || c == '\0') {
      if (digits) break;
      continue;
    }
    if (c < '0' || c > '7') throw BadInput(fmt::format("{}: corrupt tar header (bad number)", where));
    value = value * 8 + static_cast<uint64_t>(c - '0');
    digits = true;
  }
  return value;
}

// False for a checksum field that is not even a number: this is also the "is it a tar?" test.
bool checksum_ok(std::string_view block) {
  uint64_t sum = 0;
  for (size_t i = 0; i < kBlock; ++i) sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(block[i]);
  try {
    return sum == number(block, 148, 8, "tar");
  } catch (const BadInput&) {
    return false;
  }
}

std::string normalise(std::string name, const std::string& archive) {
  while (name.starts_with("./")) name.erase(0, 2);
  if (name.empty() || name.front() == '/')
    throw BadInput(fmt::format("{}: member '{}' has an absolute path; refusing the archive", archive, name));
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    if (end == std::string::npos) end = name.size();
    if (name.compare(start, end - start, "..") == 0)
      throw BadInput(fmt::format("{}: member '{}' climbs out with '..'; refusing the archive", archive, name));
    start = end + 1;
  }
  return name;
}

// "NN key=value\n" records of a pax extended header.
std::string pax_value(std::string_view records, std::string_view key) {
  while (!records.empty()) {
    size_t space = records.find(' ');
    if (space == std::string_view::npos) break;
    size_t length = std::strtoull(std::string(records.substr(0, space)).c_str(), nullptr, 10);
    if (length <= space || length > records.size()) break;
    std::string_view record = records.substr(space + 1, length - space - 2);
    if (record.starts_with(key) && record.size() > key.size() && record[key.size()] == '=')
      return std::string(record.substr(key.size() + 1));
    records.remove_prefix(length);
  }
  return "";
}

}  // namespace

bool looks_like_tar(std::string_view block) {
  return block.size() >= kBlock && (block.substr(257, 5) == "ustar") && checksum_ok(block.substr(0, kBlock));
}

std::vector<TarMember> read_tar_members(const std::filesystem::path& archive) {
  const std::string name = archive.string();
  const uint64_t archive_size = std::filesystem::file_size(archive);
  std::vector<TarMember> members;
  std::set<std::string> seen;
  std::string long_name, pax_path, pax_size;
  for (uint64_t at = 0;;) {
    if (at + kBlock > archive_size) throw BadInput(fmt::format("{}: tar archive is truncated", name));
    std::string block = read_host_bytes(archive, at, kBlock);
    if (block.find_first_not_of('\0') == std::string::npos) break;  // end-of-archive marker
    if (!checksum_ok(block)) throw BadInput(fmt::format("{}: corrupt tar header at byte {}", name, at));
    const char type = block[156];
    uint64_t size = number(block, 124, 12, name);
    if (!pax_size.empty()) {
      char* end = nullptr;
      errno = 0;
      size = std::strtoull(pax_size.c_str(), &end, 10);
      if (errno || *end) throw BadInput(fmt::format("{}: corrupt pax size '{}'", name, pax_size));
    }
    const uint64_t data = at + kBlock;
    if (size > archive_size - data)
      throw BadInput(fmt::format("{}: member at byte {} claims {} bytes, past the end of the archive", name, at, size));
    const uint64_t next = data + (size + kBlock - 1) / kBlock * kBlock;
    if (type == 'L' || type == 'x') {  // GNU long name, pax extended header: apply to the next member
      if (size > 1 << 20) throw BadInput(fmt::format("{}: oversized tar extension header", name));
      std::string payload = read_host_bytes(archive, data, size);
      if (type == 'L')
        long_name = payload.substr(0, payload.find('\0'));
      else {
        pax_path = pax_value(payload, "path");
        pax_size = pax_value(payload, "size");
      }
      at = next;
      continue;
    }
    if (type == 'g') {  // pax global header: nothing vmfix needs
      at = next;
      continue;
    }
    std::string member = !pax_path.empty() ? pax_path
                         : !long_name.empty()
                             ? long_name
                             : [&] {
                                 std::string prefix = field(block, 345, 155), base = field(block, 0, 100);
                                 return prefix.empty() ? base : prefix + "/" + base;
                               }();
    long_name.clear();
    pax_path.clear();
    pax_size.clear();
    if (type == '5') {  // a directory entry carries no data; subfolders exist in real OVAs
      at = next;
      continue;
    }
    if (type != '0' && type != '\0' && type != '7')
      throw BadInput(
          fmt::format("{}: member '{}' is a link or device (tar type '{}'); refusing the archive", name, member, type));
    member = normalise(member, name);
    if (!seen.insert(member).second)
      throw BadInput(fmt::format("{}: member '{}' appears twice; refusing the archive", name, member));
    members.push_back({member, data, size});
    at = next;
  }
  return members;
}

namespace {

void put_octal(std::string& block, size_t at, size_t length, uint64_t value) {
  std::string digits = fmt::format("{:0{}o}", value, length - 1);
  std::memcpy(block.data() + at, digits.data(), length - 1);  // the last byte stays NUL
}

std::string tar_header(const std::string& name, uint64_t size, char type) {
  std::string block(kBlock, '\0');
  std::memcpy(block.data(), name.data(), name.size());
  put_octal(block, 100, 8, 0644);
  put_octal(block, 108, 8, 0);
  put_octal(block, 116, 8, 0);
  put_octal(block, 124, 12, size < (1ULL << 33) ? size : 0);  // larger: the pax record before it says
  put_octal(block, 136, 12, static_cast<uint64_t>(std::time(nullptr)));
  block[156] = type;
  std::memcpy(block.data() + 257,
              "ustar\0"
              "00",
              8);
  std::memcpy(block.data() + 265, "root", 4);
  std::memcpy(block.data() + 297, "root", 4);
  std::memset(block.data() + 148, ' ', 8);
  uint64_t sum = 0;
  for (unsigned char c : block) sum += c;
  put_octal(block, 148, 7, sum);  // six digits, NUL, then the space already there
  return block;
}

// "NN size=...\n", where NN counts the whole record, its own digits included.
std::string pax_record(const std::string& key, const std::string& value) {
  const size_t body = key.size() + value.size() + 3;  // space, '=', newline
  size_t length = body + 1;
  while (std::to_string(length).size() + body != length) ++length;
  return fmt::format("{} {}={}\n", length, key, value);
}

class ArchiveFile {
 public:
  explicit ArchiveFile(const std::filesystem::path& path) : file_(path) {}

  void write(std::string_view bytes) {
    file_.write(bytes);
    offset_ += bytes.size();
  }

  // The whole of `file`, by copy_file_range where the kernel can (no trip through user space).
  void copy(const std::filesystem::path& file, uint64_t size, const std::function<void(uint64_t)>& on_copied) {
    const UniqueFd input(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    if (!input.valid()) throw_errno(fmt::format("cannot read {}", file.string()));
    const int in = input.get();
    bool kernel_copy = true;
    std::string buffer;
    for (uint64_t left = size; left > 0;) {
      const size_t chunk = static_cast<size_t>(std::min<uint64_t>(left, 64 << 20));
      ssize_t n = 0;
      if (kernel_copy) {
        n = ::copy_file_range(in, nullptr, file_.fd(), nullptr, chunk, 0);
        if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)) {
          kernel_copy = false;  // another filesystem, or an old kernel: through a buffer
          continue;
        }
        if (n > 0) offset_ += static_cast<uint64_t>(n);
      } else {
        buffer.resize(std::min<size_t>(chunk, 1 << 20));
        n = ::read(in, buffer.data(), buffer.size());
        if (n > 0) write(std::string_view(buffer.data(), static_cast<size_t>(n)));
      }
      if (n < 0 && errno == EINTR) continue;
      if (n == 0) throw Error(fmt::format("{} shrank while it was being archived", file.string()));
      if (n < 0) throw_errno(fmt::format("cannot copy {} into {}", file.string(), file_.path().string()));
      left -= static_cast<uint64_t>(n);
      if (on_copied) on_copied(static_cast<uint64_t>(n));
    }
  }

  void pad() {
    if (const uint64_t partial = offset_ % kBlock) write(std::string(kBlock - partial, '\0'));
  }

  void finish() { file_.close(true); }

 private:
  NewFile file_;
  uint64_t offset_ = 0;
};

}  // namespace

void write_tar(const std::filesystem::path& archive, const std::vector<TarInput>& inputs,
               const std::function<void(uint64_t)>& on_copied) {
  ArchiveFile out(archive);
  for (const TarInput& input : inputs) {
    if (input.name.empty() || input.name.size() > 99 || input.name.find('/') != std::string::npos)
      throw Error(fmt::format("cannot archive '{}': member names are plain names under 100 bytes", input.name));
    const uint64_t size = input.file.empty() ? input.content.size() : std::filesystem::file_size(input.file);
    if (size >= (1ULL << 33)) {
      const std::string records = pax_record("size", std::to_string(size));
      out.write(tar_header("PaxHeaders/" + input.name.substr(0, 80), records.size(), 'x'));
      out.write(records);
      out.pad();
    }
    out.write(tar_header(input.name, size, '0'));
    if (input.file.empty())
      out.write(input.content);
    else
      out.copy(input.file, size, on_copied);
    out.pad();
  }
  out.write(std::string(2 * kBlock, '\0'));
  out.finish();
}

}  // namespace vmfix::image

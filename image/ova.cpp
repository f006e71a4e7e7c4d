#include "image/ova.h"

#include <fmt/core.h>

#include <cerrno>
#include <cstdlib>
#include <set>

#include "support/error.h"
#include "support/files.h"

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
    if (static_cast<unsigned char>(block[at]) != 0x80) throw BadInput(fmt::format("{}: corrupt tar header (size)", where));
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

bool checksum_ok(std::string_view block) {
  uint64_t sum = 0;
  for (size_t i = 0; i < kBlock; ++i) sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(block[i]);
  return sum == number(block, 148, 8, "tar");
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
      if (type == 'L') long_name = payload.substr(0, payload.find('\0'));
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
    std::string member = !pax_path.empty() ? pax_path : !long_name.empty() ? long_name : [&] {
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
      throw BadInput(fmt::format("{}: member '{}' is a link or device (tar type '{}'); refusing the archive", name,
                                 member, type));
    member = normalise(member, name);
    if (!seen.insert(member).second)
      throw BadInput(fmt::format("{}: member '{}' appears twice; refusing the archive", name, member));
    members.push_back({member, data, size});
    at = next;
  }
  return members;
}

}  // namespace vmfix::image

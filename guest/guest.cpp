#include "guest/guest.h"

#include <fmt/core.h>

namespace vmfix::guest {

bool Guest::is_file(const std::string& path) {
  auto info = stat(path);
  return info && info->kind == FileInfo::Kind::file;
}

bool Guest::is_dir(const std::string& path) {
  auto info = stat(path);
  return info && info->kind == FileInfo::Kind::directory;
}

std::optional<std::string> Guest::read_if_exists(const std::string& path) {
  auto target = stat_target(path);
  if (!target || target->kind == FileInfo::Kind::directory) return std::nullopt;
  return read(path);
}

FileInfo Guest::require_regular_file(const std::string& path, uint64_t limit) {
  auto target = stat_target(path);
  if (!target) throw GuestError(fmt::format("{}: No such file or directory", path));
  if (target->kind == FileInfo::Kind::directory)
    throw GuestFileRefused(fmt::format("guest file {} is a directory, not a file", path));
  if (target->kind != FileInfo::Kind::file)
    throw GuestFileRefused(fmt::format("guest file {} is not a regular file (a fifo, device or socket)", path));
  if (target->size > limit)
    throw GuestFileRefused(fmt::format("guest file {} is {} bytes, more than the {} MiB vmfix reads of such a file",
                                       path, target->size, limit >> 20));
  return *target;
}

std::vector<std::string> Guest::files_in(const std::string& directory, std::string_view suffix) {
  std::vector<std::string> files;
  if (!is_dir(directory)) return files;
  for (const std::string& name : ls(directory)) {
    if (!name.ends_with(suffix)) continue;
    std::string path = join_path(directory, name);
    if (is_file(path)) files.push_back(path);
  }
  return files;
}

void Guest::replace_file(const std::string& path, std::string_view content) {
  auto info = stat(path);
  write(path, content);  // through a symlink, to its target, whose mode stays as it was
  if (info && info->kind != FileInfo::Kind::symlink) chmod(info->mode, path);
}

std::string Guest::find_program(std::initializer_list<std::string_view> names) {
  for (std::string_view directory : {"/usr/sbin", "/sbin", "/usr/bin", "/bin"})
    for (std::string_view name : names)
      if (std::string path = join_path(directory, name); is_file(path)) return path;
  return "";
}

std::string join_path(std::string_view directory, std::string_view name) {
  std::string path(directory);
  if (path.empty() || path.back() != '/') path += '/';
  path += name;
  return path;
}

namespace {

std::string disk_letters(size_t index) {
  std::string letters;
  for (size_t n = index + 1; n > 0; n = (n - 1) / 26) letters.insert(letters.begin(), char('a' + (n - 1) % 26));
  return letters;
}

}  // namespace

std::string appliance_disk_name(size_t index) { return "/dev/sd" + disk_letters(index); }

std::string appliance_disk_label(size_t index) { return "vmfix" + disk_letters(index); }

std::string program_device(std::string_view device) {
  constexpr std::string_view kPrefix = "/dev/sd";
  if (!device.starts_with(kPrefix)) return std::string(device);
  const std::string_view rest = device.substr(kPrefix.size());
  size_t letters = 0;
  while (letters < rest.size() && rest[letters] >= 'a' && rest[letters] <= 'z') ++letters;
  size_t digits = letters;
  while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') ++digits;
  // Labels have at most 20 letters, "vmfix" and 15 of the disk's.
  if (letters == 0 || letters > 15 || digits != rest.size() || (digits > letters && rest[letters] == '0'))
    return std::string(device);
  return fmt::format("/dev/disk/guestfs/vmfix{}", rest);
}

}  // namespace vmfix::guest

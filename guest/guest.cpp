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

}  // namespace vmfix::guest

#include "guest/fake_guest.h"

#include <fmt/core.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstdint>

#include "disk/partition_table.h"
#include "support/files.h"
#include "support/text.h"

namespace vmfix::guest {

FakeGuest::FakeGuest() { nodes_["/"] = Node{FileInfo::Kind::directory, "", 0755}; }

std::string FakeGuest::normalize(const std::string& path) {
  if (path.empty() || path.front() != '/') throw GuestError(fmt::format("{}: path must be absolute", path));
  std::string out;
  for (char c : path) {
    if (c == '/' && !out.empty() && out.back() == '/') continue;
    out += c;
  }
  if (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

std::string FakeGuest::parent_of(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == 0 ? "/" : path.substr(0, slash);
}

const FakeGuest::Node& FakeGuest::node_or_throw(const std::string& path, const char* operation) {
  auto it = nodes_.find(normalize(path));
  if (it == nodes_.end()) throw GuestError(fmt::format("{}: {}: No such file or directory", operation, path));
  return it->second;
}

FakeGuest& FakeGuest::add_file(const std::string& path, std::string_view content, uint32_t mode) {
  mkdir_p(parent_of(normalize(path)));
  nodes_[normalize(path)] = Node{FileInfo::Kind::file, std::string(content), mode, ++writes_};
  return *this;
}

FakeGuest& FakeGuest::add_symlink(const std::string& path, const std::string& target) {
  mkdir_p(parent_of(normalize(path)));
  nodes_[normalize(path)] = Node{FileInfo::Kind::symlink, target, 0777};
  return *this;
}

FakeGuest& FakeGuest::add_special(const std::string& path) {
  mkdir_p(parent_of(normalize(path)));
  nodes_[normalize(path)] = Node{FileInfo::Kind::other, "", 0600};
  return *this;
}

std::string FakeGuest::follow(const std::string& path) {
  std::vector<std::string> pending;                // components still to walk, the next one last
  auto push = [&pending](std::string_view text) {  // its components, so that its first is walked next
    std::vector<std::string> parts;
    for (size_t at = 0; at <= text.size();) {
      size_t slash = std::min(text.find('/', at), text.size());
      parts.emplace_back(text.substr(at, slash - at));
      at = slash + 1;
    }
    pending.insert(pending.end(), parts.rbegin(), parts.rend());
  };
  push(normalize(path));
  std::string at = "/";
  int links = 0;
  while (!pending.empty()) {
    const std::string part = pending.back();
    pending.pop_back();
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      at = parent_of(at);
      continue;
    }
    const std::string next = join_path(at, part);
    auto it = nodes_.find(next);
    if (it == nodes_.end()) return "";
    if (it->second.kind != FileInfo::Kind::symlink) {
      at = next;
      continue;
    }
    if (++links > 40) throw GuestFileRefused(fmt::format("guest file {} is a loop of symbolic links", path));
    const std::string target = it->second.content;
    if (target.starts_with('/')) at = "/";
    push(target);
  }
  return at;
}

FakeGuest& FakeGuest::add_mountpoint(const std::string& path, const std::string& device) {
  mountpoints_.push_back({path, device});
  return *this;
}

FakeGuest& FakeGuest::add_device(const std::string& device, std::string bytes) {
  devices_[device] = std::move(bytes);
  return *this;
}

const std::string& FakeGuest::device(const std::string& device) const {
  auto it = devices_.find(device);
  if (it == devices_.end()) throw GuestError(fmt::format("{}: no such device", device));
  return it->second;
}

std::string FakeGuest::read_device(const std::string& device, uint64_t offset, size_t length) {
  const std::string& bytes = this->device(device);
  return offset >= bytes.size() ? std::string() : bytes.substr(offset, length);
}

void FakeGuest::write_device(const std::string& device, uint64_t offset, std::string_view bytes) {
  auto it = devices_.find(device);
  if (it == devices_.end()) throw GuestError(fmt::format("{}: no such device", device));
  if (offset + bytes.size() > it->second.size())
    throw GuestError(fmt::format("{}: write past the end of the device", device));
  it->second.replace(offset, bytes.size(), bytes);
}

uint8_t FakeGuest::mbr_partition_type(const std::string& device, int number) {
  const std::string& bytes = this->device(device);
  auto read = [&](uint64_t offset, size_t length) {
    return offset >= bytes.size() ? std::string() : bytes.substr(offset, length);
  };
  const disk::PartitionTable table = disk::read_partition_table(read, bytes.size());
  for (const disk::Partition& p : table.partitions)
    if (table.kind == "mbr" && p.number == number) return p.mbr_type;
  throw GuestError(fmt::format("{}: no MBR partition {}", device, number));
}

std::optional<FileInfo> FakeGuest::stat(const std::string& path) {
  auto it = nodes_.find(normalize(path));
  if (it == nodes_.end()) return std::nullopt;
  return FileInfo{it->second.kind, it->second.content.size(), it->second.mode, it->second.mtime};
}

std::string FakeGuest::read_prefix(const std::string& path, size_t length) {
  require_regular_file(path, UINT64_MAX);
  return nodes_.at(follow(path)).content.substr(0, length);
}

std::optional<FileInfo> FakeGuest::stat_target(const std::string& path) {
  const std::string target = follow(path);
  if (target.empty()) return std::nullopt;
  return stat(target);
}

std::string FakeGuest::read(const std::string& path) {
  require_regular_file(path, kMaxReadSize);
  return nodes_.at(follow(path)).content;
}

void FakeGuest::write(const std::string& path, std::string_view content) {
  std::string key = normalize(path);
  auto parent = nodes_.find(parent_of(key));
  if (parent == nodes_.end() || parent->second.kind != FileInfo::Kind::directory)
    throw GuestError(fmt::format("write: {}: No such file or directory", path));
  auto existing = nodes_.find(key);
  if (existing != nodes_.end() && existing->second.kind == FileInfo::Kind::directory)
    throw GuestError(fmt::format("write: {}: Is a directory", path));
  if (existing != nodes_.end()) {  // the same inode: its mode and attributes stay
    existing->second.kind = FileInfo::Kind::file;
    existing->second.content = std::string(content);
    existing->second.mtime = ++writes_;
    return;
  }
  nodes_[key] = Node{FileInfo::Kind::file, std::string(content), 0644, ++writes_};
}

std::optional<std::string> FakeGuest::xattr(const std::string& path, const std::string& name) {
  const Node& node = node_or_throw(path, "lgetxattrs");
  auto it = node.xattrs.find(name);
  if (it == node.xattrs.end()) return std::nullopt;
  return it->second;
}

void FakeGuest::set_xattr(const std::string& path, const std::string& name, std::string_view value) {
  node_or_throw(path, "lsetxattr");
  nodes_[normalize(path)].xattrs[name] = std::string(value);
}

std::vector<std::string> FakeGuest::ls(const std::string& directory) {
  const Node& node = node_or_throw(directory, "ls");
  if (node.kind != FileInfo::Kind::directory) throw GuestError(fmt::format("ls: {}: Not a directory", directory));
  std::string prefix = normalize(directory);
  if (prefix != "/") prefix += '/';
  std::vector<std::string> names;
  for (auto it = nodes_.lower_bound(prefix); it != nodes_.end() && it->first.starts_with(prefix); ++it) {
    std::string_view rest = std::string_view(it->first).substr(prefix.size());
    if (!rest.empty() && rest.find('/') == std::string_view::npos) names.emplace_back(rest);
  }
  return names;  // std::map keeps them sorted
}

void FakeGuest::mkdir_p(const std::string& path) {
  std::vector<std::string> chain;  // `path` and its ancestors below "/", the deepest first
  for (std::string key = normalize(path); key != "/"; key = parent_of(key)) chain.push_back(key);
  for (auto key = chain.rbegin(); key != chain.rend(); ++key) {
    const auto [node, added] = nodes_.try_emplace(*key, Node{FileInfo::Kind::directory, "", 0755});
    if (!added && node->second.kind != FileInfo::Kind::directory)
      throw GuestError(fmt::format("mkdir_p: {}: File exists", path));
  }
}

void FakeGuest::rm(const std::string& path) {
  const Node& node = node_or_throw(path, "rm");
  if (node.kind == FileInfo::Kind::directory) throw GuestError(fmt::format("rm: {}: Is a directory", path));
  nodes_.erase(normalize(path));
}

void FakeGuest::rm_rf(const std::string& path) {
  std::string key = normalize(path);
  std::string prefix = key + '/';
  for (auto it = nodes_.lower_bound(prefix); it != nodes_.end() && it->first.starts_with(prefix);)
    it = nodes_.erase(it);
  if (key != "/") nodes_.erase(key);
}

void FakeGuest::chmod(uint32_t mode, const std::string& path) {
  node_or_throw(path, "chmod");
  nodes_[normalize(path)].mode = mode & 07777;
}

void FakeGuest::download(const std::string& guest_path, const std::string& host_path) {
  write_host_file_atomic(host_path, read(guest_path));
}

void FakeGuest::upload(const std::string& host_path, const std::string& guest_path) {
  write(guest_path, read_host_file(host_path));
}

std::string FakeGuest::run(const std::vector<std::string>& argv) {
  commands_run_.push_back(argv);
  if (!command_handler_)
    throw GuestError(fmt::format("command: {}: no handler in the fake guest", fmt::join(argv, " ")));
  return command_handler_(argv);
}

std::string FakeGuest::resolve_case(const std::string& path) {
  std::string resolved = "/";
  const std::string normalized = normalize(path);
  std::string_view rest = std::string_view(normalized).substr(1);
  while (!rest.empty()) {
    size_t slash = rest.find('/');
    std::string_view part = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    std::string match(part);
    if (is_dir(resolved)) {
      for (const std::string& name : ls(resolved))
        if (equals_icase(name, part)) match = name;
    }
    resolved = join_path(resolved, match);
  }
  return resolved;
}

}  // namespace vmfix::guest

#include "guest/cached_guest.h"

#include <fmt/core.h>

namespace vmfix::guest {

namespace fs = std::filesystem;

CachedGuest::Entry& CachedGuest::cached(const std::string& guest_path) {
  auto it = files_.find(guest_path);
  if (it != files_.end()) return it->second;
  Entry entry{scratch_.path() / fmt::format("{}", next_name_++), false};
  inner_.download(guest_path, entry.file.string());
  return files_.emplace(guest_path, entry).first->second;
}

const CachedGuest::Entry* CachedGuest::waiting(const std::string& guest_path) const {
  auto it = files_.find(guest_path);
  return it != files_.end() && it->second.dirty ? &it->second : nullptr;
}

void CachedGuest::forget(const std::string& path) {
  changed();
  std::erase_if(files_, [&](const auto& item) {
    return item.first == path || (item.first.size() > path.size() && item.first.starts_with(path) && item.first[path.size()] == '/');
  });
}

void CachedGuest::flush() {
  changed();
  for (auto& [guest_path, entry] : files_) {
    if (!entry.dirty) continue;
    inner_.upload(entry.file.string(), guest_path);
    entry.dirty = false;
  }
}

void CachedGuest::download(const std::string& guest_path, const std::string& host_path) {
  fs::copy_file(cached(guest_path).file, host_path, fs::copy_options::overwrite_existing);
}

void CachedGuest::upload(const std::string& host_path, const std::string& guest_path) {
  auto it = files_.find(guest_path);
  if (it == files_.end()) it = files_.emplace(guest_path, Entry{scratch_.path() / fmt::format("{}", next_name_++), false}).first;
  fs::copy_file(host_path, it->second.file, fs::copy_options::overwrite_existing);
  it->second.dirty = true;  // the guest itself changes at flush(), and lookups are forgotten then
}

std::optional<FileInfo> CachedGuest::stat(const std::string& path) {
  auto known = stats_.find(path);
  if (known == stats_.end()) known = stats_.emplace(path, inner_.stat(path)).first;
  auto info = known->second;
  if (const Entry* entry = waiting(path); entry && info) info->size = fs::file_size(entry->file);
  return info;
}

std::string CachedGuest::read(const std::string& path) {
  if (const Entry* entry = waiting(path)) return read_host_file(entry->file);
  return inner_.read(path);
}

std::string CachedGuest::read_prefix(const std::string& path, size_t length) {
  if (const Entry* entry = waiting(path)) return read_host_bytes(entry->file, 0, length);
  return inner_.read_prefix(path, length);
}

std::string CachedGuest::resolve_case(const std::string& path) {
  auto known = resolved_.find(path);
  if (known == resolved_.end()) known = resolved_.emplace(path, inner_.resolve_case(path)).first;
  return known->second;
}

std::string CachedGuest::run(const std::vector<std::string>& argv) {
  flush();
  struct Forget {
    CachedGuest& guest;
    ~Forget() { guest.files_.clear(), guest.changed(); }
  } forget_all{*this};
  return inner_.run(argv);
}

void CachedGuest::write(const std::string& path, std::string_view content) {
  forget(path);
  inner_.write(path, content);
}

void CachedGuest::rm(const std::string& path) {
  forget(path);
  inner_.rm(path);
}

void CachedGuest::rm_rf(const std::string& path) {
  forget(path);
  inner_.rm_rf(path);
}

}  // namespace vmfix::guest

#include "guest/cached_guest.h"

#include <fmt/core.h>

#include <algorithm>

namespace vmfix::guest {

namespace fs = std::filesystem;

CachedGuest::Entry CachedGuest::new_entry() { return {scratch_.path() / fmt::format("{}", next_name_++), false}; }

void CachedGuest::drop_if(const std::function<bool(const std::string&, const Entry&)>& doomed) {
  std::erase_if(files_, [&](const auto& item) {
    if (!doomed(item.first, item.second)) return false;
    std::error_code ignored;
    fs::remove(item.second.file, ignored);
    return true;
  });
}

CachedGuest::Entry& CachedGuest::cached(const std::string& guest_path) {
  auto it = files_.find(guest_path);
  if (it != files_.end()) return it->second;
  Entry entry = new_entry();
  inner_.download(guest_path, entry.file.string());
  return files_.emplace(guest_path, entry).first->second;
}

const CachedGuest::Entry* CachedGuest::waiting(const std::string& guest_path) const {
  const Entry* entry = held(guest_path);
  return entry && entry->dirty ? entry : nullptr;
}

const CachedGuest::Entry* CachedGuest::held(const std::string& guest_path) const {
  auto it = files_.find(guest_path);
  return it != files_.end() ? &it->second : nullptr;
}

void CachedGuest::forget(const std::string& path) {
  forget_lookups();
  auto under = [&](const std::string& name) {
    return !path.empty() &&
           (name == path || (name.size() > path.size() && name.starts_with(path) && name[path.size()] == '/'));
  };
  drop_if([&](const std::string& name, const Entry& entry) { return !entry.dirty || under(name); });
}

// What was uploaded is what the guest now holds under those names; every other remembered
// content may be the same file under another name, and goes.
void CachedGuest::flush() {
  forget_lookups();
  std::vector<std::string> uploaded;
  for (auto& [guest_path, entry] : files_) {
    if (!entry.dirty) continue;
    inner_.upload(entry.file.string(), guest_path);
    entry.dirty = false;
    uploaded.push_back(guest_path);
  }
  if (uploaded.empty()) return;
  drop_if([&](const std::string& name, const Entry&) {
    return std::find(uploaded.begin(), uploaded.end(), name) == uploaded.end();
  });
}

void CachedGuest::download(const std::string& guest_path, const std::string& host_path) {
  fs::copy_file(cached(guest_path).file, host_path, fs::copy_options::overwrite_existing);
}

void CachedGuest::upload(const std::string& host_path, const std::string& guest_path) {
  auto it = files_.find(guest_path);
  if (it == files_.end()) it = files_.emplace(guest_path, new_entry()).first;
  fs::copy_file(host_path, it->second.file, fs::copy_options::overwrite_existing);
  it->second.dirty = true;  // the guest itself changes at flush(), and lookups are forgotten then
}

std::optional<FileInfo> CachedGuest::looked_up(std::map<std::string, std::optional<FileInfo>>& known,
                                               const std::string& path, const Lookup& lookup) {
  auto it = known.find(path);
  if (it == known.end()) it = known.emplace(path, lookup(path)).first;
  auto info = it->second;
  if (const Entry* entry = waiting(path); entry && info) info->size = fs::file_size(entry->file);
  return info;
}

std::optional<FileInfo> CachedGuest::stat(const std::string& path) {
  return looked_up(stats_, path, [this](const std::string& p) { return inner_.stat(p); });
}

std::optional<FileInfo> CachedGuest::stat_target(const std::string& path) {
  return looked_up(targets_, path, [this](const std::string& p) { return inner_.stat_target(p); });
}

// The limit on what is read whole applies before the file crosses the appliance.
std::string CachedGuest::read(const std::string& path) {
  if (!held(path)) require_regular_file(path, kMaxReadSize);
  return read_host_file(cached(path).file);
}

// A prefix of a file not yet held (the header of an initramfs or a hibernation file) is read in
// place: fetching the whole file for it would cost more than it saves.
std::string CachedGuest::read_prefix(const std::string& path, size_t length) {
  if (const Entry* entry = held(path)) return read_host_bytes(entry->file, 0, length);
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
    ~Forget() { guest.forget({}); }
  } forget_all{*this};
  return inner_.run(argv);
}

void CachedGuest::write(const std::string& path, std::string_view content) {
  forget(path);
  inner_.write(path, content);
  Entry entry = new_entry();
  write_host_file_atomic(entry.file, content);
  files_.emplace(path, entry);  // what the guest now holds under this name
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

#include "registry/hive.h"

#include <fmt/core.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "support/text.h"

namespace vmfix::registry {

namespace {
struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};
template <typename T>
using Owned = std::unique_ptr<T, FreeDeleter>;
}  // namespace

std::vector<std::string> split_key_path(std::string_view key_path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= key_path.size()) {
    size_t end = key_path.find('\\', start);
    if (end == std::string_view::npos) end = key_path.size();
    if (end > start) parts.emplace_back(key_path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

Hive::Hive(const std::filesystem::path& path, Mode mode) : path_(path) {
  char magic[4] = {};
  if (FILE* file = std::fopen(path.c_str(), "rb")) {
    size_t got = std::fread(magic, 1, sizeof magic, file);
    std::fclose(file);
    if (got == 4 && std::memcmp(magic, "CREG", 4) == 0)
      throw HiveError(
          fmt::format("{}: a Windows 9x/ME registry (CREG); only NT registry hives are supported", path.string()));
  }
  errno = 0;
  hive_ = hivex_open(path.c_str(), mode == Mode::writable ? HIVEX_OPEN_WRITE : 0);
  if (hive_ == nullptr)
    throw HiveError(fmt::format("{}: not a valid registry hive ({})", path.string(),
                                errno ? std::strerror(errno) : "unknown error"));
}

Hive::~Hive() {
  if (hive_) hivex_close(hive_);
}

void Hive::fail(std::string_view operation) {
  throw HiveError(fmt::format("{}: {}: {}", path_.string(), operation, errno ? std::strerror(errno) : "corrupt hive"));
}

Node Hive::root() {
  errno = 0;
  Node node = hivex_root(hive_);
  if (node == 0) fail("no root key");
  return node;
}

std::optional<Node> Hive::find(std::string_view key_path) {
  Node node = root();
  for (const std::string& part : split_key_path(key_path)) {
    errno = 0;
    Node child = hivex_node_get_child(hive_, node, part.c_str());
    if (child == 0) {
      if (errno) fail(fmt::format("reading key {}", key_path));
      return std::nullopt;
    }
    node = child;
  }
  return node;
}

Node Hive::create(std::string_view key_path) {
  Node node = root();
  for (const std::string& part : split_key_path(key_path)) {
    errno = 0;
    Node child = hivex_node_get_child(hive_, node, part.c_str());
    if (child == 0) {
      if (errno) fail(fmt::format("reading key {}", key_path));
      child = hivex_node_add_child(hive_, node, part.c_str());
      if (child == 0) fail(fmt::format("creating key {}", key_path));
    }
    node = child;
  }
  return node;
}

std::string Hive::name(Node node) {
  errno = 0;
  Owned<char> text(hivex_node_name(hive_, node));
  if (!text) fail("reading a key name");
  return text.get();
}

std::vector<Node> Hive::subkeys(Node node) {
  errno = 0;
  Owned<hive_node_h> children(hivex_node_children(hive_, node));
  if (!children) fail("listing subkeys");
  std::vector<Node> result;
  for (hive_node_h* child = children.get(); *child; ++child) result.push_back(*child);
  return result;
}

std::vector<std::string> Hive::subkey_names(Node node) {
  std::vector<std::string> names;
  for (Node child : subkeys(node)) names.push_back(name(child));
  return names;
}

static Value read_value(hive_h* hive, hive_value_h handle, const std::filesystem::path& path) {
  errno = 0;
  Owned<char> key(hivex_value_key(hive, handle));
  if (!key) throw HiveError(fmt::format("{}: reading a value name: corrupt hive", path.string()));
  hive_type type{};
  size_t length = 0;
  Owned<char> data(hivex_value_value(hive, handle, &type, &length));
  if (!data) throw HiveError(fmt::format("{}: reading value '{}': corrupt hive", path.string(), key.get()));
  return Value{key.get(), static_cast<uint32_t>(type), std::string(data.get(), length)};
}

std::optional<Value> Hive::value(Node node, std::string_view value_name) {
  errno = 0;
  hive_value_h handle = hivex_node_get_value(hive_, node, std::string(value_name).c_str());
  if (handle == 0) {
    if (errno) fail(fmt::format("reading value {}", value_name));
    return std::nullopt;
  }
  return read_value(hive_, handle, path_);
}

std::vector<Value> Hive::values(Node node) {
  errno = 0;
  Owned<hive_value_h> handles(hivex_node_values(hive_, node));
  if (!handles) fail("listing values");
  std::vector<Value> result;
  for (hive_value_h* handle = handles.get(); *handle; ++handle) result.push_back(read_value(hive_, *handle, path_));
  return result;
}

void Hive::set_value(Node node, const Value& value) {
  hive_set_value set{};
  std::string key = value.name;
  std::string data = value.data;
  set.key = key.data();
  set.t = static_cast<hive_type>(value.type);
  set.len = data.size();
  set.value = data.data();
  errno = 0;
  if (hivex_node_set_value(hive_, node, &set, 0) != 0) fail(fmt::format("setting value {}", value.name));
}

void Hive::delete_value(Node node, std::string_view value_name) {
  std::vector<Value> kept;
  bool found = false;
  for (Value& value : values(node)) {
    if (equals_icase(value.name, value_name))
      found = true;
    else
      kept.push_back(std::move(value));
  }
  if (!found) return;
  std::vector<hive_set_value> sets(kept.size());
  for (size_t i = 0; i < kept.size(); ++i)
    sets[i] = hive_set_value{kept[i].name.data(), static_cast<hive_type>(kept[i].type), kept[i].data.size(),
                             kept[i].data.data()};
  errno = 0;
  if (hivex_node_set_values(hive_, node, sets.size(), sets.data(), 0) != 0)
    fail(fmt::format("deleting value {}", value_name));
}

void Hive::delete_key(Node node) {
  errno = 0;
  if (node == root()) throw HiveError(fmt::format("{}: refusing to delete the root key", path_.string()));
  if (hivex_node_delete_child(hive_, node) != 0) fail("deleting a key");
}

void Hive::commit(const std::filesystem::path& destination) {
  errno = 0;
  if (hivex_commit(hive_, destination.c_str(), 0) != 0)
    throw HiveError(fmt::format("{}: cannot write the hive: {}", destination.string(), std::strerror(errno)));
}

}  // namespace vmfix::registry

#pragma once
// A Windows registry hive on the host, through libhivex. Key paths use backslashes and are
// matched case-insensitively, relative to the hive root ("ControlSet001\\Services\\Tcpip").
#include <hivex.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "registry/values.h"
#include "support/error.h"

namespace vmfix::registry {

// A hive that is unreadable or corrupt; names the file.
class HiveError : public BadInput {
 public:
  explicit HiveError(const std::string& what) : BadInput(what) {}
};

using Node = hive_node_h;

class Hive {
 public:
  enum class Mode { read_only, writable };
  Hive(const std::filesystem::path& path, Mode mode);
  ~Hive();
  Hive(const Hive&) = delete;
  Hive& operator=(const Hive&) = delete;

  const std::filesystem::path& path() const { return path_; }
  Node root();
  std::optional<Node> find(std::string_view key_path);
  // Finds the key, creating the missing parts (writable hives only).
  Node create(std::string_view key_path);
  std::string name(Node node);
  std::vector<Node> subkeys(Node node);
  std::vector<std::string> subkey_names(Node node);
  std::optional<Value> value(Node node, std::string_view name);
  std::vector<Value> values(Node node);
  // Adds or replaces one value; the key's other values are kept.
  void set_value(Node node, const Value& value);
  // Removes one value, if present; the others are kept in their order.
  void delete_value(Node node, std::string_view name);
  // Removes a key with all its subkeys and values (never the root).
  void delete_key(Node node);
  void commit(const std::filesystem::path& destination);

 private:
  [[noreturn]] void fail(std::string_view operation);
  hive_h* hive_;
  std::filesystem::path path_;
};

std::vector<std::string> split_key_path(std::string_view key_path);

}  // namespace vmfix::registry

#pragma once
// .reg text (regedit's export format, plus hivexregedit's str(N): form) parsed and merged into
// a hive. Used to describe test hives as readable text and to apply edits given as .reg files.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "registry/hive.h"

namespace vmfix::registry {

struct RegKeyEdit {
  std::string key;          // full path as written, e.g. HKEY_LOCAL_MACHINE\SYSTEM\Select
  bool delete_key = false;  // [-KEY]
  struct ValueEdit {
    std::string name;
    std::optional<Value> value;  // nullopt: "name"=- deletes the value
  };
  std::vector<ValueEdit> values;
};

// Accepts UTF-8 or UTF-16LE (with BOM) text. Malformed lines are a BadInput naming the line.
std::vector<RegKeyEdit> parse_reg(std::string_view text);

// Applies the edits under `prefix` (e.g. "HKEY_LOCAL_MACHINE\\SYSTEM"), which is stripped from
// each key; keys outside the prefix are an error.
void merge_reg(Hive& hive, std::string_view text, std::string_view prefix);

}  // namespace vmfix::registry

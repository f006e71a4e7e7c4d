#pragma once
// Typed registry values. Data is kept as the raw bytes the hive stores; these helpers encode and
// decode the common types, tolerating what real hives contain (odd lengths, data after the NUL).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vmfix::registry {

enum ValueType : uint32_t {
  kRegNone = 0,
  kRegSz = 1,
  kRegExpandSz = 2,
  kRegBinary = 3,
  kRegDword = 4,
  kRegDwordBigEndian = 5,
  kRegLink = 6,
  kRegMultiSz = 7,
  kRegQword = 11,
};

struct Value {
  std::string name;  // "" is the key's default value
  uint32_t type = kRegNone;
  std::string data;  // raw bytes as stored in the hive
};

std::string utf8_to_utf16le(std::string_view text);
// Stops at the first UTF-16 NUL; a trailing odd byte is ignored.
std::string utf16le_to_utf8(std::string_view bytes);

Value make_dword(std::string name, uint32_t number);
Value make_qword(std::string name, uint64_t number);
Value make_string(std::string name, std::string_view text, uint32_t type = kRegSz);  // NUL-terminated
Value make_multi_string(std::string name, const std::vector<std::string>& items);
Value make_binary(std::string name, std::string bytes, uint32_t type = kRegBinary);

// nullopt when the type does not match or the data is too short.
std::optional<uint32_t> as_dword(const Value& value);
std::optional<uint64_t> as_qword(const Value& value);
std::optional<std::string> as_string(const Value& value);  // REG_SZ, REG_EXPAND_SZ, REG_LINK
std::vector<std::string> as_multi_string(const Value& value);

}  // namespace vmfix::registry

#include "registry/reg_text.h"

#include <fmt/core.h>

#include <cctype>
#include <cstdlib>

#include "support/text.h"

namespace vmfix::registry {

namespace {

std::string decode_text(std::string_view raw) {
  if (raw.size() >= 2 && static_cast<unsigned char>(raw[0]) == 0xff && static_cast<unsigned char>(raw[1]) == 0xfe) {
    return utf16le_to_utf8(raw.substr(2));  // .reg text holds no NULs
  }
  if (raw.starts_with("\xef\xbb\xbf")) return std::string(raw.substr(3));
  return std::string(raw);
}

[[noreturn]] void malformed(size_t line, std::string_view why) {
  throw BadInput(fmt::format(".reg line {}: {}", line, why));
}

// Reads a quoted string at text[at] == '"'; returns the unescaped string and moves `at` past it.
std::string read_quoted(std::string_view text, size_t& at, size_t line) {
  std::string out;
  for (++at; at < text.size(); ++at) {
    char c = text[at];
    if (c == '"') {
      ++at;
      return out;
    }
    if (c == '\\' && at + 1 < text.size()) {
      char next = text[at + 1];
      if (next == '\\' || next == '"') {
        out += next;
        ++at;
        continue;
      }
      if (next == 'n') {
        out += '\n';
        ++at;
        continue;
      }
    }
    out += c;  // hivexregedit writes lone backslashes ("C:\Windows") literally
  }
  malformed(line, "unterminated string");
}

std::string parse_hex_bytes(std::string_view text, size_t line) {
  std::string bytes;
  size_t at = 0;
  while (at < text.size()) {
    while (at < text.size() && (text[at] == ',' || text[at] == ' ' || text[at] == '\t')) ++at;
    if (at >= text.size()) break;
    size_t end = at;
    while (end < text.size() && std::isxdigit(static_cast<unsigned char>(text[end]))) ++end;
    if (end == at || end - at > 2) malformed(line, fmt::format("bad hex byte in '{}'", text));
    bytes += static_cast<char>(std::strtoul(std::string(text.substr(at, end - at)).c_str(), nullptr, 16));
    at = end;
  }
  return bytes;
}

Value parse_data(std::string name, std::string_view data, size_t line) {
  if (!data.empty() && data.front() == '"') {
    size_t at = 0;
    std::string text = read_quoted(data, at, line);
    return make_string(std::move(name), text);
  }
  size_t colon = data.find(':');
  if (colon == std::string_view::npos) malformed(line, fmt::format("cannot read value data '{}'", data));
  std::string kind = to_lower(trim(data.substr(0, colon)));
  std::string_view body = trim(data.substr(colon + 1));
  if (kind == "dword") {
    if (body.empty() || body.size() > 8) malformed(line, "dword needs 1 to 8 hex digits");
    return make_dword(std::move(name), static_cast<uint32_t>(std::strtoul(std::string(body).c_str(), nullptr, 16)));
  }
  if (kind == "qword") return make_qword(std::move(name), std::strtoull(std::string(body).c_str(), nullptr, 16));
  if (kind == "hex") return make_binary(std::move(name), parse_hex_bytes(body, line));
  auto typed = [&](std::string_view prefix) -> std::optional<uint32_t> {
    if (!kind.starts_with(prefix) || kind.back() != ')') return std::nullopt;
    std::string number = kind.substr(prefix.size(), kind.size() - prefix.size() - 1);
    if (number.empty()) malformed(line, "missing type number");
    return static_cast<uint32_t>(std::strtoul(number.c_str(), nullptr, 16));
  };
  if (auto type = typed("hex(")) return make_binary(std::move(name), parse_hex_bytes(body, line), *type);
  if (auto type = typed("str(")) {
    if (body.empty() || body.front() != '"') malformed(line, "str(N): needs a quoted string");
    size_t at = 0;
    return make_string(std::move(name), read_quoted(body, at, line), *type);
  }
  malformed(line, fmt::format("unknown value type '{}'", kind));
}

}  // namespace

std::vector<RegKeyEdit> parse_reg(std::string_view raw) {
  std::string text = decode_text(raw);
  std::vector<RegKeyEdit> edits;
  std::string logical;
  size_t line_number = 0, logical_start = 0;
  auto lines = split_lines(text);
  for (size_t i = 0; i < lines.size(); ++i) {
    line_number = i + 1;
    std::string_view line = trim(lines[i]);
    if (logical.empty()) logical_start = line_number;
    if (line.ends_with('\\') && !line.starts_with('[')) {  // hex data continues on the next line
      logical += line.substr(0, line.size() - 1);
      continue;
    }
    logical += line;
    std::string_view entry = logical;
    if (entry.empty() || entry.front() == ';' || entry.starts_with("Windows Registry Editor") ||
        entry.starts_with("REGEDIT")) {
      logical.clear();
      continue;
    }
    if (entry.front() == '[') {
      if (entry.back() != ']') malformed(logical_start, "key line must end with ']'");
      RegKeyEdit edit;
      std::string_view key = entry.substr(1, entry.size() - 2);
      if (!key.empty() && key.front() == '-') {
        edit.delete_key = true;
        key.remove_prefix(1);
      }
      edit.key = std::string(key);
      edits.push_back(std::move(edit));
    } else {
      if (edits.empty()) malformed(logical_start, "value before any [key]");
      std::string name;
      size_t at = 0;
      if (entry.front() == '@') {
        at = 1;
      } else if (entry.front() == '"') {
        name = read_quoted(entry, at, logical_start);
      } else {
        malformed(logical_start, "expected \"name\"=data or @=data");
      }
      std::string_view rest = trim(entry.substr(at));
      if (rest.empty() || rest.front() != '=') malformed(logical_start, "expected '=' after the value name");
      std::string_view data = trim(rest.substr(1));
      if (data == "-")
        edits.back().values.push_back({name, std::nullopt});
      else
        edits.back().values.push_back({name, parse_data(name, data, logical_start)});
    }
    logical.clear();
  }
  if (!logical.empty()) malformed(logical_start, "file ends inside a continued line");
  return edits;
}

void merge_reg(Hive& hive, std::string_view text, std::string_view prefix) {
  for (const RegKeyEdit& edit : parse_reg(text)) {
    std::string_view key = edit.key;
    if (!starts_with_icase(key, prefix) || (key.size() > prefix.size() && key[prefix.size()] != '\\'))
      throw BadInput(fmt::format(".reg key '{}' is outside '{}'", edit.key, prefix));
    key.remove_prefix(prefix.size());
    if (edit.delete_key) {
      if (auto node = hive.find(key)) hive.delete_key(*node);
      continue;
    }
    Node node = hive.create(key);
    for (const auto& value_edit : edit.values) {
      if (value_edit.value)
        hive.set_value(node, *value_edit.value);
      else
        hive.delete_value(node, value_edit.name);
    }
  }
}

}  // namespace vmfix::registry

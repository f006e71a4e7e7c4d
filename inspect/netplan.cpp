#include "inspect/netplan.h"

#include "support/text.h"

namespace vmfix::inspect::netplan {

namespace {

constexpr std::string_view kKinds[] = {"ethernets", "bonds", "vlans", "bridges", "wifis"};

std::string_view without_comment(std::string_view text) {
  const size_t comment = text.find(" #");
  return comment == std::string_view::npos ? text : text.substr(0, comment);
}

}  // namespace

size_t indent_of(std::string_view line) {
  const size_t indent = line.find_first_not_of(" \t");
  return indent == std::string_view::npos ? line.size() : indent;
}

bool blank_or_comment(std::string_view line) {
  const std::string_view body = trim(line);
  return body.empty() || body.front() == '#';
}

size_t subtree_end(const std::vector<std::string>& lines, size_t at) {
  const size_t indent = indent_of(lines[at]);
  // A key without a value may hold a list as deep as itself ("addresses:" then "- 10.0.0.5/24"):
  // PyYAML writes lists so, and with it cloud-init and Ubuntu's installer.
  const bool holds_items = !key_of(lines[at]).empty() && value_of(lines[at]).empty();
  size_t end = at + 1;
  for (size_t k = at + 1; k < lines.size(); ++k) {
    if (blank_or_comment(lines[k])) continue;
    const size_t depth = indent_of(lines[k]);
    const bool own_item = holds_items && depth == indent && is_list_item(lines[k]);
    if (depth <= indent && !own_item) break;
    end = k + 1;
  }
  return end;
}

size_t child_indent(const std::vector<std::string>& lines, size_t header, size_t end) {
  for (size_t k = header + 1; k < end; ++k)
    if (!blank_or_comment(lines[k])) return indent_of(lines[k]);
  return 0;
}

std::string key_of(std::string_view line) {
  const std::string_view body = trim(line);
  if (body.empty() || body.front() == '#' || body.front() == '-') return "";
  const size_t colon = body.find(':');
  if (colon == std::string_view::npos) return "";
  return unquote(trim(body.substr(0, colon)));
}

std::string value_of(std::string_view line) {
  const std::string_view body = trim(line);
  const size_t colon = body.find(':');
  if (colon == std::string_view::npos) return "";
  return std::string(trim(without_comment(body.substr(colon + 1))));
}

bool is_list_item(std::string_view line) {
  const std::string_view body = trim(line);
  return !body.empty() && body.front() == '-';
}

std::string list_item(std::string_view line) {
  const std::string_view body = trim(line);
  if (body.empty() || body.front() != '-') return "";
  return unquote(trim(without_comment(body.substr(1))));
}

std::vector<std::string> flow_list(std::string_view value) {
  std::vector<std::string> items;
  value = trim(value);
  if (value.empty()) return items;
  if (value.front() != '[') return {unquote(value)};
  const std::string_view list = value.substr(1, value.size() - (value.back() == ']' ? 2 : 1));
  for (std::string_view piece : split_list(list, ',')) {
    std::string item = unquote(trim(piece));
    if (!item.empty()) items.push_back(std::move(item));
  }
  return items;
}

std::vector<Interface> interfaces(const std::vector<std::string>& lines) {
  std::vector<Interface> found;
  std::vector<std::pair<size_t, std::string>> path;  // (indent, key) of the enclosing mappings
  for (size_t k = 0; k < lines.size(); ++k) {
    const std::string& line = lines[k];
    if (blank_or_comment(line)) continue;
    const size_t indent = indent_of(line);
    // A list item belongs to the key above it, which may be as deep as the item ("addresses:"
    // then "- 10.0.0.5/24"), and closes every mapping deeper than it, as a key line does.
    const bool item = is_list_item(line);
    while (!path.empty() && (item ? path.back().first > indent : path.back().first >= indent)) path.pop_back();
    if (item) continue;
    const std::string key = key_of(line);
    if (key.empty()) continue;
    if (path.size() == 2 && path[0].second == "network")
      for (std::string_view kind : kKinds)
        if (path[1].second == kind) found.push_back({std::string(kind), key, k, subtree_end(lines, k)});
    if (value_of(line).empty()) path.emplace_back(indent, key);
  }
  return found;
}

}  // namespace vmfix::inspect::netplan

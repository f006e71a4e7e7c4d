#pragma once
// The part of netplan's YAML that inspection reads and the network fixer rewrites, read one way:
// network.{ethernets,bonds,vlans,bridges,wifis}.NAME blocks, by indentation, line by line, so a
// rewrite can keep every line it does not own. Not a YAML parser: anchors, multi-document files
// and flow mappings are not netplan's style and are read as plain lines.
#include <string>
#include <string_view>
#include <vector>

namespace vmfix::inspect::netplan {

// One interface block: the "NAME:" line and the lines deeper than it.
struct Interface {
  std::string kind;  // "ethernets", "bonds", "vlans", "bridges", "wifis"
  std::string name;
  size_t header = 0;  // the index of its "NAME:" line
  size_t end = 0;     // one past its last line
};

// The interface blocks of a file split into lines, in file order.
std::vector<Interface> interfaces(const std::vector<std::string>& lines);

size_t indent_of(std::string_view line);
bool blank_or_comment(std::string_view line);
// One past the last line deeper than the mapping key at `at`.
size_t subtree_end(const std::vector<std::string>& lines, size_t at);
// The indent of the first child line of [header, end); 0 when there is none.
size_t child_indent(const std::vector<std::string>& lines, size_t header, size_t end);
// "key: value # note" -> "key" (unquoted); "" for list items, comments and other lines.
std::string key_of(std::string_view line);
// ... -> "value", without the comment.
std::string value_of(std::string_view line);
// Whether the line is a list item ("- item", or a bare "-").
bool is_list_item(std::string_view line);
// "- item # note" -> "item" (unquoted).
std::string list_item(std::string_view line);
// "[a, \"b\"]" -> a, b; a scalar -> itself; "" -> nothing.
std::vector<std::string> flow_list(std::string_view value);

}  // namespace vmfix::inspect::netplan

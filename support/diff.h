#pragma once
// Unified diffs of text files, for --dry-run and the report's changes.
#include <string>
#include <string_view>

namespace vmfix {

// "--- a/PATH", "+++ b/PATH" and hunks with 3 lines of context; "" when the texts are equal.
std::string unified_diff(std::string_view before, std::string_view after, std::string_view path);

}  // namespace vmfix

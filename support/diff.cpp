#include "support/diff.h"

#include <fmt/core.h>

#include <vector>

#include "support/text.h"

namespace vmfix {

namespace {

struct Edit {
  char kind;  // ' ', '-', '+'
  std::string_view line;
};

// Longest common subsequence over lines; configs are small (a cap keeps it quadratic-safe).
std::vector<Edit> line_edits(const std::vector<std::string_view>& a, const std::vector<std::string_view>& b) {
  const size_t n = a.size(), m = b.size();
  std::vector<std::vector<uint32_t>> lcs(n + 1, std::vector<uint32_t>(m + 1, 0));
  for (size_t i = n; i-- > 0;)
    for (size_t j = m; j-- > 0;)
      lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
  std::vector<Edit> edits;
  size_t i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] == b[j]) {
      edits.push_back({' ', a[i++]});
      ++j;
    } else if (i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1])) {
      edits.push_back({'-', a[i++]});
    } else {
      edits.push_back({'+', b[j++]});
    }
  }
  return edits;
}

}  // namespace

std::string unified_diff(std::string_view before, std::string_view after, std::string_view path) {
  if (before == after) return "";
  const auto a = split_lines(before), b = split_lines(after);
  if (a.size() * b.size() > 25'000'000)
    return fmt::format("--- a{0}\n+++ b{0}\n(too large to show: {1} -> {2} lines)\n", path, a.size(), b.size());
  const std::vector<Edit> edits = line_edits(a, b);
  constexpr size_t kContext = 3;
  std::string out = fmt::format("--- a{0}\n+++ b{0}\n", path);
  size_t at = 0;
  while (at < edits.size()) {
    while (at < edits.size() && edits[at].kind == ' ') ++at;
    if (at == edits.size()) break;
    // A hunk runs to the last change that is within 2 * kContext lines of the one before it.
    size_t last_change = at;
    for (size_t k = at; k < edits.size() && k - last_change <= 2 * kContext; ++k)
      if (edits[k].kind != ' ') last_change = k;
    const size_t start = at > kContext ? at - kContext : 0;
    const size_t end = std::min(edits.size(), last_change + 1 + kContext);
    size_t old_line = 1, new_line = 1;
    for (size_t k = 0; k < start; ++k) {
      if (edits[k].kind != '+') ++old_line;
      if (edits[k].kind != '-') ++new_line;
    }
    size_t old_count = 0, new_count = 0;
    std::string body;
    for (size_t k = start; k < end; ++k) {
      if (edits[k].kind != '+') ++old_count;
      if (edits[k].kind != '-') ++new_count;
      body += fmt::format("{}{}\n", edits[k].kind, edits[k].line);
    }
    out += fmt::format("@@ -{},{} +{},{} @@\n{}", old_count ? old_line : old_line - 1, old_count,
                       new_count ? new_line : new_line - 1, new_count, body);
    at = end;
  }
  return out;
}

}  // namespace vmfix

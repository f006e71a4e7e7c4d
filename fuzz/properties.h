#pragma once
// What the rewriter and round-trip targets assert about their outputs. A broken property prints
// what broke and aborts, so libFuzzer keeps the input as a crash.
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace vmfix::fuzz {

[[noreturn]] inline void broken(std::string_view property, std::string_view detail = "") {
  std::fprintf(stderr, "property broken: %.*s\n%.*s\n", static_cast<int>(property.size()), property.data(),
               static_cast<int>(detail.size()), detail.data());
  std::abort();
}

inline void require(bool holds, std::string_view property, std::string_view detail = "") {
  if (!holds) broken(property, detail);
}

// The text split at '\n' (a final line without one counts; a '\r' stays part of its line).
inline std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    lines.push_back(text.substr(at, end - at));
    at = end + 1;
  }
  return lines;
}

// A rewrite changes only what it owns: every line of `before` that `owned` does not claim is in
// `after`, byte for byte and in the same order (lines may be added or removed around them).
inline void require_unowned_lines_kept(std::string_view before, std::string_view after,
                                       const std::function<bool(size_t index, std::string_view line)>& owned,
                                       std::string_view what) {
  const std::vector<std::string_view> in = lines_of(before), out = lines_of(after);
  size_t next = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    if (owned(i, in[i])) continue;
    while (next < out.size() && out[next] != in[i]) ++next;
    if (next == out.size()) broken(what, "an unowned line was changed, dropped or moved: " + std::string(in[i]));
    ++next;
  }
}

// A second rewrite of a rewrite changes nothing.
inline void require_idempotent(const std::function<std::string(std::string_view)>& rewrite, std::string_view text,
                               std::string_view what) {
  const std::string once = rewrite(text);
  const std::string twice = rewrite(once);
  if (once != twice) broken(what, "a second rewrite changed the text:\n--- once\n" + once + "\n--- twice\n" + twice);
}

}  // namespace vmfix::fuzz

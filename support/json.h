#pragma once
// JSON from files vmfix does not control: AWS import documents, batch manifests, and the
// summaries and reports a batch leaves in its output directory (and the profile parser's text).
// nlohmann::json parses and frees nested values without recursion, but copies, compares and
// prints them recursively: a document of 100,000 nested arrays parsed, then overflowed the stack
// when it was printed. Such a document is refused while it is parsed.
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace vmfix {

inline constexpr int kMaxJsonDepth = 100;  // the documents vmfix reads nest fewer than 10 deep

// Json::parse, and nesting deeper than kMaxJsonDepth refused with a json::exception (what parse
// throws for malformed text, so a caller needs one catch).
template <typename Json = nlohmann::json>
Json parse_untrusted_json(std::string_view text) {
  return Json::parse(text, [](int depth, nlohmann::json::parse_event_t event, Json&) {
    using Event = nlohmann::json::parse_event_t;
    if ((event == Event::object_start || event == Event::array_start) && depth >= kMaxJsonDepth)
      throw Json::out_of_range::create(406, "nested more than " + std::to_string(kMaxJsonDepth) + " levels deep",
                                       nullptr);
    return true;
  });
}

}  // namespace vmfix

#pragma once
// Small string helpers shared by the config parsers.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vmfix {

std::string_view trim(std::string_view text);
std::vector<std::string_view> split_lines(std::string_view text);
// Surrounding blanks, then one pair of matching single or double quotes, removed.
std::string unquote(std::string_view value);
// Words separated by spaces and tabs.
std::vector<std::string> split_words(std::string_view text);
// The pieces between the separators, empty ones included ("a,,b" is "a", "", "b"; "" is one "").
std::vector<std::string_view> split_list(std::string_view text, char separator);
// ASCII only, whatever the locale: guest text is bytes.
inline bool is_ascii_digit(char c) { return c >= '0' && c <= '9'; }
// A letter, digit or '_': a word character as regular expressions' \w and \b mean it.
inline bool is_word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_ascii_digit(c) || c == '_';
}
bool starts_with_icase(std::string_view text, std::string_view prefix);
bool equals_icase(std::string_view a, std::string_view b);
// Whether `text` holds `needle`, ASCII letters compared without regard to case.
bool contains_icase(std::string_view text, std::string_view needle);
// Where `needle` first occurs in `text` at or after `from`, compared as contains_icase does; npos
// when it does not.
size_t find_icase(std::string_view text, std::string_view needle, size_t from = 0);
std::string to_lower(std::string_view text);
// Newlines and carriage returns become spaces: a message for one line of a log or a terminal.
std::string one_line(std::string_view text);
// "s3://BUCKET" or "s3://BUCKET/PREFIX...": an S3 URL with a bucket.
bool is_s3_url(std::string_view url);

// Parses KEY=VALUE shell-style assignments (ifcfg, os-release): quotes removed, comments skipped.
std::vector<std::pair<std::string, std::string>> parse_shell_assignments(std::string_view text);

// 64-bit FNV-1a, for content-addressed cache keys (not for security).
uint64_t fnv1a64(std::string_view data, uint64_t seed = 0xcbf29ce484222325ULL);

// Orders versions the way package managers do for the common cases (numeric runs compare as
// numbers): true when a is older than b ("6.1.0-9-amd64" < "6.1.0-28-amd64").
bool version_less(const std::string& a, const std::string& b);

}  // namespace vmfix

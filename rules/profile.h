#pragma once
// Requirement profiles as data (profiles/*.json, built into the binary): each AWS requirement is a
// rule with a stable id, a severity, the seed-page item it covers, the AWS error it prevents and
// the fixer that fixes it. The support tables (distros, kernels, editions) live beside the rules.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vmfix::rules {

enum class Severity { blocker, warning, info };
std::string_view to_string(Severity severity);
std::optional<Severity> severity_named(std::string_view text);  // "blocker", "warning", "info"

// What answers a rule, as its profile names it: an evaluator (rules/checks_*.cpp), the check of
// the fixer the rule names (whatever --fix and --skip chose: they choose what is fixed, not what
// is checked), or nothing, for a rule that cannot be checked from the image.
enum class Checker { evaluator, fixer, offline };
std::string_view to_string(Checker checker);

struct Rule {
  std::string id;
  std::string area;  // "os", "image", "disk", "network", "prepare", "windows", "linux"
  std::string title;
  Severity severity = Severity::blocker;
  std::string os;                  // "any", "linux", "windows"
  std::string covers;              // the requirement page item(s) this rule stands for
  std::vector<std::string> reads;  // the facts (report fields, files, hive keys) it decides on
  std::string aws_message;         // the import error it prevents, "" when none is known
  std::string fixer;               // fixer id, "output" (the output writer), or ""
  Checker checker = Checker::evaluator;
  std::string offline;  // why it cannot be checked from the image; "" when it can
};

struct Profile {
  std::string id;
  std::string title;
  std::string source;
  nlohmann::json limits;
  nlohmann::json linux;       // [{distro, versions|ranges, kernels?, exclude_kernels?}]
  nlohmann::json windows;     // [{product, editions, bits, uefi_required?}]
  nlohmann::json deprecated;  // {windows: [product], linux: [{distro, ranges}], i386}
  std::vector<Rule> rules;
};

// The rules as `vmfix --list-rules --json` lists them: {schema vmfix.rules/1, profile, title, rules}.
nlohmann::ordered_json to_json(const Profile& profile);

// The built-in profiles, default first.
std::vector<std::string> profile_names();
const std::string& default_profile_name();
// Throws UsageError for an unknown name.
const Profile& load_profile(const std::string& name);
// Parses and validates a profile document: every rule names its checker, which exists (an
// evaluator, or a fixer that declares the rule), or gives its offline reason. A document with
// "extends": "NAME" is that built-in profile with its differences: top-level fields replace the
// base's ("limits" key by key), each entry of "rules" changes the fields it gives of the base
// rule with its id (or adds a rule), and "without_rules" lists base rules it drops. Throws Error
// naming the rule and field at fault.
Profile parse_profile(const std::string& text);

}  // namespace vmfix::rules

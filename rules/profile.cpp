#include "rules/profile.h"

#include <fmt/core.h>

#include <map>
#include <set>

#include "fixers/registry.h"
#include "rules/engine.h"
#include "support/error.h"

namespace vmfix::rules {

const std::vector<std::pair<std::string_view, std::string_view>>& builtin_profile_texts();

namespace {

std::string field(const nlohmann::json& object, const char* name, const std::string& where, bool required = true) {
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) {
    if (required) throw Error(fmt::format("profile {}: '{}' is missing", where, name));
    return "";
  }
  if (!it->is_string()) throw Error(fmt::format("profile {}: '{}' must be a string", where, name));
  return it->get<std::string>();
}

const std::set<std::string> kOses{"any", "linux", "windows"};

}  // namespace

std::string_view to_string(Severity severity) {
  switch (severity) {
    case Severity::blocker:
      return "blocker";
    case Severity::warning:
      return "warning";
    case Severity::info:
      return "info";
  }
  return "blocker";
}

std::optional<Severity> severity_named(std::string_view text) {
  for (Severity severity : {Severity::blocker, Severity::warning, Severity::info})
    if (to_string(severity) == text) return severity;
  return std::nullopt;
}

Profile parse_profile(const std::string& text) {
  nlohmann::json document;
  try {
    document = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("profile is not valid JSON: {}", e.what()));
  }
  Profile profile;
  profile.id = field(document, "id", "(top level)");
  profile.title = field(document, "title", profile.id);
  profile.source = field(document, "source", profile.id);
  profile.limits = document.value("limits", nlohmann::json::object());
  profile.linux = document.value("linux", nlohmann::json::array());
  profile.windows = document.value("windows", nlohmann::json::array());
  profile.deprecated = document.value("deprecated", nlohmann::json::object());

  std::set<std::string> fixer_ids{"output"};
  for (const auto& fixer : fixers::all_fixers()) fixer_ids.insert(std::string(fixer->id()));
  std::set<std::string> seen;
  for (const auto& entry : document.value("rules", nlohmann::json::array())) {
    Rule rule;
    rule.id = field(entry, "id", profile.id);
    const std::string where = fmt::format("{} rule {}", profile.id, rule.id);
    rule.area = field(entry, "area", where);
    rule.title = field(entry, "title", where);
    const std::string severity = field(entry, "severity", where);
    rule.os = field(entry, "os", where);
    rule.covers = field(entry, "covers", where);
    rule.aws_message = field(entry, "aws_message", where, false);
    rule.fixer = field(entry, "fixer", where, false);
    rule.offline = field(entry, "offline", where, false);
    for (const auto& fact : entry.value("reads", nlohmann::json::array())) {
      if (!fact.is_string()) throw Error(fmt::format("profile {}: 'reads' must list strings", where));
      rule.reads.push_back(fact.get<std::string>());
    }
    if (rule.offline.empty() && rule.reads.empty())
      throw Error(fmt::format("profile {}: a checkable rule must say what it reads ('reads')", where));
    if (!seen.insert(rule.id).second)
      throw Error(fmt::format("profile {}: rule {} appears twice", profile.id, rule.id));
    if (auto known = severity_named(severity))
      rule.severity = *known;
    else
      throw Error(fmt::format("profile {}: severity '{}'", where, severity));
    if (!kOses.count(rule.os)) throw Error(fmt::format("profile {}: os '{}'", where, rule.os));
    if (!rule.fixer.empty() && !fixer_ids.count(rule.fixer))
      throw Error(fmt::format("profile {}: no fixer named '{}'", where, rule.fixer));
    bool checkable = evaluators().count(rule.id) || (!rule.fixer.empty() && rule.fixer != "output");
    if (rule.offline.empty() && !checkable)
      throw Error(fmt::format("profile {}: no evaluator, no fixer and no offline reason", where));
    profile.rules.push_back(std::move(rule));
  }
  if (profile.rules.empty()) throw Error(fmt::format("profile {}: no rules", profile.id));
  return profile;
}

std::vector<std::string> profile_names() {
  std::vector<std::string> names;
  for (const auto& [name, text] : builtin_profile_texts()) names.emplace_back(name);
  return names;
}

const std::string& default_profile_name() {
  static const std::string name(builtin_profile_texts().front().first);
  return name;
}

const Profile& load_profile(const std::string& name) {
  static std::map<std::string, Profile> loaded;
  if (auto it = loaded.find(name); it != loaded.end()) return it->second;
  for (const auto& [builtin, text] : builtin_profile_texts())
    if (builtin == name) return loaded.emplace(name, parse_profile(std::string(text))).first->second;
  std::string known;
  for (const std::string& candidate : profile_names()) known += (known.empty() ? "" : ", ") + candidate;
  throw UsageError(fmt::format("no profile named '{}' (known: {})", name, known));
}

}  // namespace vmfix::rules

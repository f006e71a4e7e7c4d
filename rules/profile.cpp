#include "rules/profile.h"

#include <fmt/core.h>

#include <algorithm>
#include <map>
#include <set>

#include "fixers/table.h"
#include "rules/engine.h"
#include "support/error.h"
#include "support/json.h"
#include "support/text.h"

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

nlohmann::json parse_json(const std::string& text) {
  try {
    return parse_untrusted_json(text);
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("profile is not valid JSON: {}", e.what()));
  }
}

// A document that extends a built-in profile, with its differences applied.
nlohmann::json resolve_extends(nlohmann::json document, int depth = 0) {
  if (!document.is_object()) throw Error("profile: the document must be a JSON object");
  auto extends = document.find("extends");
  if (extends == document.end()) return document;
  if (!extends->is_string()) throw Error("profile: 'extends' must name a built-in profile");
  if (depth > 4) throw Error("profile: 'extends' goes more than four profiles deep");
  const std::string base_name = extends->get<std::string>();
  const auto& texts = builtin_profile_texts();
  auto base_text =
      std::find_if(texts.begin(), texts.end(), [&](const auto& entry) { return entry.first == base_name; });
  if (base_text == texts.end())
    throw Error(fmt::format("profile: 'extends' names no built-in profile '{}'", base_name));
  nlohmann::json base = resolve_extends(parse_json(std::string(base_text->second)), depth + 1);
  for (const auto& [key, value] : document.items()) {
    if (key == "extends" || key == "rules" || key == "without_rules") continue;
    if (key == "limits" && value.is_object() && base[key].is_object())
      base[key].update(value);
    else
      base[key] = value;
  }
  auto& rules = base["rules"];
  for (const auto& id : document.value("without_rules", nlohmann::json::array())) {
    auto dropped =
        std::find_if(rules.begin(), rules.end(), [&](const auto& rule) { return rule.value("id", "") == id; });
    if (dropped == rules.end())
      throw Error(fmt::format("profile: 'without_rules' names no rule {} of {}", id.dump(), base_name));
    rules.erase(dropped);
  }
  for (const auto& change : document.value("rules", nlohmann::json::array())) {
    const std::string id = change.is_object() ? change.value("id", "") : "";
    auto rule = std::find_if(rules.begin(), rules.end(), [&](const auto& r) { return r.value("id", "") == id; });
    if (rule == rules.end())
      rules.push_back(change);
    else
      rule->update(change);
  }
  return base;
}

Checker checker_of(const nlohmann::json& entry, const std::string& where) {
  const std::string name = field(entry, "checker", where);
  for (Checker checker : {Checker::evaluator, Checker::fixer, Checker::offline})
    if (to_string(checker) == name) return checker;
  throw Error(fmt::format("profile {}: checker '{}' (evaluator, fixer or offline)", where, name));
}

// The checker the rule names exists and answers it.
void validate_checker(const Rule& rule, const std::string& where,
                      const std::vector<std::unique_ptr<fixers::Fixer>>& all) {
  if ((rule.checker == Checker::offline) != !rule.offline.empty())
    throw Error(fmt::format("profile {}: an offline rule gives its reason ('offline'), and only such a rule", where));
  if (rule.checker == Checker::evaluator && !evaluators().count(rule.id))
    throw Error(fmt::format("profile {}: no evaluator checks this rule", where));
  if (rule.checker != Checker::fixer) return;
  auto fixer = std::find_if(all.begin(), all.end(), [&](const auto& f) { return f->id() == rule.fixer; });
  if (fixer == all.end()) throw Error(fmt::format("profile {}: checker 'fixer' needs the fixer that checks it", where));
  const auto answered = (*fixer)->rules();
  if (std::find(answered.begin(), answered.end(), rule.id) == answered.end())
    throw Error(fmt::format("profile {}: the '{}' fixer does not check this rule", where, rule.fixer));
}

}  // namespace

std::string_view to_string(Checker checker) {
  switch (checker) {
    case Checker::evaluator:
      return "evaluator";
    case Checker::fixer:
      return "fixer";
    case Checker::offline:
      return "offline";
  }
  return "evaluator";
}

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
  const nlohmann::json document = resolve_extends(parse_json(text));
  Profile profile;
  profile.id = field(document, "id", "(top level)");
  profile.title = field(document, "title", profile.id);
  profile.source = field(document, "source", profile.id);
  profile.limits = document.value("limits", nlohmann::json::object());
  profile.linux = document.value("linux", nlohmann::json::array());
  profile.windows = document.value("windows", nlohmann::json::array());
  profile.deprecated = document.value("deprecated", nlohmann::json::object());

  const auto all = fixers::all_fixers();
  std::set<std::string> fixer_ids{"output"};
  for (const auto& fixer : all) fixer_ids.insert(std::string(fixer->id()));
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
    rule.checker = checker_of(entry, where);
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
    validate_checker(rule, where, all);
    profile.rules.push_back(std::move(rule));
  }
  if (profile.rules.empty()) throw Error(fmt::format("profile {}: no rules", profile.id));
  return profile;
}

nlohmann::ordered_json to_json(const Profile& profile) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const Rule& rule : profile.rules)
    list.push_back({{"id", rule.id},
                    {"area", rule.area},
                    {"severity", to_string(rule.severity)},
                    {"os", rule.os},
                    {"title", rule.title},
                    {"covers", rule.covers},
                    {"reads", rule.reads},
                    {"aws_message", rule.aws_message},
                    {"fixer", rule.fixer},
                    {"checker", to_string(rule.checker)},
                    {"offline", rule.offline}});
  return {{"schema", "vmfix.rules/1"}, {"profile", profile.id}, {"title", profile.title}, {"rules", list}};
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
  throw UsageError(fmt::format("no profile named '{}' (known: {})", one_line(name), known));
}

}  // namespace vmfix::rules

#include "remediate/text.h"

#include <fmt/color.h>
#include <fmt/core.h>

#include <algorithm>
#include <iterator>

#include "support/text.h"

namespace vmfix::remediate {

namespace {

class Writer {
 public:
  explicit Writer(const TextStyle& style) : style_(style) {}

  template <typename... Args>
  void line(fmt::format_string<Args...> format, Args&&... args) {
    fmt::format_to(std::back_inserter(text_), format, std::forward<Args>(args)...);
    text_ += '\n';
  }
  std::string paint(std::string_view text, fmt::text_style style) const {
    return style_.color ? fmt::format(style, "{}", text) : std::string(text);
  }
  int verbosity() const { return style_.verbosity; }
  std::string take() { return std::move(text_); }

 private:
  const TextStyle& style_;
  std::string text_;
};

std::string status_word(std::string_view status, const Writer& out) {
  if (status == "pass") return out.paint("ok     ", fmt::fg(fmt::terminal_color::green));
  if (status == "fixed") return out.paint("fixed  ", fmt::fg(fmt::terminal_color::green) | fmt::emphasis::bold);
  if (status == "fail") return out.paint("FAIL   ", fmt::fg(fmt::terminal_color::red) | fmt::emphasis::bold);
  if (status == "unknown") return out.paint("unknown", fmt::fg(fmt::terminal_color::yellow));
  return out.paint("skipped", fmt::emphasis::faint);
}

// The message, the evidence (of the failure, for a fixed finding) and what fixes it.
void write_detail(const ShownFinding& shown, Writer& out) {
  const rules::Result& result = *shown.result;
  const std::string indent(44, ' ');
  out.line("{}{}", indent, out.paint(result.outcome.message, fmt::emphasis::italic));
  const auto& evidence = shown.fixed ? shown.before->outcome.evidence : result.outcome.evidence;
  const size_t count = out.verbosity() >= 2 ? evidence.size() : std::min<size_t>(evidence.size(), 4);
  for (size_t i = 0; i < count; ++i) out.line("{}{}", indent, evidence[i]);
  if (count < evidence.size()) out.line("{}... {} more (-v or --json shows all)", indent, evidence.size() - count);
  const std::string& fixer = result.rule->fixer;
  if (!shown.failed() || fixer.empty()) return;
  out.line("{}{}", indent,
           result.fixable ? fmt::format("-> fixed by: {}", fixer)
                          : fmt::format("-> not fixed: the '{}' fixer cannot repair this (evidence above)", fixer));
}

void write_findings(const std::vector<ShownFinding>& findings, Writer& out) {
  std::string area;
  for (const ShownFinding& shown : findings) {
    const rules::Rule& rule = *shown.result->rule;
    if (shown.status() == rules::Status::skipped && out.verbosity() < 2) continue;
    if (rule.area != area) {
      area = rule.area;
      out.line("\n{}", out.paint(area, fmt::emphasis::bold));
    }
    out.line("  {} {:<8} {:<24} {}", status_word(shown.word(), out), rules::to_string(rule.severity), rule.id,
             rule.title);
    if (shown.failed() || shown.status() == rules::Status::unknown || out.verbosity() >= 2) write_detail(shown, out);
  }
}

void write_changes(const Report& report, Writer& out) {
  out.line("\n{}", report.dry_run ? "planned changes (nothing written)" : "changes");
  for (const auto& change : report.changes) {
    out.line("  {:<14} {}\n  {:<14}   {} -> {}", change.fixer, change.target, "", change.before, change.after);
    if (!change.diff.empty() && (report.dry_run || out.verbosity() >= 2))
      for (std::string_view line : split_lines(change.diff)) out.line("      {}", line);
  }
  if (report.changes.empty()) out.line("  nothing to change");
}

std::string verdict_line(rules::Verdict verdict, const std::vector<ShownFinding>& findings, const Writer& out) {
  const Tally counts = tally(findings);
  auto color = verdict == rules::Verdict::ready     ? fmt::terminal_color::green
               : verdict == rules::Verdict::fixable ? fmt::terminal_color::yellow
                                                    : fmt::terminal_color::red;
  return fmt::format("verdict: {} ({} fixable, {} blocking, {} other warnings)",
                     out.paint(rules::to_string(verdict), fmt::fg(color) | fmt::emphasis::bold), counts.fixable,
                     counts.blocking, counts.warnings);
}

void write_output(const Report& report, Writer& out) {
  if (report.written && report.in_place) {
    out.line("changed {} in place", report.output->path.string());
  } else if (report.written) {
    for (const auto& file : report.output->files)
      out.line("wrote {} ({})", file.string(), image::to_string(report.output->format));
    for (const auto& removed : report.write.removed_from_ovf) out.line("  the OVF no longer has: {}", removed);
  } else if (report.mode != Mode::check && !report.dry_run) {
    out.line("not written: blockers remain (see above; --force writes anyway)");
  }
}

}  // namespace

std::string render_text(const Report& report, const TextStyle& style) {
  Writer out(style);
  const inspect::Facts& facts = report.facts;
  const std::string guest_name =
      facts.os_type == "windows" ? facts.product_name : fmt::format("{} {}", facts.distro, facts.product_name);
  out.line("{} ({}), profile {}", report.vm.path.string(), guest_name, report.profile->id);
  const std::vector<ShownFinding> findings = shown_findings(report);
  write_findings(findings, out);
  if (report.mode != Mode::check) write_changes(report, out);
  out.line("\n{}", verdict_line(report.final_state().verdict, findings, out));
  write_output(report, out);
  return out.take();
}

}  // namespace vmfix::remediate

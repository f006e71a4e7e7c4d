// --check, --all, --fix and --dry-run: one appliance launch, the profile's rules before and after,
// the fixers in between, and the output image only when nothing blocks the import.
#include "cli/remediate_command.h"

#include <fmt/color.h>
#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <set>

#include "cli/common.h"
#include "fixers/registry.h"
#include "fixers/selinux_labels.h"
#include "guest/cached_guest.h"
#include "guest/libguestfs_guest.h"
#include "guest/session.h"
#include "image/output.h"
#include "image/ovf.h"
#include "image/vm_source.h"
#include "inspect/inspect.h"
#include "inspect/report.h"
#include "rules/engine.h"
#include "support/files.h"
#include "support/text.h"

namespace vmfix::cli {

using nlohmann::ordered_json;

namespace {

rules::ImageFacts image_facts(const image::VmSource& vm) {
  rules::ImageFacts image;
  image.format = vm.kind == "disk" ? std::string(image::to_string(vm.disks.front().format)) : vm.kind;
  image.variant = vm.disks.front().variant;
  image.disks = static_cast<int>(vm.disks.size());
  if (vm.ovf) {
    image.ovf_nics = vm.ovf->nics;
    image.ovf_cdroms = vm.ovf->cdroms;
    image.ovf_floppies = vm.ovf->floppies;
  }
  return image;
}

// --in-place: the source itself, raw or qcow2 (formats qemu edits in place, that hold one disk).
image::OutputSpec in_place_target(const image::VmSource& vm, const Options& options) {
  const image::SourceImage& disk = vm.disks.front();
  if (vm.kind != "disk" || (disk.format != image::Format::raw && disk.format != image::Format::qcow2))
    throw UsageError(fmt::format("--in-place edits raw and qcow2 images only; {} is {}: vmfix writes a new image instead (-o)",
                                 vm.path.string(), vm.kind == "disk" ? std::string(image::to_string(disk.format)) : vm.kind));
  if (options.output_format && *options.output_format != image::to_string(disk.format))
    throw UsageError("--in-place keeps the image's format; --output-format does not apply");
  if (options.verbosity > 0 && !options.dry_run)
    fmt::print(stderr, "vmfix: --in-place: {} itself will be changed (once nothing blocks the import)\n", vm.path.string());
  return {vm.path, std::string(image::to_string(disk.format)), {vm.path}};
}

// What the output will be, for the second look: its format and what its VM description holds.
void describe_output(const image::OutputSpec& output, const image::VmSource& vm, bool in_place, rules::ImageFacts& image) {
  image.output_format = output.format;
  if (in_place) return;
  if (output.format != "ova") {
    image.ovf_nics = image.ovf_cdroms = image.ovf_floppies = -1;  // bare disks carry no drives
  } else if (vm.ovf) {
    image.ovf_nics = std::min(vm.ovf->nics, 1);
    image.ovf_cdroms = image.ovf_floppies = 0;
  } else {
    image.ovf_nics = 1;
    image.ovf_cdroms = image.ovf_floppies = 0;
  }
}

bool blocked_by_guest(const rules::Evaluation& evaluation) {
  for (const auto& result : evaluation.results)
    if (result.rule->severity == "blocker" && result.outcome.status == "fail" && result.rule->id != "image-format") return true;
  return false;
}

image::GuestSummary guest_summary(const inspect::Facts& facts, const image::VmSource& vm) {
  image::GuestSummary summary;
  summary.name = vm.path.stem().string();
  summary.os_type = facts.os_type == "windows" ? "windows" : "linux";
  summary.bits = facts.arch == "i386" || facts.arch == "i686" ? 32 : 64;
  return summary;
}

// --fix picks fixers; --skip removes them; otherwise every fixer may run, except gpt-to-mbr under
// a profile that accepts GPT boot disks: converting those is the user's call (--fix gpt-to-mbr).
std::vector<std::unique_ptr<fixers::Fixer>> chosen_fixers(const Options& options, const rules::Profile& profile) {
  fixers::FixerSettings settings;
  if (options.unattend_file) {
    try {
      settings.unattend_xml = read_host_file(*options.unattend_file);
    } catch (const Error& e) {
      throw BadInput(e.what());  // the user's file, not vmfix, is what is missing
    }
    settings.unattend_source = *options.unattend_file;
    image::check_answer_file(*settings.unattend_xml, *options.unattend_file);
  }
  auto all = fixers::all_fixers(settings);
  for (const std::string& id : options.skip_ids)
    if (std::none_of(all.begin(), all.end(), [&](auto& fixer) { return fixer->id() == id; }))
      throw UsageError(fmt::format("no fixer named '{}' (see --list-fixers)", id));
  if (!options.fix_ids.empty()) return fixers::select_fixers(options.fix_ids, settings);
  const bool needs_mbr = profile.limits.value("boot_partitioning", "mbr") == "mbr";
  std::erase_if(all, [&](auto& fixer) {
    return std::find(options.skip_ids.begin(), options.skip_ids.end(), fixer->id()) != options.skip_ids.end() ||
           (fixer->id() == "gpt-to-mbr" && !needs_mbr);
  });
  return all;
}

std::vector<fixers::Fixer*> pointers(const std::vector<std::unique_ptr<fixers::Fixer>>& owned) {
  std::vector<fixers::Fixer*> list;
  for (const auto& fixer : owned) list.push_back(fixer.get());
  return list;
}

ordered_json change_json(const fixers::Change& change) {
  ordered_json entry{{"fixer", change.fixer}, {"target", change.target}, {"before", change.before}, {"after", change.after}};
  if (!change.diff.empty()) entry["diff"] = change.diff;
  return entry;
}

ordered_json finding_json(const rules::Result& result, const rules::Result* before) {
  const rules::Rule& rule = *result.rule;
  std::string status = result.outcome.status;
  if (before && before->outcome.status == "fail" && status == "pass") status = "fixed";
  ordered_json finding{{"id", rule.id},           {"area", rule.area},
                       {"title", rule.title},     {"severity", rule.severity},
                       {"status", status},        {"message", result.outcome.message},
                       {"evidence", result.outcome.evidence},
                       {"fixer", rule.fixer.empty() ? ordered_json(nullptr) : ordered_json(rule.fixer)},
                       {"fixable", result.fixable}};
  if (before) finding["before"] = {{"status", before->outcome.status}, {"evidence", before->outcome.evidence}};
  if (!rule.aws_message.empty()) finding["aws_message"] = rule.aws_message;
  return finding;
}

struct Styles {
  bool color = false;
  std::string paint(std::string_view text, fmt::text_style style) const {
    return color ? fmt::format(style, "{}", text) : std::string(text);
  }
};

std::string status_word(const std::string& status, const Styles& styles) {
  if (status == "pass") return styles.paint("ok     ", fmt::fg(fmt::terminal_color::green));
  if (status == "fixed") return styles.paint("fixed  ", fmt::fg(fmt::terminal_color::green) | fmt::emphasis::bold);
  if (status == "fail") return styles.paint("FAIL   ", fmt::fg(fmt::terminal_color::red) | fmt::emphasis::bold);
  if (status == "unknown") return styles.paint("unknown", fmt::fg(fmt::terminal_color::yellow));
  return styles.paint("skipped", fmt::emphasis::faint);
}

void print_findings(const ordered_json& findings, const Styles& styles, int verbosity) {
  std::string area;
  for (const auto& finding : findings) {
    const std::string status = finding["status"];
    if (status == "skipped" && verbosity < 2) continue;
    if (finding["area"] != area) {
      area = finding["area"];
      fmt::print("\n{}\n", styles.paint(area, fmt::emphasis::bold));
    }
    fmt::print("  {} {:<8} {:<24} {}\n", status_word(status, styles), finding["severity"].get<std::string>(),
               finding["id"].get<std::string>(), finding["title"].get<std::string>());
    const bool detail = status == "fail" || status == "unknown" || verbosity >= 2;
    if (!detail) continue;
    const std::string indent(44, ' ');
    fmt::print("{}{}\n", indent, styles.paint(finding["message"].get<std::string>(), fmt::emphasis::italic));
    const auto& evidence = status == "fixed" ? finding["before"]["evidence"] : finding["evidence"];
    const size_t shown = verbosity >= 2 ? evidence.size() : std::min<size_t>(evidence.size(), 4);
    for (size_t i = 0; i < shown; ++i) fmt::print("{}{}\n", indent, evidence[i].get<std::string>());
    if (shown < evidence.size()) fmt::print("{}... {} more (-v or --json shows all)\n", indent, evidence.size() - shown);
    if (status == "fail" && !finding["fixer"].is_null())
      fmt::print("{}{}\n", indent,
                 finding["fixable"].get<bool>() ? fmt::format("-> fixed by: {}", finding["fixer"].get<std::string>())
                                                : fmt::format("-> not fixed: the '{}' fixer cannot repair this (evidence above)", finding["fixer"].get<std::string>()));
  }
}

std::string verdict_line(const std::string& verdict, const ordered_json& findings, const Styles& styles) {
  int blockers = 0, fixable = 0, warnings = 0;
  for (const auto& finding : findings) {
    if (finding["status"] != "fail") continue;
    if (finding["fixable"].get<bool>()) ++fixable;
    else if (finding["severity"] == "blocker") ++blockers;
    else if (finding["severity"] == "warning") ++warnings;
  }
  auto color = verdict == "ready" ? fmt::terminal_color::green : verdict == "fixable" ? fmt::terminal_color::yellow : fmt::terminal_color::red;
  return fmt::format("verdict: {} ({} fixable, {} blocking, {} other warnings)",
                     styles.paint(verdict, fmt::fg(color) | fmt::emphasis::bold), fixable, blockers, warnings);
}

void emit(const Options& options, const ordered_json& report) {
  if (options.report_file) write_host_file_atomic(*options.report_file, report.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  if (options.json) fmt::print("{}\n", report.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace

int run_list_fixers(const Options& options) {
  ordered_json list = ordered_json::array();
  for (const auto& fixer : fixers::all_fixers()) {
    if (options.json) list.push_back({{"id", fixer->id()}, {"summary", fixer->summary()}});
    else fmt::print("{:<14} {}\n", fixer->id(), fixer->summary());
  }
  if (options.json) fmt::print("{}\n", list.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
  return kExitReady;
}

int run_list_rules(const Options& options) {
  const rules::Profile& profile = rules::load_profile(options.profile);
  ordered_json list = ordered_json::array();
  for (const rules::Rule& rule : profile.rules) {
    list.push_back({{"id", rule.id}, {"area", rule.area}, {"severity", rule.severity}, {"os", rule.os},
                    {"title", rule.title}, {"covers", rule.covers}, {"reads", rule.reads}, {"aws_message", rule.aws_message},
                    {"fixer", rule.fixer}, {"offline", rule.offline}});
    if (!options.json)
      fmt::print("{:<24} {:<8} {:<8} {}{}\n", rule.id, rule.severity, rule.area, rule.title,
                 rule.fixer.empty() ? "" : fmt::format(" [fixer: {}]", rule.fixer));
  }
  if (options.json) fmt::print("{}\n", ordered_json{{"profile", profile.id}, {"title", profile.title}, {"rules", list}}.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
  return kExitReady;
}

int run_remediate(const Options& options) {
  // With -v, where the time goes: one line per step.
  const auto started = std::chrono::steady_clock::now();
  auto step = [&](std::string_view what) {
    if (options.verbosity < 2) return;
    std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - started;
    fmt::print(stderr, "vmfix: [{:6.1f} s] {}\n", elapsed.count(), what);
  };
  const bool checking = options.mode == Mode::check;
  const bool writing = !checking && !options.dry_run;
  const rules::Profile& profile = rules::load_profile(options.profile);
  auto fixers = chosen_fixers(options, profile);
  const image::VmSource vm = image::open_vm(options.images.front());
  std::optional<image::OutputSpec> output;
  if (options.in_place) output = in_place_target(vm, options);
  else if (!checking) output = image::choose_output(vm, options.output, options.output_format);

  // --check reads; the others edit overlays (for --dry-run, overlays that are thrown away).
  TempDir work("vmfix-work");
  Drives drives = prepare_drives(vm, !checking, work);
  guest::Session session(drives.drives, session_options(options));
  session.launch();
  step("appliance launched");
  guest::LibguestfsGuest appliance(session);
  guest::CachedGuest guest(appliance);  // each hive crosses the appliance once each way
  inspect::Facts facts = inspect::inspect_guest(
      session, drives.sources, checking ? inspect::MountMode::read_only : inspect::MountMode::read_write, &guest);
  step("guest inspected");
  rules::ImageFacts image = image_facts(vm);
  rules::Evaluation before = rules::evaluate({profile, facts, image, &guest, pointers(fixers)});
  step("rules checked");

  ordered_json fixer_results = ordered_json::array(), changes = ordered_json::array();
  std::optional<rules::Evaluation> after;
  std::vector<std::string> fixers_run;
  if (!checking) {
    // SELinux guests: what the fixers write from the appliance gets the policy's labels after.
    auto labeller = fixers::SelinuxLabeller::begin(appliance, facts);
    for (auto& fixer : fixers) {
      if (!fixer->applies(facts)) {
        fixer_results.push_back({{"id", fixer->id()}, {"status", "not-applicable"}});
        continue;
      }
      fixers_run.emplace_back(fixer->id());
      auto made = fixer->fix(guest, facts);
      if (!made.empty()) step(fmt::format("  fixer {}", fixer->id()));
      fixer_results.push_back({{"id", fixer->id()}, {"status", made.empty() ? "unchanged" : "changed"}});
      for (const auto& change : made) changes.push_back(change_json(change));
    }
    guest.flush();
    step("fixers applied");
    if (labeller) {
      for (const auto& change : labeller->label_changes(appliance)) changes.push_back(change_json(change));
      step("SELinux labels set");
    }
    inspect::refresh_facts(session, guest, facts);
    describe_output(*output, vm, options.in_place, image);
    after = rules::evaluate({profile, facts, image, &guest, pointers(fixers)});
    rules::account_for_fixers_run(*after, fixers_run);
    step("rules checked again");
  }
  session.shutdown();
  step("appliance shut down");

  const rules::Evaluation& final_state = after ? *after : before;
  ordered_json findings = ordered_json::array();
  for (size_t i = 0; i < final_state.results.size(); ++i)
    findings.push_back(finding_json(final_state.results[i], after ? &before.results[i] : nullptr));

  // In place, the image's own format is the user's to convert: only the guest's blockers hold the
  // edits back.
  const bool blocked = options.in_place ? blocked_by_guest(final_state) : final_state.verdict == "blocked";
  const bool write = writing && (!blocked || options.force);
  image::WriteResult written;
  if (write) {
    if (blocked) fmt::print(stderr, "vmfix: --force: writing {} although blockers remain; AWS will likely reject it\n", output->path.string());
    const bool progress = !options.json && options.verbosity > 0 && isatty(STDERR_FILENO) == 1;
    if (options.in_place) {
      try {
        image::commit_overlay(drives.overlays.front(), progress);
      } catch (const Error& e) {
        work.keep();  // the changes are only in the overlay now: the user must be able to finish
        throw Error(fmt::format("writing the changes into {} failed, it may be partly written; the changes are in {} "
                                "(finish with: qemu-img commit -f qcow2 {}): {}", vm.path.string(),
                                drives.overlays.front().string(), drives.overlays.front().string(), e.what()));
      }
      step("changes written into the source");
    } else {
      written = image::write_output(vm, drives.overlays, *output, guest_summary(facts, vm), progress);
      step("output written and verified");
    }
  }

  ordered_json report;
  report["schema"] = "vmfix.report/1";
  report["vmfix_version"] = VMFIX_VERSION;
  report["mode"] = checking ? "check" : options.dry_run ? "dry-run" : options.mode == Mode::fix ? "fix" : "all";
  report["profile"] = {{"id", profile.id}, {"title", profile.title}};
  report["verdict"] = final_state.verdict;
  if (after) report["verdict_before"] = before.verdict;
  report["image"] = image_json(vm);
  report["output"] = output ? ordered_json{{"path", output->path.string()}, {"format", output->format}, {"written", write}}
                            : ordered_json(nullptr);
  if (output && output->files.size() > 1) report["output"]["files"] = output->files;
  if (options.in_place) report["output"]["in_place"] = true;
  if (!written.removed_from_ovf.empty()) report["output"]["removed_from_ovf"] = written.removed_from_ovf;
  if (write && blocked) report["output"]["forced"] = true;
  report["findings"] = findings;
  if (!checking) {
    report["fixers"] = fixer_results;
    report["changes"] = changes;
  }
  report["guest"] = inspect::to_json(facts);
  report["appliance_launches"] = guest::Session::launch_count();
  emit(options, report);

  if (!options.json) {
    Styles styles{isatty(STDOUT_FILENO) == 1 && std::getenv("NO_COLOR") == nullptr};
    const std::string guest_name = facts.os_type == "windows" ? facts.product_name : fmt::format("{} {}", facts.distro, facts.product_name);
    fmt::print("{} ({}), profile {}\n", vm.path.string(), guest_name, profile.id);
    print_findings(findings, styles, options.verbosity);
    if (!checking) {
      fmt::print("\n{}\n", options.dry_run ? "planned changes (nothing written)" : "changes");
      for (const auto& change : changes) {
        fmt::print("  {:<14} {}\n  {:<14}   {} -> {}\n", change["fixer"].get<std::string>(), change["target"].get<std::string>(), "",
                   change["before"].get<std::string>(), change["after"].get<std::string>());
        if (change.contains("diff") && (options.dry_run || options.verbosity >= 2))
          for (std::string_view line : split_lines(change["diff"].get<std::string>())) fmt::print("      {}\n", line);
      }
      if (changes.empty()) fmt::print("  nothing to change\n");
    }
    fmt::print("\n{}\n", verdict_line(final_state.verdict, findings, styles));
    if (write && options.in_place) fmt::print("changed {} in place\n", output->path.string());
    else if (write) {
      for (const auto& file : output->files) fmt::print("wrote {} ({})\n", file.string(), output->format);
      for (const auto& removed : written.removed_from_ovf) fmt::print("  the OVF no longer has: {}\n", removed);
    } else if (writing) {
      fmt::print("not written: blockers remain (see above; --force writes anyway)\n");
    }
  }
  // --dry-run answers "what is there to fix": the verdict before; the others: the state left. In
  // place, a format AWS does not take (qcow2) is left for the user's own conversion: fixable.
  if (options.in_place && !options.dry_run && final_state.verdict == "blocked" && !blocked_by_guest(final_state))
    return kExitFixable;
  return rules::exit_code_of(options.dry_run ? before.verdict : final_state.verdict);
}

}  // namespace vmfix::cli

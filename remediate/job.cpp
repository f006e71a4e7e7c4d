#include "remediate/job.h"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>

#include "fixers/selinux_labels.h"
#include "fixers/table.h"
#include "guest/cached_guest.h"
#include "guest/libguestfs_guest.h"
#include "image/ovf.h"
#include "inspect/inspect.h"
#include "remediate/drives.h"
#include "support/error.h"
#include "support/files.h"

namespace vmfix::remediate {

namespace {

constexpr uint64_t kMaxAnswerFile = 16 << 20;  // answer files are kilobytes

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

// What the output will be, for the second look: its format and what its VM description holds.
void describe_output(const image::OutputSpec& output, const image::VmSource& vm, bool in_place,
                     rules::ImageFacts& image) {
  image.output_format = image::to_string(output.format);
  if (in_place) return;
  if (output.format != image::OutputFormat::ova) {
    image.ovf_nics = image.ovf_cdroms = image.ovf_floppies = -1;  // bare disks carry no drives
  } else {
    image.ovf_nics = vm.ovf ? std::min(vm.ovf->nics, 1) : 1;
    image.ovf_cdroms = image.ovf_floppies = 0;
  }
}

image::GuestSummary guest_summary(const inspect::Facts& facts, const image::VmSource& vm) {
  image::GuestSummary summary;
  summary.name = vm.path.stem().string();
  summary.os_type = facts.os_type == "windows" ? "windows" : "linux";
  summary.bits = facts.arch == "i386" || facts.arch == "i686" ? 32 : 64;
  return summary;
}

fixers::FixerSettings fixer_settings(const Request& request) {
  fixers::FixerSettings settings;
  if (!request.unattend_file) return settings;
  try {
    settings.unattend_xml = read_host_file(*request.unattend_file, kMaxAnswerFile);
  } catch (const Error& e) {
    throw BadInput(e.what());  // the user's file, not vmfix, is what is missing
  }
  settings.unattend_source = *request.unattend_file;
  image::check_answer_file(*settings.unattend_xml, *request.unattend_file);
  return settings;
}

// --fix picks fixers; --skip removes them; otherwise every fixer may run, except gpt-to-mbr under
// a profile that accepts GPT boot disks: converting those is the user's call (--fix gpt-to-mbr).
std::vector<fixers::Fixer*> chosen_fixers(const Request& request, const rules::Profile& profile,
                                          const std::vector<std::unique_ptr<fixers::Fixer>>& all) {
  auto named = [&](const std::vector<std::string>& ids, std::string_view id) {
    return std::find(ids.begin(), ids.end(), id) != ids.end();
  };
  for (const auto* ids : {&request.skip_ids, &request.fix_ids}) fixers::require_known(*ids);
  const bool needs_mbr = profile.limits.value("boot_partitioning", "mbr") == "mbr";
  std::vector<fixers::Fixer*> chosen;
  for (const auto& fixer : all) {
    const bool wanted = request.mode == Mode::fix
                            ? named(request.fix_ids, fixer->id())
                            : !named(request.skip_ids, fixer->id()) && (fixer->id() != "gpt-to-mbr" || needs_mbr);
    if (wanted) chosen.push_back(fixer.get());
  }
  return chosen;
}

// --in-place: the source itself, raw or qcow2 (formats qemu edits in place, that hold one disk).
image::OutputSpec in_place_target(const image::VmSource& vm, const Request& request) {
  const image::SourceImage& disk = vm.disks.front();
  const std::string format = vm.kind == "disk" ? std::string(image::to_string(disk.format)) : vm.kind;
  if (vm.kind != "disk" || (disk.format != image::Format::raw && disk.format != image::Format::qcow2))
    throw UsageError(
        fmt::format("--in-place edits raw and qcow2 images only; {} is {}: vmfix writes a new "
                    "image instead (-o)",
                    vm.path.string(), format));
  const auto kept = disk.format == image::Format::raw ? image::OutputFormat::raw : image::OutputFormat::qcow2;
  if (request.output_format && *request.output_format != kept)
    throw UsageError("--in-place keeps the image's format; --output-format does not apply");
  return {vm.path, kept, {vm.path}, {}};
}

// One run of the job. Each step says what it does; the state it leaves is the next step's input.
class Job {
 public:
  explicit Job(const Request& request) : request_(request), work_("vmfix-work") {}

  Report run() {
    open();
    launch();
    inspect();
    evaluate();
    if (editing()) {
      fix();
      recheck();
    }
    shut_down();
    if (writing() && (!report_.blocked() || request_.force)) write();
    report_.appliance_launches = guest::Session::launch_count();
    return std::move(report_);
  }

 private:
  bool editing() const { return request_.mode != Mode::check; }
  bool writing() const { return editing() && !request_.dry_run; }

  void step(std::string_view what) {
    if (!request_.on_step) return;
    std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - started_;
    request_.on_step(fmt::format("[{:6.1f} s] {}", elapsed.count(), what));
  }

  void note(const std::string& message) {
    if (request_.on_note) request_.on_note(message);
  }

  void warn(const std::string& message) {
    if (request_.on_warning) request_.on_warning(message);
  }

  // The profile, the fixers that may run, the VM and where its output goes: everything that can
  // be refused is refused here, before the appliance starts.
  void open() {
    report_.mode = request_.mode;
    report_.dry_run = request_.dry_run;
    report_.in_place = request_.in_place;
    report_.profile = &rules::load_profile(request_.profile);
    all_fixers_ = fixers::all_fixers(fixer_settings(request_));
    fixers_ = chosen_fixers(request_, *report_.profile, all_fixers_);
    report_.vm = image::open_vm(request_.image);
    if (request_.in_place) {
      report_.output = in_place_target(report_.vm, request_);
      if (!request_.dry_run)
        note(fmt::format("--in-place: {} itself will be changed (once nothing blocks the import)",
                         report_.vm.path.string()));
    } else if (editing()) {
      report_.output = image::choose_output(report_.vm, request_.output, request_.output_format);
      report_.output->scratch = request_.scratch;
      if (!request_.scratch.empty()) image::require_writable_directory(request_.scratch, "--scratch");
    }
  }

  // --check reads; the others edit overlays (for --dry-run, overlays that are thrown away).
  void launch() {
    drives_ = prepare_drives(report_.vm, editing(), work_);
    session_.emplace(drives_.drives, request_.session);
    session_->launch();
    appliance_.emplace(*session_);
    guest_.emplace(*appliance_);  // each hive crosses the appliance once each way
    step("appliance launched");
  }

  void inspect() {
    const auto mode = editing() ? inspect::MountMode::read_write : inspect::MountMode::read_only;
    report_.facts = inspect::inspect_guest(*session_, drives_.sources, mode, &*guest_);
    step("guest inspected");
  }

  void evaluate() {
    image_ = image_facts(report_.vm);
    report_.before = rules::evaluate(context());
    step("rules checked");
  }

  // Every chosen fixer that applies, in table order; on SELinux guests, what they wrote from the
  // appliance then gets the policy's labels.
  void fix() {
    auto labeller = fixers::SelinuxLabeller::begin(*appliance_, report_.facts);
    for (fixers::Fixer* fixer : fixers_) {
      if (!fixer->applies(report_.facts)) {
        report_.fixers.push_back({std::string(fixer->id()), FixerStatus::not_applicable});
        continue;
      }
      auto made = fixer->fix(*guest_, report_.facts);
      if (!made.empty()) step(fmt::format("  fixer {}", fixer->id()));
      report_.fixers.push_back(
          {std::string(fixer->id()), made.empty() ? FixerStatus::unchanged : FixerStatus::changed});
      std::move(made.begin(), made.end(), std::back_inserter(report_.changes));
    }
    guest_->flush();
    step("fixers applied");
    if (!labeller) return;
    auto labelled = labeller->label_changes(*appliance_);
    std::move(labelled.begin(), labelled.end(), std::back_inserter(report_.changes));
    step("SELinux labels set");
  }

  // The rules again, on what the fixers left and on the output to be written. A failure whose
  // fixer ran is one that fixer could not finish.
  void recheck() {
    inspect::refresh_facts(*session_, *guest_, report_.facts);
    describe_output(*report_.output, report_.vm, request_.in_place, image_);
    report_.after = rules::evaluate(context());
    std::vector<std::string> ran;
    for (const FixerRun& run : report_.fixers)
      if (run.status != FixerStatus::not_applicable) ran.push_back(run.id);
    rules::account_for_fixers_run(*report_.after, ran);
    step("rules checked again");
  }

  void shut_down() {
    session_->shutdown();
    step("appliance shut down");
  }

  // The output image, or the changes committed into the source (--in-place).
  void write() {
    report_.written = true;
    report_.forced = report_.blocked();
    if (report_.forced)
      warn(fmt::format("--force: writing {} although blockers remain; AWS will likely reject it",
                       report_.output->path.string()));
    if (request_.in_place) {
      commit_in_place();
      step("changes written into the source");
    } else {
      report_.write = image::write_output(report_.vm, drives_.overlays, *report_.output,
                                          guest_summary(report_.facts, report_.vm), request_.progress);
      step("output written and verified");
    }
  }

  void commit_in_place() {
    const std::filesystem::path& overlay = drives_.overlays.front();
    try {
      image::commit_overlay(overlay, request_.progress);
    } catch (const Error& e) {
      work_.keep();  // the changes are only in the overlay now: the user must be able to finish
      throw Error(
          fmt::format("writing the changes into {} failed, it may be partly written; the changes are "
                      "in {} (finish with: qemu-img commit -f qcow2 {}): {}",
                      report_.vm.path.string(), overlay.string(), overlay.string(), e.what()));
    }
  }

  rules::Context context() {
    std::vector<fixers::Fixer*> checkers;
    for (const auto& fixer : all_fixers_) checkers.push_back(fixer.get());
    return {*report_.profile, report_.facts, image_, &*guest_, fixers_, checkers};
  }

  const Request& request_;
  const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  Report report_;
  std::vector<std::unique_ptr<fixers::Fixer>> all_fixers_;  // every fixer: their checks answer rules
  std::vector<fixers::Fixer*> fixers_;                      // those --fix/--skip let run
  rules::ImageFacts image_;
  TempDir work_;
  Drives drives_;
  std::optional<guest::Session> session_;
  std::optional<guest::LibguestfsGuest> appliance_;
  std::optional<guest::CachedGuest> guest_;
};

}  // namespace

Report run(const Request& request) { return Job(request).run(); }

}  // namespace vmfix::remediate

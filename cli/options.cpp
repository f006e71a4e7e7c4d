#include "cli/options.h"

#include <fmt/core.h>

#include <boost/program_options.hpp>
#include <sstream>

#include "support/error.h"
#include "support/text.h"

namespace vmfix::cli {

namespace po = boost::program_options;

namespace {

void describe_modes(po::options_description& modes) {
  modes.add_options()("inspect", "report what the guest is: OS, disks, boot, network, hypervisor tools")(
      "check", "check the image against the AWS import requirements (read-only)")(
      "all", "check, apply every applicable fixer, re-check, write an import-ready image")(
      "fix", po::value<std::string>()->value_name("ID[,ID]"), "apply only these fixers")(
      "list-fixers", "list the fixers with one line each")(
      "list-rules", "list the rules of the profile (--profile) with their ids")("help,h", "show this help")(
      "version", "show the version");
}

void describe_options(po::options_description& options) {
  options.add_options()("json", "machine-readable output on stdout")(
      "report", po::value<std::string>()->value_name("FILE"), "also write the JSON report to FILE")(
      "output,o", po::value<std::string>()->value_name("PATH"), "where to write the fixed image")(
      "output-format", po::value<std::string>()->value_name("FMT"), "raw, vhd, vhd-fixed, vhdx, vmdk or ova")(
      "in-place", "edit the source image itself (raw and qcow2 only)")(
      "scratch", po::value<std::string>()->value_name("DIR"),
      "local directory for the output's intermediates (default: beside the output)")(
      "dry-run", "plan every change and print it, change nothing")(
      "skip", po::value<std::string>()->value_name("ID[,ID]"), "do not run these fixers")(
      "force", "write the output even when blockers remain (says so loudly)")(
      "unattend", po::value<std::string>()->value_name("FILE"), "answer file for the unattend fixer (XML)")(
      "profile", po::value<std::string>()->value_name("NAME")->default_value("aws-current"),
      "requirement profile: aws-current or aws-2017")(
      "accel", po::value<std::string>()->value_name("MODE")->default_value("auto"),
      "appliance acceleration: auto, kvm or tcg (also VMFIX_ACCEL)")(
      "verbose,v", "say more: step times; -vv also libguestfs's own messages and the appliance's console")(
      "trace,x", "trace the libguestfs calls")("quiet,q", "say only errors")(
      "aws-import-json", po::value<std::string>()->value_name("FILE"),
      "write the AWS import job's parameters (vmfix.aws-import/1) to FILE")(
      "s3", po::value<std::string>()->value_name("URL"), "where the disks will be uploaded: s3://BUCKET/PREFIX/")(
      "aws-route", po::value<std::string>()->value_name("ROUTE")->default_value("auto"),
      "auto, image (import-image) or snapshot (import-snapshot + register-image)")(
      "aws-byol", "a Windows server brings its own licence (LicenseType BYOL)");
}

// --aws-import-json and the options that shape its document.
// Where the image goes: -o, --output-format, --in-place, --scratch.
void read_output_options(const po::variables_map& vm, Options& options) {
  if (vm.count("output")) options.output = vm["output"].as<std::string>();
  if (vm.count("output-format"))
    options.output_format = image::output_format_named(vm["output-format"].as<std::string>());
  options.in_place = vm.count("in-place") > 0;
  if (vm.count("scratch")) {
    std::error_code error;
    options.scratch = std::filesystem::absolute(vm["scratch"].as<std::string>(), error);
    if (!std::filesystem::is_directory(options.scratch, error))
      throw UsageError(fmt::format("--scratch {}: {}", options.scratch.string(),
                                   error ? error.message() : std::string("not a directory")));
  }
}

// No path option is empty (an unset shell variable), and the files written after the job
// (--report, --aws-import-json) can be: a mistake there is told before the appliance runs, not
// after the image is written.
void check_paths(const po::variables_map& vm) {
  for (const char* name : {"output", "scratch", "unattend", "report", "aws-import-json"})
    if (vm.count(name) && vm[name].as<std::string>().empty())
      throw UsageError(
          fmt::format("{}: an empty path", name == std::string_view("output") ? "-o" : "--" + std::string(name)));
  if (vm.count("image"))
    for (const std::string& image : vm["image"].as<std::vector<std::string>>())
      if (image.empty()) throw UsageError("an empty image path");
  for (const char* name : {"report", "aws-import-json"})
    if (vm.count(name)) image::require_writable_file(vm[name].as<std::string>(), "--" + std::string(name));
}

void read_aws_options(const po::variables_map& vm, Options& options) {
  if (vm.count("aws-import-json")) options.aws_import_json = vm["aws-import-json"].as<std::string>();
  if (vm.count("s3")) options.s3 = vm["s3"].as<std::string>();
  options.aws_route = vm["aws-route"].as<std::string>();
  options.aws_byol = vm.count("aws-byol") > 0;
  const bool shaped = vm.count("s3") || !vm["aws-route"].defaulted() || options.aws_byol;
  if (shaped && !options.aws_import_json)
    throw UsageError("--s3, --aws-route and --aws-byol go with --aws-import-json");
  const bool remediating = options.mode == Mode::check || options.mode == Mode::all || options.mode == Mode::fix;
  if (options.aws_import_json && !remediating)
    throw UsageError("--aws-import-json goes with --all, --fix, --check or --dry-run");
}

}  // namespace

std::vector<std::string> split_ids(const std::string& list) {
  std::vector<std::string> ids;
  for (std::string_view id : split_list(list, ','))
    if (!id.empty()) ids.emplace_back(id);
  return ids;
}

std::string usage_text() {
  po::options_description modes("Modes (choose one)"), options("Options");
  describe_modes(modes);
  describe_options(options);
  std::ostringstream text;
  text << modes << "\n" << options << "\n";
  return "Usage: vmfix MODE [OPTIONS] IMAGE\n"
         "       vmfix batch [MODE] [OPTIONS] DIR-or-MANIFEST -o OUTDIR   (see vmfix batch --help)\n"
         "       vmfix aws-import JOB.json [--poll SECONDS] [--task ID]    (see vmfix aws-import --help)\n"
         "Make a powered-off VM image ready for AWS VM Import/Export, editing it offline.\n\n" +
         text.str() +
         "Exit codes: 0 ready, 1 fixable findings remain, 2 blocking findings, 64 usage error,\n"
         "65 bad input, 70 internal error.\n";
}

namespace {

// -vv is -v twice, and boost counts neither: the v's are counted here (into `verbose`) and the
// arguments keep one -v, for the -v/-q check.
std::vector<std::string> counting_verbose(int argc, char** argv, int& verbose) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const bool vs = arg.size() >= 2 && arg[0] == '-' && arg.find_first_not_of('v', 1) == std::string_view::npos;
    if (!vs && arg != "--verbose") {
      args.emplace_back(arg);
      continue;
    }
    if (verbose == 0) args.emplace_back("-v");
    verbose += vs ? static_cast<int>(arg.size()) - 1 : 1;
  }
  return args;
}

}  // namespace

Options parse_options(int argc, char** argv) {
  po::positional_options_description positional;
  positional.add("image", -1);
  po::options_description mode_table, described, hidden, all;
  describe_modes(mode_table);
  describe_options(described);
  hidden.add_options()("image", po::value<std::vector<std::string>>());
  all.add(mode_table).add(described).add(hidden);
  int verbose = 0;
  const std::vector<std::string> args = counting_verbose(argc, argv, verbose);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(all).positional(positional).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw UsageError(e.what());
  }

  Options options;
  std::vector<Mode> modes;
  if (vm.count("inspect")) modes.push_back(Mode::inspect);
  if (vm.count("check")) modes.push_back(Mode::check);
  if (vm.count("all")) modes.push_back(Mode::all);
  if (vm.count("fix")) modes.push_back(Mode::fix);
  if (vm.count("list-fixers")) modes.push_back(Mode::list_fixers);
  if (vm.count("list-rules")) modes.push_back(Mode::list_rules);
  if (vm.count("help") || vm.count("version")) {
    options.mode = vm.count("help") ? Mode::help : Mode::version;
    return options;
  }
  check_paths(vm);
  if (modes.size() > 1)
    throw UsageError("choose one mode: --inspect, --check, --all, --fix, --list-fixers or --list-rules");
  if (modes.empty()) {
    if (vm.count("dry-run"))
      modes.push_back(Mode::all);  // --dry-run alone plans --all
    else
      throw UsageError("no mode given (try --inspect IMAGE, or --help)");
  }
  options.mode = modes.front();

  if (vm.count("fix")) {
    options.fix_ids = split_ids(vm["fix"].as<std::string>());
    if (options.fix_ids.empty()) throw UsageError("--fix needs at least one fixer id");
  }
  if (vm.count("skip")) options.skip_ids = split_ids(vm["skip"].as<std::string>());
  if (vm.count("unattend")) options.unattend_file = vm["unattend"].as<std::string>();
  options.force = vm.count("force") > 0;
  if (vm.count("image")) options.images = vm["image"].as<std::vector<std::string>>();
  options.json = vm.count("json") > 0;
  if (vm.count("report")) options.report_file = vm["report"].as<std::string>();
  read_output_options(vm, options);
  options.dry_run = vm.count("dry-run") > 0;
  options.profile = vm["profile"].as<std::string>();
  options.accel = guest::parse_accel(vm["accel"].as<std::string>());
  read_aws_options(vm, options);
  if (vm.count("verbose") && vm.count("quiet")) throw UsageError("-v and -q contradict each other");
  options.verbosity = vm.count("quiet") ? 0 : verbose >= 2 ? 3 : verbose == 1 ? 2 : 1;
  options.trace = vm.count("trace") > 0;

  if (options.mode != Mode::list_fixers && options.mode != Mode::list_rules) {
    if (options.images.empty()) throw UsageError("no image given");
    if (options.images.size() > 1) throw UsageError("give one image (an OVA holds the disks of one VM)");
  }
  if (options.mode == Mode::inspect && (options.output || options.output_format || options.in_place || options.dry_run))
    throw UsageError("--inspect writes no image: -o, --output-format, --in-place and --dry-run do not apply");
  if (options.output && options.in_place) throw UsageError("-o and --in-place contradict each other");
  if (options.mode == Mode::check && (options.output || options.output_format || options.in_place || options.force))
    throw UsageError("--check is read-only: -o, --output-format, --in-place and --force do not apply");
  if (!options.scratch.empty() && (options.in_place || options.mode == Mode::check || options.mode == Mode::inspect))
    throw UsageError("--scratch goes with an output image (-o)");
  if (!options.skip_ids.empty() && options.mode != Mode::all && options.mode != Mode::check)
    throw UsageError("--skip goes with --all, --check or --dry-run");
  return options;
}

}  // namespace vmfix::cli

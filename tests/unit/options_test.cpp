#include "cli/options.h"

#include <gtest/gtest.h>

#include "support/error.h"

namespace vmfix::cli {

namespace {
Options parse(std::vector<std::string> args) {
  args.insert(args.begin(), "vmfix");
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  return parse_options(static_cast<int>(argv.size()), argv.data());
}

int usage_error(std::vector<std::string> args) {
  try {
    parse(std::move(args));
  } catch (const Error& e) {
    return e.exit_code();
  }
  return 0;
}
}  // namespace

TEST(Options, ModesAndOptions) {
  Options inspect = parse({"--inspect", "--json", "--report", "r.json", "-v", "disk.vmdk"});
  EXPECT_EQ(inspect.mode, Mode::inspect);
  EXPECT_TRUE(inspect.json);
  EXPECT_EQ(inspect.report_file, "r.json");
  EXPECT_EQ(inspect.verbosity, 2);
  EXPECT_EQ(inspect.images, (std::vector<std::string>{"disk.vmdk"}));
  EXPECT_EQ(inspect.profile, "aws-current");

  Options fix = parse({"--fix", "rtc-utc,rdp", "-o", "out.vmdk", "--output-format", "vmdk", "-q", "in.vmdk"});
  EXPECT_EQ(fix.mode, Mode::fix);
  EXPECT_EQ(fix.fix_ids, (std::vector<std::string>{"rtc-utc", "rdp"}));
  EXPECT_EQ(fix.output, "out.vmdk");
  EXPECT_EQ(fix.verbosity, 0);

  EXPECT_EQ(parse({"--all", "--profile", "aws-2017", "--accel", "tcg", "x.img"}).accel, guest::Accel::tcg);
  EXPECT_EQ(parse({"--dry-run", "x.img"}).mode, Mode::all);
  EXPECT_EQ(parse({"--check", "x.img"}).verbosity, 1);
  EXPECT_EQ(parse({"--check", "-v", "x.img"}).verbosity, 2);
  EXPECT_EQ(parse({"--check", "-vv", "x.img"}).verbosity, 3) << "-vv: libguestfs's own messages too";
  EXPECT_EQ(parse({"--check", "-v", "--verbose", "x.img"}).verbosity, 3);
  EXPECT_TRUE(parse({"--check", "-x", "x.img"}).trace);
  EXPECT_FALSE(parse({"--check", "x.img"}).trace);
  EXPECT_THROW(parse({"--check", "-vv", "-q", "x.img"}), UsageError);
  const Options aws = parse({"--all", "--aws-import-json", "j.json", "--s3", "s3://b/p/", "--aws-byol", "x.img"});
  EXPECT_EQ(aws.aws_import_json, "j.json");
  EXPECT_EQ(aws.s3, "s3://b/p/");
  EXPECT_TRUE(aws.aws_byol);
  EXPECT_THROW(parse({"--all", "--aws-route", "snapshot", "x.img"}), UsageError) << "no --aws-import-json";
  EXPECT_EQ(parse({"--list-fixers"}).mode, Mode::list_fixers);
  EXPECT_EQ(parse({"--version"}).mode, Mode::version);
  EXPECT_EQ(parse({"--help", "--all"}).mode, Mode::help);
}

TEST(Options, UsageErrorsExit64) {
  EXPECT_EQ(usage_error({"disk.vmdk"}), kExitUsage);                       // no mode
  EXPECT_EQ(usage_error({"--inspect"}), kExitUsage);                       // no image
  EXPECT_EQ(usage_error({"--inspect", "a.vmdk", "b.vmdk"}), kExitUsage);   // two images
  EXPECT_EQ(usage_error({"--inspect", "--check", "a.vmdk"}), kExitUsage);  // two modes
  EXPECT_EQ(usage_error({"--inspect", "-o", "x", "a.vmdk"}), kExitUsage);  // inspect writes nothing
  EXPECT_EQ(usage_error({"--all", "-o", "x", "--in-place", "a"}), kExitUsage);

  EXPECT_EQ(usage_error({"--all", "--accel", "warp", "a"}), kExitUsage);
  EXPECT_EQ(usage_error({"--all", "--frobnicate", "a"}), kExitUsage);
  EXPECT_EQ(usage_error({"--fix", ",", "a"}), kExitUsage);
  EXPECT_EQ(usage_error({"-v", "-q", "--inspect", "a"}), kExitUsage);
}

TEST(Options, UsageTextNamesEveryOptionAndExitCodes) {
  const std::string text = usage_text();
  for (const char* option :
       {"--inspect", "--check", "--all", "--fix", "--list-fixers", "--json", "--report", "--output", "--output-format",
        "--in-place", "--dry-run", "--profile", "--verbose", "--quiet", "--version", "--help", "65 bad input"})
    EXPECT_NE(text.find(option), std::string::npos) << option;
}

}  // namespace vmfix::cli

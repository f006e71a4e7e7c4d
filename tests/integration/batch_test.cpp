// vmfix batch on a library of the six fixture images (one corrupt): two workers, an interrupt,
// and a rerun that finishes only what did not finish; then a third run that has nothing to do.
#include <fmt/core.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "support/files.h"
#include "support/process.h"
#include "support/text.h"
#include "tests/integration/environment.h"
#include "tests/test_support.h"

namespace vmfix::test {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

json summary_of(const fs::path& out) { return json::parse(read_host_file(out / "summary.json")); }

const json& image_in(const json& summary, const std::string& key) {
  for (const json& image : summary["images"])
    if (image["image"] == key) return image;
  throw std::runtime_error("no " + key + " in the summary");
}

}  // namespace

TEST(Batch, TwoWorkersACorruptImageAnInterruptAndAResume) {
  TempDir scratch("vmfix-batch-it");
  const fs::path lib = scratch.path() / "library", out = scratch.path() / "out";
  for (const char* dir : {"library/east", "library/west"}) fs::create_directories(scratch.path() / dir);
  // Every fixture, Windows and Linux, in four formats, two of them under one file name in two
  // folders; and a VMDK cut short.
  fs::copy_file(fixture_image("win2012r2-vmware"), lib / "east/app.vhd");
  fs::copy_file(fixture_image("ubuntu1804-vmware"), lib / "west/app.vmdk");
  fs::copy_file(fixture_image("centos7-vmware"), lib / "centos.vmdk");
  fs::copy_file(fixture_image("debian11-gpt-bios"), lib / "debian.qcow2");
  fs::copy_file(fixture_image("rhel8-uefi"), lib / "rhel.vhdx");
  const std::string ubuntu = read_host_file(lib / "west/app.vmdk");
  write_file(lib / "truncated.vmdk", ubuntu.substr(0, ubuntu.size() / 2));
  // A quick fixer that changes the Windows guest and leaves the Linux ones alone; --force writes
  // every output whatever else the guests need.
  // Each image's AWS import document goes to OUTDIR/aws-import/ and the summary names it.
  const std::vector<std::string> args{
      "batch",      "--fix", "rtc-utc",   "--force", "-j", "2", "--aws-import", "--s3", "s3://lib-bucket/batch/",
      lib.string(), "-o",    out.string()};

  // Interrupted once the first image is done: the others are left running or not started.
  {
    VmfixProcess batch(args, {cache_environment()});
    for (int i = 0; i < 6000; ++i) {
      if (fs::exists(out / "reports") && !fs::is_empty(out / "reports")) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    // A report is written when its vmfix ends; give the batch a moment to journal it.
    std::this_thread::sleep_for(std::chrono::seconds(1));
    ::kill(batch.pid(), SIGTERM);
    CliResult result = batch.wait();
    EXPECT_EQ(result.exit_status, 128 + SIGTERM) << result.err;
  }
  // Which images finished before the interrupt, and when their outputs were written.
  std::map<std::string, fs::file_time_type> finished;
  {
    std::string sql = run_host_checked({"sqlite3", (out / "journal.sqlite").string(),
                                        "SELECT key, state, output FROM images WHERE state IN ('done', 'failed')"});
    for (std::string_view line : split_lines(sql)) {
      const std::string key(line.substr(0, line.find('|')));
      const std::string output(line.substr(line.rfind('|') + 1));
      finished[key] = output.empty() ? fs::file_time_type{} : fs::last_write_time(output);
    }
  }
  ASSERT_FALSE(finished.empty()) << "the interrupt came before anything finished";
  ASSERT_LT(finished.size(), 6u) << "the interrupt came after everything finished";

  CliResult resumed = run_vmfix(args, {cache_environment()});
  EXPECT_EQ(resumed.exit_status, 65) << "one image is corrupt: " << resumed.err;
  json summary = summary_of(out);
  EXPECT_EQ(summary["totals"]["images"], 6);
  EXPECT_EQ(summary["totals"]["done"], 5);
  EXPECT_EQ(summary["totals"]["failed"], 1);
  EXPECT_EQ(summary["totals"]["reused"], static_cast<int>(finished.size()));
  for (const auto& [key, written] : finished) {
    EXPECT_TRUE(image_in(summary, key)["reused"].get<bool>()) << key << " was redone";
    if (written != fs::file_time_type{}) {
      EXPECT_EQ(fs::last_write_time(image_in(summary, key)["output"].get<std::string>()), written)
          << key << " was rewritten";
    }
  }
  const json& broken = image_in(summary, "truncated.vmdk");
  EXPECT_EQ(broken["state"], "failed");
  EXPECT_EQ(broken["exit_code"], 65);
  EXPECT_NE(broken["error"].get<std::string>().find("truncated"), std::string::npos) << broken["error"];
  const json& east = image_in(summary, "east/app.vhd");
  EXPECT_EQ(east["state"], "done");
  EXPECT_EQ(east["output"], (out / "east_app-vmfix.vhd").string());
  EXPECT_EQ(image_in(summary, "west/app.vmdk")["output"], (out / "west_app-vmfix.vmdk").string());
  EXPECT_EQ(image_in(summary, "debian.qcow2")["output"], (out / "debian-vmfix.vmdk").string()) << "qcow2 becomes VMDK";
  EXPECT_EQ(image_in(summary, "rhel.vhdx")["output"], (out / "rhel-vmfix.vhdx").string());
  int outputs = 0;
  for (const auto& entry : fs::directory_iterator(out))
    outputs += entry.path().filename().string().find("-vmfix.") != std::string::npos;
  EXPECT_EQ(outputs, 5);
  ASSERT_TRUE(east["aws_import"].is_string()) << east.dump(2);
  const json east_import = json::parse(read_host_file(east["aws_import"].get<std::string>()));
  EXPECT_EQ(east_import["import_image"]["Platform"], "Windows");
  EXPECT_EQ(east_import["import_image"]["DiskContainers"][0]["Format"], "VHD");
  EXPECT_EQ(east_import["import_image"]["DiskContainers"][0]["UserBucket"]["S3Key"], "batch/east_app-vmfix.vhd");
  EXPECT_TRUE(broken["aws_import"].is_null()) << "no document for an image that could not be read";
  EXPECT_GE(east["changes"].get<int>(), 1);
  EXPECT_GT(east["peak_rss_mib"].get<int>(), 100) << "the appliance's memory is counted";
  EXPECT_TRUE(fs::exists(out / "reports/east_app.json"));
  EXPECT_TRUE(fs::exists(out / "logs/truncated.log"));
  // The current profile accepts GPT: --all leaves the Debian fixture's table alone.
  json debian = json::parse(read_host_file(out / "reports/debian.json"));
  EXPECT_EQ(debian["guest"]["disks"][0]["partition_table"], "gpt");
  for (const json& fixer : debian["fixers"]) EXPECT_NE(fixer["id"], "gpt-to-mbr");
  const std::string csv = read_host_file(out / "summary.csv");
  EXPECT_EQ(split_lines(csv).size(), 7u) << csv;
  EXPECT_TRUE(csv.starts_with("image,state,verdict,exit_code,findings,changes,output,seconds,peak_rss_mib,error"))
      << csv;

  // Nothing changed: nothing to do. A touched source whose content is the same is not redone.
  fs::last_write_time(lib / "west/app.vmdk", fs::file_time_type::clock::now());
  CliResult again = run_vmfix(args, {cache_environment()});
  EXPECT_EQ(again.exit_status, 65) << again.err;
  EXPECT_NE(again.err.find("0 to do"), std::string::npos) << again.err;
  EXPECT_EQ(summary_of(out)["totals"]["reused"], 6);
}

}  // namespace vmfix::test

namespace vmfix::test {

// What makes a finished image count as finished: the same options and the same files. A library of
// bad inputs shows it without an appliance (each fails as soon as it is opened).
TEST(Batch, OtherOptionsOrAChangedDiskMeanTheImageIsDoneAgain) {
  TempDir scratch("vmfix-batch-it");
  const fs::path lib = scratch.path() / "library", out = scratch.path() / "out";
  fs::create_directories(lib / "vm");
  write_file(lib / "broken.vmdk", "KDMV but nothing after it");
  write_file(lib / "vm/disk1.vmdk", "not a disk either");
  write_file(lib / "vm/vm.ovf", ovf_descriptor({{"disk1.vmdk", 17}}));
  auto run = [&](const std::vector<std::string>& mode) {
    std::vector<std::string> args{"batch"};
    args.insert(args.end(), mode.begin(), mode.end());
    args.insert(args.end(), {lib.string(), "-o", out.string()});
    return run_vmfix(args, {cache_environment()});
  };
  CliResult first = run({"--check"});
  EXPECT_EQ(first.exit_status, 65) << first.err;
  EXPECT_NE(first.err.find("2 images, 2 to do"), std::string::npos) << first.err;
  CliResult same = run({"--check"});
  EXPECT_NE(same.err.find("2 images, 0 to do"), std::string::npos) << same.err;
  CliResult other = run({"--all"});
  EXPECT_NE(other.err.find("2 images, 2 to do"), std::string::npos) << "other options, other results: " << other.err;
  write_file(lib / "vm/disk1.vmdk", "still not a disk, but another one");
  CliResult changed = run({"--all"});
  EXPECT_NE(changed.err.find("2 images, 1 to do"), std::string::npos) << "the OVF's disk changed: " << changed.err;
  json summary = summary_of(out);
  EXPECT_EQ(summary["totals"]["failed"], 2);
  EXPECT_EQ(summary["totals"]["reused"], 1);
  // The library is not its own output directory.
  CliResult inside = run_vmfix({"batch", "--check", lib.string(), "-o", lib.string()});
  EXPECT_EQ(inside.exit_status, 64) << inside.err;
}

}  // namespace vmfix::test

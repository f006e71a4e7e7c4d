// vmfix batch as a cluster meets it: a guest whose package manager never returns (--image-timeout,
// attempts, --fail-on retryable, --status), and an output directory on a filesystem where SQLite's
// WAL mode fails (a FUSE mount with direct I/O, as network filesystems behave for shared memory)
// read by runs with different shard counts.
#include <fmt/core.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "fixtures/fixture.h"
#include "support/files.h"
#include "support/process.h"
#include "tests/integration/environment.h"
#include "tests/test_support.h"

namespace vmfix::test {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

json read_json(const fs::path& file) { return json::parse(read_host_file(file)); }

const json& image_named(const json& summary, const std::string& key) {
  for (const json& image : summary["images"])
    if (image["image"] == key) return image;
  throw std::runtime_error("no " + key + " in the summary");
}

// The Ubuntu fixture with a dpkg that waits forever: vmware-tools's `dpkg --purge open-vm-tools`
// hangs inside the appliance, as a guest's broken package manager would.
fs::path hung_dpkg_guest() {
  fixtures::FixtureSpec spec = fixtures::find_fixture("ubuntu1804-vmware");
  spec.name = "ubuntu1804-hung-dpkg";
  spec.description = "Ubuntu 18.04 whose /usr/bin/dpkg never returns";
  spec.format = "qcow2";
  spec.files.push_back({"/usr/bin/dpkg", fixtures::elf64_x86_64_waiting_program(), 0755});
  return fixtures::build({spec}, VMFIX_FIXTURE_CACHE).front();
}

bool qemu_running_on(const fs::path& directory) {
  return run_host({"pgrep", "-f", "qemu.*" + directory.string()}).exit_status == 0;
}

// A FUSE view of `source` at `target` with direct I/O: no shared mmap, so SQLite's WAL cannot
// make its -shm index there. Unmounted when it goes.
class DirectIoMount {
 public:
  DirectIoMount(const fs::path& source, const fs::path& target) : target_(target) {
    mounted_ = run_host({"bindfs", "-o", "direct_io", source.string(), target.string()}).exit_status == 0;
  }
  ~DirectIoMount() {
    if (mounted_) run_host({"fusermount", "-u", target_.string()});
  }
  DirectIoMount(const DirectIoMount&) = delete;
  DirectIoMount& operator=(const DirectIoMount&) = delete;
  bool mounted() const { return mounted_; }

 private:
  fs::path target_;
  bool mounted_ = false;
};

}  // namespace

TEST(BatchCluster, AHungGuestCommandTimesOutAndIsGivenUpAfterItsAttempts) {
  TempDir scratch("vmfix-batch-cluster");
  const fs::path lib = scratch.path() / "library", out = scratch.path() / "out";
  fs::create_directories(lib);
  fs::copy_file(hung_dpkg_guest(), lib / "hung.qcow2");
  write_file(lib / "broken.vmdk", "KDMV and nothing after it");
  const std::vector<std::string> args{"batch",
                                      "--fix",
                                      "vmware-tools",
                                      "--image-timeout",
                                      "75s",
                                      "--max-attempts",
                                      "2",
                                      "--fail-on",
                                      "retryable",
                                      "-j",
                                      "2",
                                      lib.string(),
                                      "-o",
                                      out.string()};

  // First run: the hung image is stopped at its deadline and recorded as a timeout; the batch
  // goes on and ends. A retry would help (attempts left): exit 75, so the cluster retries the task.
  CliResult first = run_vmfix(args, {cache_environment()});
  EXPECT_EQ(first.exit_status, 75) << first.err;
  json summary = read_json(out / "summary.json");
  const json& hung = image_named(summary, "hung.qcow2");
  EXPECT_EQ(hung["state"], "timeout") << hung.dump();
  EXPECT_EQ(hung["attempts"], 1);
  EXPECT_TRUE(hung["retry"].get<bool>());
  EXPECT_NE(hung["error"].get<std::string>().find("--image-timeout 75 s"), std::string::npos) << hung["error"];
  EXPECT_GE(hung["seconds"].get<double>(), 75);
  EXPECT_LT(hung["seconds"].get<double>(), 75 + 30) << "stopped within the grace period";
  const json& broken = image_named(summary, "broken.vmdk");
  EXPECT_EQ(broken["state"], "failed");
  EXPECT_FALSE(broken["retry"].get<bool>()) << "a bad input is a result, not worth a retry";
  EXPECT_EQ(summary["totals"]["timeout"], 1);
  EXPECT_EQ(summary["totals"]["retry"], 1);
  // The worker cleaned up: no appliance left, no output or partial file, the source as it was.
  std::this_thread::sleep_for(std::chrono::seconds(3));
  EXPECT_FALSE(qemu_running_on(lib)) << "an appliance outlived its stopped worker";
  for (const auto& entry : fs::directory_iterator(out)) {
    const std::string name = entry.path().filename().string();
    EXPECT_TRUE(name == "reports" || name == "logs" || name.starts_with("journal") || name.starts_with("summary"))
        << entry.path();
  }
  const std::string log = read_host_file(out / "logs/hung.log");
  EXPECT_NE(log.find("interrupted"), std::string::npos) << "the worker was told to stop and cleaned up: " << log;

  // --status reads the journal the run left.
  CliResult status = run_vmfix({"batch", "--status", out.string(), "--json"});
  ASSERT_EQ(status.exit_status, 0) << status.err;
  const json progress = json::parse(status.out);
  EXPECT_EQ(progress["schema"], "vmfix.batch-status/1");
  EXPECT_EQ(progress["totals"]["images"], 2);
  EXPECT_EQ(progress["totals"]["timeout"], 1);
  EXPECT_EQ(progress["totals"]["failed"], 1);
  EXPECT_EQ(progress["totals"]["left"], 0);
  EXPECT_TRUE(progress["shards"][0]["ended"].get<bool>());

  // Second run: the second attempt times out too; no attempts left, so nothing is worth a retry
  // and the task succeeds (its results are in the summary).
  CliResult second = run_vmfix(args, {cache_environment()});
  EXPECT_EQ(second.exit_status, 0) << second.err;
  EXPECT_NE(second.err.find("2 images, 1 to do"), std::string::npos) << second.err;
  summary = read_json(out / "summary.json");
  EXPECT_EQ(image_named(summary, "hung.qcow2")["attempts"], 2);
  EXPECT_FALSE(image_named(summary, "hung.qcow2")["retry"].get<bool>());

  // Third run: the poisoned image is not tried again.
  CliResult third = run_vmfix(args, {cache_environment()});
  EXPECT_EQ(third.exit_status, 0) << third.err;
  EXPECT_NE(third.err.find("2 images, 0 to do"), std::string::npos) << third.err;
  summary = read_json(out / "summary.json");
  EXPECT_TRUE(image_named(summary, "hung.qcow2")["error"].get<std::string>().starts_with("given up after 2 attempts"))
      << image_named(summary, "hung.qcow2");
  // The default policy still says that not every image is ready.
  CliResult strict = run_vmfix({"batch", "--fix", "vmware-tools", "--image-timeout", "75s", "--max-attempts", "2", "-j",
                                "2", lib.string(), "-o", out.string()},
                               {cache_environment()});
  EXPECT_EQ(strict.exit_status, 65) << strict.err;
}

TEST(BatchCluster, TheJournalWorksWhereWalIsRefusedAndAcrossShardCounts) {
  if (::access("/dev/fuse", R_OK | W_OK) != 0 || run_host({"which", "bindfs"}).exit_status != 0)
    GTEST_SKIP() << "no /dev/fuse or no bindfs (scripts/install-deps.sh installs it)";
  TempDir scratch("vmfix-batch-cluster");
  const fs::path backing = scratch.path() / "backing", shared = scratch.path() / "shared";
  const fs::path lib = scratch.path() / "library";
  fs::create_directories(backing);
  fs::create_directories(shared);
  fs::create_directories(lib / "vm");
  DirectIoMount mount(backing, shared);
  if (!mount.mounted()) GTEST_SKIP() << "FUSE mounts are not allowed here";
  // The premise: SQLite's WAL mode fails on this directory, its rollback journal does not.
  EXPECT_NE(
      run_host({"sqlite3", (shared / "wal.db").string(), "PRAGMA journal_mode=WAL; CREATE TABLE t (x)"}).exit_status,
      0);
  EXPECT_EQ(run_host({"sqlite3", (shared / "plain.db").string(), "CREATE TABLE t (x)"}).exit_status, 0);

  // Bad inputs only, so no appliance is needed: each is a result the journal keeps.
  write_file(lib / "a.vmdk", "KDMV and nothing after it");
  write_file(lib / "b.vhd", std::string(1024, 'x'));
  write_file(lib / "c.img", "");
  write_file(lib / "vm/disk1.vmdk", "not a disk");
  write_file(lib / "vm/vm.ovf", ovf_descriptor({{"disk1.vmdk", 10}}));
  const fs::path out = shared / "out";
  auto run = [&](const std::vector<std::string>& extra) {
    std::vector<std::string> args{"batch", "--check", "--fail-on", "failed", lib.string(), "-o", out.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_vmfix(args, {cache_environment()});
  };
  // Two shards, then three, then none: what the two did is not done again.
  for (const char* shard : {"0/2", "1/2"}) {
    CliResult result = run({"--shard", shard});
    EXPECT_EQ(result.exit_status, 65) << result.err;
  }
  for (const char* shard : {"0/3", "1/3", "2/3"}) {
    CliResult result = run({"--shard", shard});
    EXPECT_NE(result.err.find(", 0 to do"), std::string::npos) << shard << ": " << result.err;
  }
  CliResult whole = run({});
  EXPECT_EQ(whole.exit_status, 65) << whole.err;
  EXPECT_NE(whole.err.find("4 images, 0 to do"), std::string::npos) << whole.err;
  const json summary = read_json(out / "summary.json");
  EXPECT_EQ(summary["totals"]["failed"], 4);
  EXPECT_EQ(summary["totals"]["reused"], 4);
  // No WAL, shared-memory or leftover temporary files on the shared filesystem.
  for (const auto& entry : fs::directory_iterator(out)) {
    const std::string name = entry.path().filename().string();
    EXPECT_FALSE(name.ends_with("-wal") || name.ends_with("-shm") || name.starts_with(".journal")) << name;
  }
  CliResult status = run_vmfix({"batch", "--status", out.string(), "--json"});
  ASSERT_EQ(status.exit_status, 0) << status.err;
  EXPECT_EQ(json::parse(status.out)["shards"].size(), 6u) << status.out;
}

}  // namespace vmfix::test

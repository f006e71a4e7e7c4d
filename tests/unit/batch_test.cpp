// vmfix batch without an appliance: what a library holds, manifests in three forms, shards,
// the shard from Slurm's and Kubernetes' environment, the journal, durations, per-rule totals and
// the exit-code policies.
#include "batch/batch.h"

#include <fmt/core.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <optional>
#include <set>

#include "batch/journal.h"
#include "batch/library.h"
#include "batch/limits.h"
#include "batch/summary.h"
#include "guest/session.h"
#include "support/error.h"
#include "support/files.h"
#include "support/process.h"
#include "tests/test_support.h"

namespace vmfix::batch {
namespace fs = std::filesystem;

namespace {

std::vector<std::string> keys_of(const std::vector<LibraryImage>& images) {
  std::vector<std::string> keys;
  for (const LibraryImage& image : images) keys.push_back(image.key);
  return keys;
}

// Sets (or, with nullopt, unsets) variables for a scope, and puts back what was there.
class ScopedEnv {
 public:
  explicit ScopedEnv(std::vector<std::pair<std::string, std::optional<std::string>>> values) {
    for (auto& [name, value] : values) {
      const char* before = std::getenv(name.c_str());
      saved_.push_back({name, before ? std::optional<std::string>(before) : std::nullopt});
      if (value)
        ::setenv(name.c_str(), value->c_str(), 1);
      else
        ::unsetenv(name.c_str());
    }
  }
  ~ScopedEnv() {
    for (auto& [name, value] : saved_) {
      if (value)
        ::setenv(name.c_str(), value->c_str(), 1);
      else
        ::unsetenv(name.c_str());
    }
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

using Vars = std::vector<std::pair<std::string, std::optional<std::string>>>;

}  // namespace

TEST(BatchLibrary, ImagesByContentOrNameDisksOfAnOvfBelongToIt) {
  TempDir scratch("vmfix-batch-test");
  const fs::path lib = scratch.path() / "lib";
  for (const char* dir : {"lib/a", "lib/b", "lib/vm", "lib/.hidden", "lib/out", "lib/flat"})
    fs::create_directories(scratch.path() / dir);
  auto image = [&](const std::string& name, const std::string& format) {
    run_host_checked({"qemu-img", "create", "-q", "-f", format, (lib / name).string(), "4M"});
  };
  image("a/disk.vmdk", "vmdk");
  image("b/disk.vmdk", "vmdk");  // the same name in another folder: its own output name
  image("server", "qcow2");      // no extension: known by its content
  image("win.vhd", "vpc");
  image("vm/disk1.vmdk", "vmdk");  // named by vm.ovf: part of that image
  image(".hidden/x.qcow2", "qcow2");
  image("out/previous-vmfix.vmdk", "vmdk");  // the output directory is not scanned
  run_host_checked({"qemu-img", "create", "-q", "-f", "vmdk", "-o", "subformat=monolithicFlat",
                    (lib / "flat/big.vmdk").string(), "4M"});
  test::write_file(lib / "vm/vm.ovf", test::ovf_descriptor({{"disk1.vmdk", 1}}));
  test::write_file(lib / "vm/vm.mf", "SHA256(vm.ovf)= 00\n");
  test::write_file(lib / "broken.vmdk", "not a disk at all");  // by name: processed, and it will fail
  test::write_file(lib / "notes.txt", "inventory notes");

  auto images = scan_directory(lib, lib / "out");
  EXPECT_EQ(keys_of(images), (std::vector<std::string>{"a/disk.vmdk", "b/disk.vmdk", "broken.vmdk", "flat/big.vmdk",
                                                       "server", "vm/vm.ovf", "win.vhd"}));
  EXPECT_EQ(images[0].name, "a_disk");
  EXPECT_EQ(images[1].name, "b_disk");
  EXPECT_TRUE(images[4].path.is_absolute());
  EXPECT_EQ(default_output_format(lib / "server"), "vmdk") << "qcow2 comes back as VMDK";
  EXPECT_EQ(default_output_format(lib / "win.vhd"), "vhd");
  EXPECT_EQ(default_output_format(lib / "vm/vm.ovf"), "ova");
  EXPECT_THROW(scan_directory(lib / "win.vhd", {}), BadInput);
}

TEST(BatchLibrary, ManifestsAsTextJsonAndCsv) {
  TempDir scratch("vmfix-batch-test");
  const fs::path dir = scratch.path();
  test::write_file(dir / "list.txt", "# the web tier\nweb1.vmdk\n\n/srv/images/db.vhd\n");
  auto text = read_manifest(dir / "list.txt");
  ASSERT_EQ(text.size(), 2u);
  EXPECT_EQ(text[0].path, dir / "web1.vmdk");
  EXPECT_EQ(text[1].path, "/srv/images/db.vhd");

  test::write_file(
      dir / "list.json",
      R"([ "a.vmdk", {"image": "sub/b.ova", "output_format": "vhd", "skip": "unattend", "force": true} ])");
  auto json = read_manifest(dir / "list.json");
  ASSERT_EQ(json.size(), 2u);
  EXPECT_EQ(json[1].path, dir / "sub/b.ova");
  EXPECT_EQ(json[1].name, "sub_b");
  EXPECT_EQ(json[1].options.output_format, "vhd");
  EXPECT_EQ(json[1].options.skip, "unattend");
  EXPECT_EQ(json[1].options.force, true);
  EXPECT_FALSE(json[0].options.force.has_value());

  test::write_file(dir / "list.csv", "image,output_format,profile,force\n\"x, y.vmdk\",vmdk,aws-2017,no\nz.vhd,,,\n");
  auto csv = read_manifest(dir / "list.csv");
  ASSERT_EQ(csv.size(), 2u);
  EXPECT_EQ(csv[0].key, "x, y.vmdk");
  EXPECT_EQ(csv[0].options.profile, "aws-2017");
  EXPECT_EQ(csv[0].options.force, false);
  EXPECT_FALSE(csv[1].options.output_format.has_value());

  test::write_file(dir / "bad.json", R"([ {"path": "a.vmdk"} ])");
  EXPECT_THROW(read_manifest(dir / "bad.json"), BadInput);
  // An output format vmfix does not write is told when the manifest is read, naming the entry.
  test::write_file(dir / "qcow2.json", R"([ {"image": "a.vmdk", "output_format": "qcow2"} ])");
  EXPECT_THROW(read_manifest(dir / "qcow2.json"), BadInput);
  test::write_file(dir / "qcow2.csv", "image,output_format\nb.vmdk,qcow2\n");
  try {
    read_manifest(dir / "qcow2.csv");
    ADD_FAILURE() << "a CSV row asking for qcow2 was accepted";
  } catch (const BadInput& e) {
    EXPECT_NE(std::string(e.what()).find("qcow2.csv:2"), std::string::npos) << e.what();
  }
  test::write_file(dir / "twice.txt", "a.vmdk\na.vmdk\n");
  EXPECT_THROW(read_manifest(dir / "twice.txt"), BadInput);
  test::write_file(dir / "broken.json", "[ \"a.vmdk\", ");
  EXPECT_THROW(read_manifest(dir / "broken.json"), BadInput);
  test::write_file(dir / "deep.json", "[\"a.vmdk\", " + std::string(100000, '[') + std::string(100001, ']'));
  EXPECT_THROW(read_manifest(dir / "deep.json"), BadInput);
  EXPECT_THROW(read_manifest(dir / "missing.txt"), BadInput);
  // Two paths that flatten to one name get distinct output names.
  test::write_file(dir / "clash.txt", "a/b_c.vmdk\na_b/c.vmdk\n");
  auto clash = read_manifest(dir / "clash.txt");
  EXPECT_NE(clash[0].name, clash[1].name);
  EXPECT_TRUE(clash[0].name.starts_with("a_b_c-"));
  // The names hang on the keys alone: listed the other way round, each keeps its name.
  test::write_file(dir / "clash2.txt", "a_b/c.vmdk\na/b_c.vmdk\n");
  auto reversed = read_manifest(dir / "clash2.txt");
  EXPECT_EQ(reversed[1].name, clash[0].name);
  EXPECT_EQ(reversed[0].name, clash[1].name);
}

// Manifests of any content: the images, or one BadInput naming the manifest. No control
// character in a path (a NUL would cut the path short where the system reads it, a newline would
// split the message), and never two images with one set of outputs.
TEST(BatchLibrary, ManifestsOfAnyContentAreReadOrRefusedByName) {
  const fs::path manifest = "/library/list.json";
  auto refused = [&](const std::string& text) {
    try {
      parse_manifest(text, manifest);
      ADD_FAILURE() << "read: " << text;
    } catch (const BadInput& e) {
      EXPECT_TRUE(std::string(e.what()).starts_with("/library/list.json")) << e.what();
      EXPECT_EQ(std::string(e.what()).find_first_of("\r\n"), std::string::npos) << e.what();
    }
  };
  refused(R"(["/etc/shadow\u0000.vmdk"])");
  refused(R"([{"image": "web\nserver.vmdk", "output_format": "qcow2"}])");
  refused("a.vmdk\nb\x01.vmdk\n");
  refused(R"([{"image": 5}])");
  refused(R"([{"image": "a.vmdk", "force": "yes"}])");
  refused(R"([[["a.vmdk"]]])");
  refused(R"([{"image": "a.vmdk", "output_format": "q\ncow2"}])");
  refused("image,force\na.vmdk,\"ye\rs\"\n");  // a quoted CSV field keeps its carriage return (fuzz finding)
  try {
    parse_manifest(R"(["a.vmdk", "b\u0000.vmdk"])", manifest);
    ADD_FAILURE() << "a NUL in a path was read";
  } catch (const BadInput& e) {
    EXPECT_EQ(std::string(e.what()), "/library/list.json: entry 2: an image path with a control character");
  }
  // "x.vmdk" and "x.vhd" both flatten to "x" and each takes its key's hash; a third key spelling
  // out one of those hashed names would have had the same outputs.
  const std::vector<LibraryImage> two = parse_manifest("x.vmdk\nx.vhd\n", manifest);
  ASSERT_EQ(two.size(), 2u);
  refused("x.vmdk\nx.vhd\n" + two[0].name + ".ova\n");
  // A CSV header after blank lines is still the header, and rows are numbered as the file's lines.
  const std::vector<LibraryImage> csv = parse_manifest("\n\nimage,force\na.vmdk,yes\n", manifest);
  ASSERT_EQ(csv.size(), 1u);
  EXPECT_EQ(csv[0].options.force, true);
  // A CSV field cannot span lines: an open quote is refused, not the next line read as an image.
  refused("image,\"force\nx\"\n");
  try {
    parse_manifest("image,profile\na.vmdk,\"aws\nb.vmdk\"\n", manifest);
    ADD_FAILURE() << "a field across two lines was read";
  } catch (const BadInput& e) {
    EXPECT_EQ(std::string(e.what()), "/library/list.json:2: a quoted field that does not end on its line");
  }
  try {
    parse_manifest("\n\nimage,force\na.vmdk,perhaps\n", manifest);
    ADD_FAILURE() << "force=perhaps was read";
  } catch (const BadInput& e) {
    EXPECT_NE(std::string(e.what()).find("list.json:4"), std::string::npos) << e.what();
  }
}

TEST(BatchLibrary, ShardsSplitTheLibraryExactlyAndStably) {
  std::vector<LibraryImage> images;
  for (int i = 0; i < 40; ++i)
    images.push_back({"/x", fmt::format("image-{}.vmdk", i), fmt::format("image-{}", i), {}, ""});
  std::set<std::string> seen;
  for (int shard = 0; shard < 3; ++shard)
    for (const auto& image : shard_of(images, shard, 3)) EXPECT_TRUE(seen.insert(image.key).second) << image.key;
  EXPECT_EQ(seen.size(), images.size());
  // A new image does not move the others to another shard.
  auto before = keys_of(shard_of(images, 1, 3));
  images.push_back({"/x", "new.vmdk", "new", {}, ""});
  auto after = keys_of(shard_of(images, 1, 3));
  for (const auto& key : before) EXPECT_NE(std::find(after.begin(), after.end(), key), after.end()) << key;
}

TEST(BatchOptions, ShardFromSlurmKubernetesOrTheCommandLine) {
  // Whatever scheduler runs this test, it sees none.
  ScopedEnv none(Vars{{"SLURM_ARRAY_TASK_ID", std::nullopt},
                      {"SLURM_ARRAY_TASK_MIN", std::nullopt},
                      {"SLURM_ARRAY_TASK_COUNT", std::nullopt},
                      {"SLURM_ARRAY_TASK_STEP", std::nullopt},
                      {"JOB_COMPLETION_INDEX", std::nullopt},
                      {"VMFIX_SHARD_COUNT", std::nullopt},
                      {"JOB_COMPLETIONS", std::nullopt}});
  EXPECT_FALSE(shard_from_environment().has_value());
  {
    ScopedEnv slurm(Vars{{"SLURM_ARRAY_TASK_ID", "5"}, {"SLURM_ARRAY_TASK_MIN", "4"}, {"SLURM_ARRAY_TASK_COUNT", "2"}});
    EXPECT_EQ(shard_from_environment(), (std::pair<int, int>{1, 2}));
    BatchOptions options = parse_batch_options({"lib", "-o", "out"});
    EXPECT_EQ(options.shard_index, 1);
    EXPECT_EQ(options.shard_count, 2);
    options = parse_batch_options({"lib", "-o", "out", "--shard", "0/4"});  // the command line wins
    EXPECT_EQ(options.shard_count, 4);
  }
  {
    // --array=10-14:2 is tasks 10, 12, 14: task 14 is the third.
    ScopedEnv stepped(Vars{{"SLURM_ARRAY_TASK_ID", "14"},
                           {"SLURM_ARRAY_TASK_MIN", "10"},
                           {"SLURM_ARRAY_TASK_STEP", "2"},
                           {"SLURM_ARRAY_TASK_COUNT", "3"}});
    EXPECT_EQ(shard_from_environment(), (std::pair<int, int>{2, 3}));
  }
  {
    // --array=1,5,7: a list, not a range.
    ScopedEnv listed(
        Vars{{"SLURM_ARRAY_TASK_ID", "7"}, {"SLURM_ARRAY_TASK_MIN", "1"}, {"SLURM_ARRAY_TASK_COUNT", "3"}});
    EXPECT_THROW(shard_from_environment(), UsageError);
  }
  {
    ScopedEnv k8s(Vars{{"JOB_COMPLETION_INDEX", "2"}, {"VMFIX_SHARD_COUNT", "3"}});
    EXPECT_EQ(shard_from_environment(), (std::pair<int, int>{2, 3}));
  }
  {
    ScopedEnv k8s(Vars{{"JOB_COMPLETION_INDEX", "2"}});
    EXPECT_THROW(shard_from_environment(), UsageError) << "the count is needed";
  }
  EXPECT_THROW(parse_batch_options({"lib", "-o", "out", "--shard", "2/2"}), UsageError);
  EXPECT_THROW(parse_batch_options({"lib", "-o", "out", "--shard", "x"}), UsageError);
  EXPECT_THROW(parse_batch_options({"lib"}), UsageError) << "-o is required";
  EXPECT_THROW(parse_batch_options({"lib", "-o", "out", "--check", "--all"}), UsageError);
  EXPECT_THROW(parse_batch_options({"lib", "-o", "out", "-j", "0"}), UsageError);
  const BatchOptions aws = parse_batch_options({"lib", "-o", "out", "--aws-import", "--s3", "s3://b/p/"});
  EXPECT_TRUE(aws.aws_import);
  EXPECT_EQ(aws.s3, "s3://b/p/");
  EXPECT_THROW(parse_batch_options({"lib", "-o", "out", "--s3", "s3://b/p/"}), UsageError) << "--s3 needs --aws-import";
  EXPECT_THROW(parse_batch_options({"lib", "-o", "out", "--aws-import", "--s3", "b/p"}), UsageError);
  BatchOptions merge = parse_batch_options({"--merge", "out"});
  EXPECT_TRUE(merge.merge);
  EXPECT_EQ(merge.inputs.size(), 1u);
  EXPECT_GE(default_jobs(), 1);
}

// -j from what the process may use: its cgroup (and the cgroups above it) and its affinity mask,
// not the host's totals. A fake cgroup tree stands in for /sys/fs/cgroup.
TEST(BatchLimits, JobsFollowTheCgroupAndTheAffinityMask) {
  TempDir scratch("vmfix-limits");
  const fs::path root = scratch.path() / "cgroup", pod = root / "kubepods/pod1/vmfix";
  fs::create_directories(pod);
  test::write_file(scratch.path() / "self", "0::/kubepods/pod1/vmfix\n");
  test::write_file(scratch.path() / "meminfo", "MemTotal: 25165824 kB\nMemAvailable: 20971520 kB\n");  // 20 GiB
  LimitSources sources{root, scratch.path() / "self", scratch.path() / "meminfo", 16};
  ProcessLimits open = process_limits(sources);
  EXPECT_EQ(open.cpus, 16u) << open.evidence;
  EXPECT_EQ(open.memory, 20ULL << 30);
  EXPECT_EQ(jobs_within(open), 15) << "20 GiB holds 15 appliances";

  // A quota of 3.5 CPUs on the pod, none on the container: 3 appliances at a time.
  test::write_file(root / "kubepods/pod1/cpu.max", "350000 100000\n");
  test::write_file(pod / "cpu.max", "max 100000\n");
  EXPECT_EQ(process_limits(sources).cpus, 3u);
  EXPECT_EQ(jobs_within(process_limits(sources)), 3);
  // 4 GiB allowed to the container, 1.5 GiB of it used: room for one appliance.
  test::write_file(pod / "memory.max", std::to_string(4ULL << 30) + "\n");
  test::write_file(pod / "memory.current", std::to_string(3ULL << 29) + "\n");
  const ProcessLimits tight = process_limits(sources);
  EXPECT_EQ(tight.memory, (4ULL << 30) - (3ULL << 29));
  EXPECT_EQ(jobs_within(tight), 1);
  EXPECT_NE(tight.evidence.find("memory.max 4096 MiB"), std::string::npos) << tight.evidence;
  // The affinity mask wins when it is smaller than the quota; nothing goes below 1.
  sources.affinity_cpus = 2;
  test::write_file(pod / "memory.max", "max\n");
  EXPECT_EQ(jobs_within(process_limits(sources)), 2);
  test::write_file(root / "kubepods/pod1/cpu.max", "50000 100000\n");
  EXPECT_EQ(process_limits(sources).cpus, 1u);
  // No cgroup v2 line (a v1 host) and no v1 quota there: the mask and MemAvailable alone.
  test::write_file(scratch.path() / "self", "12:cpu,cpuacct:/x\n");
  EXPECT_EQ(process_limits(sources).cpus, 2u);
}

// Appliances side by side split the cores; a lone one gets two vCPUs, the most that helped.
TEST(BatchLimits, EachWorkerGetsItsShareOfVcpus) {
  EXPECT_EQ(appliance_cpus_per_worker(2, 1), 2u);
  EXPECT_EQ(appliance_cpus_per_worker(2, 2), 1u);
  EXPECT_EQ(appliance_cpus_per_worker(2, 4), 1u) << "never none";
  EXPECT_EQ(appliance_cpus_per_worker(64, 1), 2u) << "more did not boot faster";
  EXPECT_EQ(appliance_cpus_per_worker(8, 3), 2u);
  EXPECT_EQ(guest::appliance_cpus("3", 8), 3) << "the user's number wins";
  EXPECT_EQ(guest::appliance_cpus(nullptr, 8), 2);
  EXPECT_EQ(guest::appliance_cpus(nullptr, 1), 1);
  EXPECT_EQ(guest::appliance_cpus("0", 4), 2) << "out of range: the default";
  EXPECT_EQ(guest::appliance_cpus("many", 4), 2);
}

TEST(BatchJournal, RowsSurviveReopening) {
  TempDir scratch("vmfix-batch-test");
  {
    Journal journal(scratch.path() / "journal.sqlite");
    JournalEntry entry;
    entry.key = "a/disk.vmdk";
    entry.state = "running";
    journal.put(entry);
    entry.state = "done";
    entry.verdict = "ready";
    entry.changes = 7;
    entry.seconds = 41.5;
    entry.sha256 = "ab";
    journal.put(entry);  // replaces
    entry.key = "b.vhd";
    entry.state = "failed";
    entry.error = "b.vhd: truncated";
    journal.put(entry);
  }
  Journal journal(scratch.path() / "journal.sqlite");
  auto all = journal.all();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].state, "done");
  EXPECT_EQ(all[0].changes, 7);
  EXPECT_DOUBLE_EQ(all[0].seconds, 41.5);
  EXPECT_EQ(journal.find("b.vhd")->error, "b.vhd: truncated");
  EXPECT_FALSE(journal.find("c").has_value());
  // A file that is no journal (not SQLite, damaged, another program's tables) is the user's to move
  // aside: bad input (65), not vmfix failing (70), and left as it was.
  const fs::path dir = scratch.path();
  std::string damaged = read_host_file(dir / "journal.sqlite");
  for (size_t at = 100; at < damaged.size(); at += 7) damaged[at] = '\xff';
  test::write_file(dir / "damaged.sqlite", damaged);
  test::write_file(dir / "junk.sqlite", "this is not a database, but long enough to be read as one........");
  run_host_checked({"sqlite3", (dir / "other.sqlite").string(), "CREATE TABLE settings (name TEXT)"});
  run_host_checked({"sqlite3", (dir / "foreign.sqlite").string(), "CREATE TABLE images (name TEXT)"});
  run_host_checked(
      {"sqlite3", (dir / "half.sqlite").string(), "CREATE TABLE images (key TEXT); CREATE TABLE meta (k)"});
  for (const char* name : {"damaged.sqlite", "junk.sqlite", "other.sqlite", "foreign.sqlite", "half.sqlite"}) {
    const std::string before = read_host_file(dir / name);
    try {
      Journal other(dir / name);
      JournalEntry row;
      row.key = "x";
      row.state = "done";
      other.put(row);
      ADD_FAILURE() << name << " was read as a journal";
    } catch (const BadInput& e) {
      EXPECT_TRUE(std::string(e.what()).starts_with((dir / name).string() + ": batch journal: ")) << e.what();
      EXPECT_TRUE(std::string(e.what()).ends_with("(move it aside to start this batch over)")) << e.what();
    }
    EXPECT_EQ(read_host_file(dir / name), before) << name;
  }
}

TEST(BatchJournal, ReplacedWholeNeverInWalModeAndReadAcrossShardCounts) {
  TempDir scratch("vmfix-batch-test");
  const fs::path dir = scratch.path();
  JournalEntry entry;
  entry.state = "done";
  entry.verdict = "ready";
  for (int shard = 0; shard < 2; ++shard) {
    Journal journal(dir / fmt::format("journal-shard-{}-of-2.sqlite", shard));
    journal.set_header({"/lib", shard, 2, 1, "node", 100 + shard, "2026-12-03T08:00:00Z", "", shard == 0});
    entry.key = fmt::format("image{}.vmdk", shard);
    entry.finished = fmt::format("2026-12-03T08:0{}:00Z", shard);
    journal.put(entry);
  }
  // A file a killed run was writing when it died, and an older journal in WAL mode without the
  // attempts and failing_rules columns.
  test::write_file(dir / ".journal.sqlite.tmp-Ab12Cd", "half a database");
  run_host_checked(
      {"sqlite3", (dir / "journal-old.sqlite").string(),
       "PRAGMA journal_mode=WAL; CREATE TABLE images (key TEXT PRIMARY KEY, state TEXT NOT NULL, size "
       "INTEGER, mtime_ns INTEGER, sha256 TEXT, verdict TEXT, exit_code INTEGER, findings INTEGER, changes "
       "INTEGER, output TEXT, report TEXT, log TEXT, seconds REAL, peak_rss_kib INTEGER, error TEXT, "
       "finished TEXT, settings TEXT, companions TEXT); INSERT INTO images (key, state, verdict, finished) "
       "VALUES ('old.vhd', 'done', 'blocked', '2026-12-01T00:00:00Z')"});

  // One shard of a run with no shards at all still finds what both shards of the earlier run did.
  Journal journal(dir / "journal.sqlite");
  EXPECT_FALSE(fs::exists(dir / ".journal.sqlite.tmp-Ab12Cd"));
  ASSERT_TRUE(journal.find("image0.vmdk").has_value());
  EXPECT_EQ(journal.find("image1.vmdk")->finished, "2026-12-03T08:01:00Z");
  EXPECT_EQ(journal.find("old.vhd")->verdict, "blocked");
  EXPECT_TRUE(journal.all().empty());  // found elsewhere, not this journal's own rows
  entry.key = "image0.vmdk";
  entry.attempts = 2;
  entry.failing_rules = "os-supported nic-dhcp";
  journal.put(entry);
  for (const char* suffix : {"-wal", "-shm", "-journal"})
    EXPECT_FALSE(fs::exists(dir / (std::string("journal.sqlite") + suffix)));
  const std::string bytes = read_host_file(dir / "journal.sqlite");
  ASSERT_GT(bytes.size(), 20u);
  EXPECT_EQ(bytes.substr(0, 15), "SQLite format 3");
  EXPECT_EQ(bytes[18], 1) << "the file is a rollback-journal database, not WAL";
  EXPECT_EQ(run_host_checked(
                {"sqlite3", (dir / "journal.sqlite").string(), "SELECT key, attempts, failing_rules FROM images"}),
            "image0.vmdk|2|os-supported nic-dhcp\n");

  const std::vector<JournalFile> journals = read_journals(dir);
  ASSERT_EQ(journals.size(), 4u);
  EXPECT_EQ(journals[1].path.filename(), "journal-shard-0-of-2.sqlite");
  EXPECT_EQ(journals[1].header.shard_count, 2);
  EXPECT_EQ(journals[1].header.pid, 100);
  EXPECT_TRUE(journals[1].header.ended);
  EXPECT_FALSE(journals[2].header.ended);
  EXPECT_FALSE(journals[1].header.updated.empty());
}

TEST(BatchOptions, DurationsPoliciesStatusAndScratch) {
  EXPECT_DOUBLE_EQ(parse_duration("90s"), 90);
  EXPECT_DOUBLE_EQ(parse_duration("20m"), 1200);
  EXPECT_DOUBLE_EQ(parse_duration("1h30m"), 5400);
  EXPECT_DOUBLE_EQ(parse_duration("45"), 45);
  EXPECT_DOUBLE_EQ(parse_duration("1.5m"), 90);
  for (const char* bad : {"", "0", "0s", "-5s", "5x", "abc", "s", "1h-2m", "inf", "400d"})
    EXPECT_THROW(parse_duration(bad), UsageError) << bad;
  BatchOptions options = parse_batch_options(
      {"lib", "-o", "out", "--image-timeout", "2m", "--max-attempts", "5", "--fail-on", "retryable"});
  EXPECT_DOUBLE_EQ(options.image_timeout, 120);
  EXPECT_EQ(options.max_attempts, 5);
  EXPECT_EQ(options.fail_on, FailOn::retryable);
  EXPECT_EQ(parse_batch_options({"lib", "-o", "out"}).fail_on, FailOn::not_ready);
  EXPECT_EQ(parse_batch_options({"lib", "-o", "out"}).max_attempts, 3);
  EXPECT_THROW(parse_batch_options({"lib", "-o", "out", "--fail-on", "sometimes"}), UsageError);
  EXPECT_THROW(parse_batch_options({"lib", "-o", "out", "--max-attempts", "0"}), UsageError);
  EXPECT_THROW(parse_batch_options({"lib", "-o", "out", "--scratch", "/no/such/dir"}), UsageError);
  EXPECT_EQ(parse_batch_options({"lib", "-o", "out", "--scratch", "/tmp"}).scratch, "/tmp");
  options = parse_batch_options({"--status", "out"});
  EXPECT_TRUE(options.status);
  EXPECT_EQ(options.output_dir, fs::absolute("out"));
  EXPECT_THROW(parse_batch_options({"--status", "--merge", "out"}), UsageError);
}

TEST(BatchSummary, FailingRulesPerImageTotalsPerRuleAndTheExitPolicies) {
  auto entry = [](const char* key, const char* state, const char* verdict, int exit_code, const char* rules) {
    JournalEntry e;
    e.key = key;
    e.state = state;
    e.verdict = verdict;
    e.exit_code = exit_code;
    e.failing_rules = rules;
    e.attempts = 1;
    return e;
  };
  const JournalEntry ready = entry("a", "done", "ready", 0, "");
  const JournalEntry blocked = entry("b", "done", "blocked", 2, "os-supported boot-mode");
  const JournalEntry fixable = entry("c", "done", "fixable", 1, "boot-mode");
  const JournalEntry bad = entry("d", "failed", "", kExitBadInput, "");
  const JournalEntry timeout = entry("e", "timeout", "", 128 + 15, "");

  auto totals_for = [](const std::vector<JournalEntry>& entries, int max_attempts) {
    nlohmann::ordered_json images = nlohmann::ordered_json::array();
    for (const JournalEntry& e : entries) images.push_back(summary_entry(e, false, max_attempts));
    return totals_of(images);
  };
  const nlohmann::ordered_json b = summary_entry(blocked, false, 3);
  EXPECT_EQ(b["failing_rules"], nlohmann::json::parse(R"(["os-supported", "boot-mode"])"));
  EXPECT_FALSE(b["retry"].get<bool>());
  EXPECT_FALSE(summary_entry(bad, false, 3)["retry"].get<bool>()) << "a bad input stays bad";
  EXPECT_TRUE(summary_entry(timeout, false, 3)["retry"].get<bool>());
  EXPECT_FALSE(summary_entry(timeout, false, 1)["retry"].get<bool>()) << "no attempts left";

  nlohmann::ordered_json totals = totals_for({ready, blocked, fixable, bad, timeout}, 3);
  EXPECT_EQ(totals["failed"], 2);
  EXPECT_EQ(totals["timeout"], 1);
  EXPECT_EQ(totals["retry"], 1);
  EXPECT_EQ(totals["rules"].dump(), R"({"boot-mode":2,"os-supported":1})");  // most first
  EXPECT_EQ(exit_code_of(totals, FailOn::not_ready), kExitBadInput);
  EXPECT_EQ(exit_code_of(totals, FailOn::failed), kExitBadInput);
  EXPECT_EQ(exit_code_of(totals, FailOn::retryable), kExitRetry);
  // Once the timed-out image has no attempts left, nothing is worth a retry: the task succeeds.
  totals = totals_for({ready, blocked, fixable, bad, timeout}, 1);
  EXPECT_EQ(exit_code_of(totals, FailOn::retryable), kExitReady);
  // Results that are merely not ready fail only the default policy.
  totals = totals_for({ready, blocked, fixable}, 3);
  EXPECT_EQ(exit_code_of(totals, FailOn::not_ready), kExitFixable);
  EXPECT_EQ(exit_code_of(totals, FailOn::failed), kExitReady);
  EXPECT_EQ(exit_code_of(totals, FailOn::retryable), kExitReady);
  EXPECT_EQ(exit_code_of(totals_for({ready}, 3), FailOn::not_ready), kExitReady);
}

}  // namespace vmfix::batch

namespace vmfix::batch {

// Shard summaries are files in an output directory: any shape or value in them is one clear
// error naming the file, never nlohmann's type_error as an internal error, and never a shard
// count that would list two billion missing shards.
TEST(BatchMerge, SummariesOfAnyShapeAreRefusedByName) {
  TempDir out("vmfix-batch-merge");
  BatchOptions options;
  options.merge = true;
  options.output_dir = out.path() / "merged";
  const std::string good = R"({"schema": "vmfix.batch/1", "shard": {"index": 0, "count": 1}, "images": []})";
  const std::vector<std::string> bad{
      "[]",
      R"({"schema": "vmfix.batch/1"})",
      R"({"schema": "vmfix.batch/1", "shard": {"index": "0", "count": 1}, "images": []})",
      R"({"schema": "vmfix.batch/1", "shard": {"index": 0, "count": 1}, "images": [{"image": 7}]})",
      R"({"schema": "vmfix.batch/1", "shard": {"index": 0, "count": 1}, "images": 5})",
      R"({"schema": "vmfix.batch/1", "shard": {"index": 0, "count": 2147483647}, "images": []})",
      R"({"schema": "vmfix.batch/1", "shard": {"index": 3, "count": 2}, "images": []})"};
  for (const std::string& text : bad) {
    SCOPED_TRACE(text);
    const fs::path file = out.path() / "summary-shard-0.json";
    test::write_file(file, text);
    options.inputs = {file};
    try {
      run_merge(options);
      ADD_FAILURE() << "merged";
    } catch (const BadInput& e) {
      EXPECT_NE(std::string(e.what()).find(file.string()), std::string::npos) << e.what();
    }
  }
  test::write_file(out.path() / "summary-shard-0.json", good);
  options.inputs = {out.path() / "summary-shard-0.json"};
  EXPECT_EQ(run_merge(options), kExitReady);
}

}  // namespace vmfix::batch

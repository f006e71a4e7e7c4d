// The CLI contract without an appliance: bad input and usage errors.
#include <fmt/ranges.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "fixers/table.h"
#include "support/files.h"
#include "support/process.h"
#include "support/text.h"
#include "tests/test_support.h"

namespace vmfix::test {
namespace fs = std::filesystem;

namespace {

class BadInput : public ::testing::Test {
 protected:
  // Runs vmfix with TMPDIR pointing at an empty directory, so leftovers can be seen.
  CliResult run(const std::vector<std::string>& args) { return run_vmfix(args, {"TMPDIR=" + tmp_.path().string()}); }
  void expect_bad_input(const fs::path& image, const std::string& problem) {
    SCOPED_TRACE(image.string());
    CliResult result = run({"--inspect", image.string()});
    EXPECT_EQ(result.exit_status, 65);
    EXPECT_TRUE(result.out.empty()) << result.out;
    ASSERT_EQ(split_lines(result.err).size(), 1u) << result.err;
    EXPECT_TRUE(result.err.starts_with("vmfix: " + image.string() + ": ")) << result.err;
    EXPECT_NE(result.err.find(problem), std::string::npos) << result.err;
    EXPECT_TRUE(fs::is_empty(tmp_.path())) << "vmfix left files behind";
    CliResult json_result = run({"--inspect", "--json", image.string()});
    EXPECT_EQ(json_result.exit_status, 65);
    auto error = nlohmann::json::parse(json_result.out);
    EXPECT_EQ(error["error"]["exit_code"], 65);
  }
  fs::path file(const std::string& name) { return inputs_.path() / name; }

  TempDir inputs_{"vmfix-bad-input"};
  TempDir tmp_{"vmfix-bad-input-tmp"};
};

}  // namespace

TEST_F(BadInput, MissingEmptyRandomTextDirectory) {
  expect_bad_input(file("missing.vmdk"), "no such file");
  write_file(file("empty.vmdk"), "");
  expect_bad_input(file("empty.vmdk"), "empty file");
  write_file(file("random.vmdk"), random_bytes(3 * 1024 * 1024 + 17, 42));
  expect_bad_input(file("random.vmdk"), "not a disk image");
  write_file(file("readme.vmdk"), "Export of the build server, see ticket 4711.\n");
  expect_bad_input(file("readme.vmdk"), "text file");
  fs::create_directory(file("dir.vmdk"));
  expect_bad_input(file("dir.vmdk"), "is a directory");
}

TEST_F(BadInput, TruncatedVmdk) {
  const fs::path raw = file("disk.raw");
  std::string disk(8 * 1024 * 1024, '\x5a');
  disk[510] = '\x55';
  disk[511] = '\xaa';
  write_file(raw, disk);
  for (const char* subformat : {"monolithicSparse", "streamOptimized"}) {
    const fs::path vmdk = file(std::string(subformat) + ".vmdk");
    run_host_checked({"qemu-img", "convert", "-q", "-f", "raw", "-O", "vmdk", "-o",
                      std::string("subformat=") + subformat, raw.string(), vmdk.string()});
    fs::resize_file(vmdk, fs::file_size(vmdk) / 2);
    expect_bad_input(vmdk, "truncated");
  }
}

TEST_F(BadInput, UnreadableFile) {
  const fs::path image = file("locked.img");
  std::string disk(1024 * 1024, '\0');
  disk[510] = '\x55';
  disk[511] = '\xaa';
  write_file(image, disk);
  ::chmod(image.c_str(), 0);
  if (::geteuid() != 0) {
    expect_bad_input(image, "Permission denied");
    return;
  }
  // Root reads anything: run vmfix as nobody, from a copy it may execute.
  TempDir bin("vmfix-bin");
  ::chmod(bin.path().c_str(), 0755);
  ::chmod(inputs_.path().c_str(), 0755);
  fs::copy_file(VMFIX_BINARY, bin.path() / "vmfix");
  ProcessResult result = run_host({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                   (bin.path() / "vmfix").string(), "--inspect", image.string()});
  EXPECT_EQ(result.exit_status, 65) << result.output;
  EXPECT_NE(result.output.find("Permission denied"), std::string::npos) << result.output;
  EXPECT_EQ(split_lines(result.output).size(), 1u) << result.output;
}

// A path the system cannot follow (a loop of links, a name too long, a directory nobody may
// enter) is bad input said in one line, not the filesystem library's exception as an internal error.
TEST_F(BadInput, PathsThatCannotBeReached) {
  fs::create_symlink("loop", file("loop"));
  expect_bad_input(file("loop"), "Too many levels of symbolic links");
  expect_bad_input(file(std::string(300, 'a') + ".vmdk"), "File name too long");
  if (::geteuid() != 0) GTEST_SKIP() << "the locked directory needs root to run vmfix as nobody";
  const fs::path locked = file("locked");
  fs::create_directory(locked);
  write_file(locked / "disk.img", std::string(1 << 20, '\0'));
  ::chmod(locked.c_str(), 0700);
  TempDir bin("vmfix-bin");
  ::chmod(bin.path().c_str(), 0755);
  ::chmod(inputs_.path().c_str(), 0755);
  fs::copy_file(VMFIX_BINARY, bin.path() / "vmfix");
  const ProcessResult result = run_host({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                         (bin.path() / "vmfix").string(), "--check", (locked / "disk.img").string()});
  EXPECT_EQ(result.exit_status, 65) << result.output;
  EXPECT_EQ(result.output, "vmfix: " + (locked / "disk.img").string() + ": Permission denied\n");
}

// --in-place edits what qemu edits in place, one disk: raw and qcow2, not VHD, VMDK or OVA.
TEST(Cli, InPlaceOnlyForRawAndQcow2) {
  TempDir scratch("vmfix-cli-test");
  const fs::path vhd = scratch.path() / "disk.vhd";
  run_host_checked({"qemu-img", "create", "-q", "-f", "vpc", vhd.string(), "8M"});
  CliResult result = run_vmfix({"--all", "--in-place", vhd.string()});
  EXPECT_EQ(result.exit_status, 64);
  EXPECT_NE(result.err.find("--in-place edits raw and qcow2 images only"), std::string::npos) << result.err;
  result = run_vmfix({"--all", "--in-place", "-o", "out.img", vhd.string()});
  EXPECT_EQ(result.exit_status, 64);
  EXPECT_NE(result.err.find("contradict"), std::string::npos) << result.err;
}

TEST(Cli, ListFixers) {
  CliResult text = run_vmfix({"--list-fixers"});
  EXPECT_EQ(text.exit_status, 0);
  const auto table = fixers::all_fixers();  // the fixer table, as the binary was built with it
  for (const auto& fixer : table) EXPECT_NE(text.out.find(std::string(fixer->id())), std::string::npos) << fixer->id();
  CliResult json_list = run_vmfix({"--list-fixers", "--json"});
  const auto document = nlohmann::json::parse(json_list.out);
  EXPECT_EQ(document["schema"], "vmfix.fixers/1");
  const auto& listed = document["fixers"];
  ASSERT_EQ(listed.size(), table.size());
  for (size_t i = 0; i < table.size(); ++i) {
    EXPECT_EQ(listed[i]["id"], table[i]->id());
    EXPECT_EQ(listed[i]["rules"].size(), table[i]->rules().size());
  }
}

TEST(Cli, ListRulesOfEachProfile) {
  for (const char* profile : {"aws-current", "aws-2017"}) {
    CliResult result = run_vmfix({"--list-rules", "--json", "--profile", profile});
    ASSERT_EQ(result.exit_status, 0) << result.err;
    nlohmann::json list = nlohmann::json::parse(result.out);
    EXPECT_EQ(list["schema"], "vmfix.rules/1");
    EXPECT_EQ(list["profile"], profile);
    EXPECT_GE(list["rules"].size(), 50u);
  }
  EXPECT_EQ(run_vmfix({"--list-rules", "--profile", "aws-1999"}).exit_status, 64);
}

TEST(Cli, UsageErrorsAndInformation) {
  EXPECT_EQ(run_vmfix({"--inspect"}).exit_status, 64);
  EXPECT_EQ(run_vmfix({"--bogus", "x"}).exit_status, 64);
  CliResult version = run_vmfix({"--version"});
  EXPECT_EQ(version.exit_status, 0);
  EXPECT_TRUE(version.out.starts_with("vmfix ")) << version.out;
  CliResult help = run_vmfix({"--help"});
  EXPECT_EQ(help.exit_status, 0);
  EXPECT_NE(help.out.find("Usage: vmfix"), std::string::npos);
}

// Paths the job could not use are refused before any appliance runs (exit 64, one line): an
// empty one (an unset shell variable), a --report or --aws-import-json that could not be written
// after the job, a batch output directory that cannot be made. Numbers are read whole.
TEST(Cli, PathsTheJobCouldNotUseAreRefusedFirst) {
  TempDir scratch("vmfix-cli-test");
  const fs::path image = scratch.path() / "disk.img";
  std::string disk(1 << 20, '\0');  // an MBR disk: -o is checked once the image has been opened
  disk[510] = '\x55';
  disk[511] = '\xaa';
  write_file(image, disk);
  const std::string in = image.string(), dir = scratch.path().string();
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases{
      {{"--all", in, "-o", ""}, "-o: an empty path"},
      {{"--all", in, "--scratch", ""}, "--scratch: an empty path"},
      {{"--check", ""}, "an empty image path"},
      {{"--check", in, "--report", "/nonexistent/report.json"}, "/nonexistent: --report cannot be written there"},
      {{"--check", in, "--report", dir}, "is a directory; give a file name"},
      {{"--check", in, "--aws-import-json", ""}, "--aws-import-json: an empty path"},
      {{"--check", in, "--aws-import-json", dir}, "is a directory; give a file name"},
      {{"--check", in, "--report", dir + "/" + std::string(300, 'r') + ".json"}, "File name too long"},
      {{"--all", in, "-o", dir + "/" + std::string(300, 'o') + ".img"}, "File name too long"},
      {{"--all", in, "--unattend", ""}, "--unattend: an empty path"},
      {{"batch", "--check", dir, "-o", ""}, "-o: an empty path"},
      {{"batch", "--check", "", "-o", dir + "/out"}, "vmfix batch: an empty path"},
      {{"batch", "--check", dir, "-o", in + "/out"}, in + "/out/reports: cannot make this directory: Not a directory"},
      {{"batch", "--merge", ""}, "--merge: an empty path"},
      {{"aws-import", "job.json", "--poll", "10s"}, "--poll 10s: seconds between 1 and 3600"}};
  for (const auto& [args, message] : cases) {
    const CliResult result = run_vmfix(args);
    EXPECT_EQ(result.exit_status, 64) << fmt::format("{}: {}", fmt::join(args, " "), result.err);
    EXPECT_EQ(split_lines(result.err).size(), 1u) << result.err;
    EXPECT_NE(result.err.find(message), std::string::npos) << result.err;
  }
  EXPECT_EQ(run_vmfix({"--help", "--report", "/nonexistent/report.json"}).exit_status, 0) << "help first";
  const CliResult shards = run_vmfix({"batch", "--check", dir, "-o", dir + "/out"},
                                     {"SLURM_ARRAY_TASK_ID=0", "SLURM_ARRAY_TASK_COUNT=4294967297"});
  EXPECT_EQ(shards.exit_status, 64) << shards.err;
  EXPECT_FALSE(fs::exists(scratch.path() / "out")) << "the batch started";
}

// A batch checks its own profile and fixer ids (usage, 64) and each manifest entry's (bad input,
// 65, as a bad output_format there) before any image runs, in every shard; moot ones are not.
TEST(Cli, ABatchsProfileAndFixersAreCheckedBeforeAnyImageRuns) {
  TempDir scratch("vmfix-cli-test");
  const fs::path library = scratch.path() / "library", out = scratch.path() / "out";
  fs::create_directory(library);
  write_file(library / "a.img", std::string(1 << 20, '\0'));
  write_file(library / "b.img", std::string(1 << 20, '\0'));
  const std::string lib = library.string(), a = (library / "a.img").string(), b = (library / "b.img").string();
  auto manifest = [&](const std::string& name, const std::string& text) {
    write_file(scratch.path() / name, text);
    return (scratch.path() / name).string();
  };
  const std::string typo_in_b =
      manifest("f.json", "[\"" + a + "\", {\"image\": \"" + b + "\", \"fix\": \"rdp,nope\"}]");
  const std::vector<std::tuple<std::vector<std::string>, int, std::string>> cases{
      {{"--all", "--profile", "aws-1999", lib}, 64, "no profile named 'aws-1999' (known: aws-current, aws-2017)"},
      {{"--fix", "rtc-utc,nope", lib}, 64, "no fixer named 'nope'"},
      {{"--fix", ",", lib}, 64, "--fix needs at least one fixer id"},
      {{"--dry-run", "--skip", "gpt2mbr", lib}, 64, "no fixer named 'gpt2mbr'"},
      {{"--check", manifest("p.json", "[{\"image\": \"" + a + "\", \"profile\": \"aws\\nx\"}]")},
       65,
       "p.json: entry 1: no profile named 'aws x'"},
      {{"--all", typo_in_b}, 65, "f.json: entry 2: no fixer named 'nope'"},
      {{"--all", "--shard", "0/2", typo_in_b}, 65, "f.json: entry 2: no fixer named 'nope'"},
      {{"--all", "--shard", "1/2", typo_in_b}, 65, "f.json: entry 2: no fixer named 'nope'"},
      {{"--check", manifest("s.csv", "image,skip\n" + a + ",vmware-tools;rdp\n")},
       65,
       "s.csv:2: no fixer named 'vmware-tools;rdp'"}};
  for (const auto& [args, exit_status, message] : cases) {
    std::vector<std::string> command{"batch", "-o", out.string()};
    command.insert(command.end(), args.begin(), args.end());
    const CliResult result = run_vmfix(command);
    EXPECT_EQ(result.exit_status, exit_status) << fmt::format("{}: {}", fmt::join(command, " "), result.err);
    EXPECT_EQ(split_lines(result.err).size(), 1u) << result.err;
    EXPECT_NE(result.err.find(message), std::string::npos) << result.err;
    EXPECT_FALSE(fs::exists(out)) << "the batch started: " << fmt::format("{}", fmt::join(args, " "));
  }
  // Moot, so not refused (a --fix list makes --skip moot): the image runs, and fails as what it
  // is, a disk of zeros.
  for (const std::string mode : {"--check", "--fix=rdp"}) {
    fs::remove_all(out);
    const std::string moot = manifest("m.json", "[{\"image\": \"" + a + "\", \"fix\": \"rdp\", \"skip\": \"nope\"}]");
    const CliResult result = run_vmfix({"batch", mode, "-o", out.string(), moot});
    EXPECT_EQ(result.exit_status, 65) << mode << ": " << result.err;
    const nlohmann::json summary = nlohmann::json::parse(read_host_file(out / "summary.json"));
    ASSERT_EQ(summary["images"].size(), 1u);
    EXPECT_EQ(summary["images"][0]["exit_code"], 65) << summary.dump();
  }
}

// A journal in the output directory that is none (not SQLite, or another program's database) is
// refused in one line with 65, by the batch and by --status, and left as it was.
TEST(Cli, AJournalThatIsNoneIsRefusedAndLeftAlone) {
  TempDir scratch("vmfix-cli-test");
  const fs::path library = scratch.path() / "library", out = scratch.path() / "out";
  fs::create_directories(library);
  fs::create_directories(out);
  write_file(library / "a.img", std::string(1 << 20, '\0'));
  run_host_checked({"sqlite3", (scratch.path() / "other.sqlite").string(), "CREATE TABLE settings (name TEXT)"});
  const std::string other = read_host_file(scratch.path() / "other.sqlite");
  for (const std::string& content : {std::string(4096, 'j'), other}) {
    write_file(out / "journal.sqlite", content);
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"batch", "--check", library.string(), "-o", out.string()},
          std::vector<std::string>{"batch", "--status", out.string()}}) {
      const CliResult result = run_vmfix(args);
      EXPECT_EQ(result.exit_status, 65) << result.err;
      EXPECT_EQ(split_lines(result.err).size(), 1u) << result.err;
      EXPECT_NE(result.err.find("journal.sqlite: batch journal: "), std::string::npos) << result.err;
      EXPECT_EQ(read_host_file(out / "journal.sqlite"), content) << "the journal was rewritten";
    }
  }
  fs::remove(out / "journal.sqlite");
  ASSERT_EQ(::mkfifo((out / "journal.sqlite").c_str(), 0600), 0);
  const CliResult fifo = run_vmfix({"batch", "--check", library.string(), "-o", out.string()});
  EXPECT_EQ(fifo.exit_status, 65) << fifo.err;
  EXPECT_NE(fifo.err.find("journal.sqlite: batch journal: not a regular file"), std::string::npos) << fifo.err;
  EXPECT_TRUE(fs::is_fifo(out / "journal.sqlite"));
  EXPECT_FALSE(fs::exists(out / "summary.json"));
}

// A host file the user names is read when it is a regular file or a pipe (`<(command)`), and
// within a bound; anything else (a link to /dev/zero) is refused unopened, and a fifo nobody
// writes to reads as empty: vmfix neither waits for ever nor grows without end.
TEST(Cli, HostFilesAreReadWhenFilesOrPipesAndWithinABound) {
  TempDir scratch("vmfix-cli-test");
  const fs::path fifo = scratch.path() / "fifo", zeros = scratch.path() / "zeros", out = scratch.path() / "out";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  fs::create_symlink("/dev/zero", zeros);
  const std::string image = (scratch.path() / "disk.img").string(), z = zeros.string(), f = fifo.string();
  write_file(image, std::string(1 << 20, '\0'));  // no disk image: a batch's child fails at once
  // vmfix's stderr alone, under a deadline (124 when it passes).
  auto run = [&](const std::string& args) {
    return run_host({"bash", "-c", fmt::format("exec timeout 60 {} {} 2>&1 >/dev/null", VMFIX_BINARY, args)});
  };
  const std::string unattend = fmt::format("--all {} -o {}.img --unattend ", image, out.string());
  const std::vector<std::pair<std::string, std::string>> cases{
      {fmt::format("batch --check {} -o {}", z, out.string()), z + ": not a regular file or a pipe"},
      {fmt::format("batch --merge -o {} {}", out.string(), z),
       z + ": not a batch summary: " + z + ": not a regular file or a pipe"},
      {"aws-import " + z, z + ": not a regular file or a pipe"},
      {unattend + z, z + ": not a regular file or a pipe"},
      {fmt::format("batch --merge -o {} {}", out.string(), f), f + ": not a batch summary: "},
      {"aws-import " + f, f + ": not JSON"},
      {unattend + f, f + ": malformed answer file: not XML"},
      {unattend + "<(head -c 20000000 /dev/zero)", ": larger than 16 MiB, more than such a file can be"}};
  for (const auto& [args, message] : cases) {
    const ProcessResult result = run(args);
    EXPECT_EQ(result.exit_status, 65) << args << ": " << result.output;
    EXPECT_EQ(split_lines(result.output).size(), 1u) << args << ": " << result.output;
    EXPECT_NE(result.output.find(message), std::string::npos) << args << ": " << result.output;
  }
  EXPECT_FALSE(fs::exists(out)) << "a batch started";
  // A manifest from a pipe is read: its one image ran, and failed as what it is.
  const ProcessResult piped = run(fmt::format("batch --check <(echo {}) -o {}", image, out.string()));
  EXPECT_EQ(piped.exit_status, 65) << piped.output;
  const nlohmann::json summary = nlohmann::json::parse(read_host_file(out / "summary.json"));
  ASSERT_EQ(summary["images"].size(), 1u) << summary.dump();
  EXPECT_EQ(summary["images"][0]["exit_code"], 65) << summary.dump();
}

// An OVF naming a disk no system can open (a name too long) is bad input, in one line; in a
// library it fails as that image, not the whole batch.
TEST(Cli, AnOddOvfInALibraryFailsAsItsImage) {
  TempDir scratch("vmfix-cli-test");
  const fs::path library = scratch.path() / "library";
  fs::create_directory(library);
  write_file(library / "vm.ovf", R"(<?xml version="1.0"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1">
<References><File ovf:id="f1" ovf:href=")" +
                                     std::string(300, 'b') + R"(.vmdk"/></References>
<DiskSection><Disk ovf:diskId="d1" ovf:fileRef="f1" ovf:capacity="1048576"/></DiskSection>
<VirtualSystem ovf:id="vm"/>
</Envelope>
)");
  const CliResult alone = run_vmfix({"--check", (library / "vm.ovf").string()});
  EXPECT_EQ(alone.exit_status, 65) << alone.err;
  EXPECT_EQ(alone.err, "vmfix: " + (library / (std::string(300, 'b') + ".vmdk")).string() + ": File name too long\n");
  const CliResult result = run_vmfix({"batch", "--check", library.string(), "-o", (scratch.path() / "out").string()});
  const nlohmann::json summary = nlohmann::json::parse(read_host_file(scratch.path() / "out" / "summary.json"));
  ASSERT_EQ(summary["images"].size(), 1u) << result.err;
  EXPECT_EQ(summary["images"][0]["state"], "failed");
  EXPECT_EQ(summary["images"][0]["exit_code"], 65) << "bad input, which a batch does not retry";
  EXPECT_NE(summary["images"][0]["error"].get<std::string>().find("File name too long"), std::string::npos)
      << summary["images"][0].dump();
}

}  // namespace vmfix::test

// What a batch meets on real machines and real guests: an output directory that is read-only or
// fills up mid-write, guests whose files are fifos, device nodes, loops of links, 2 GiB where a
// few lines belong, or links that climb above the root; and (slow label) vmfix or a batch killed
// at any moment. Each ends in one clear line, the source untouched and nothing under the output's
// names; a guest's links never lead vmfix outside the guest.
#include <fmt/core.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "fixtures/fixture.h"
#include "support/files.h"
#include "support/process.h"
#include "support/text.h"
#include "tests/integration/environment.h"
#include "tests/test_support.h"

namespace vmfix::test {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// A tmpfs of `mib` MiB at `target` (read-only when asked), unmounted when it goes.
class Tmpfs {
 public:
  Tmpfs(const fs::path& target, int mib, bool read_only = false) : target_(target) {
    fs::create_directories(target);
    mounted_ = run_host({"mount", "-t", "tmpfs", "-o", fmt::format("size={}m{}", mib, read_only ? ",ro" : ""), "tmpfs",
                         target.string()})
                   .exit_status == 0;
  }
  ~Tmpfs() {
    if (mounted_) run_host({"umount", "-l", target_.string()});
  }
  Tmpfs(const Tmpfs&) = delete;
  Tmpfs& operator=(const Tmpfs&) = delete;
  bool mounted() const { return mounted_; }

 private:
  fs::path target_;
  bool mounted_ = false;
};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  for (std::string_view line : split_lines(text))
    if (!trim(line).empty()) lines.emplace_back(line);
  return lines;
}

// The Debian 11 fixture with `edit` applied: a guest laid out to hurt whoever reads it.
fixtures::FixtureSpec hostile_debian(const std::string& name, const std::function<void(fixtures::FixtureSpec&)>& edit) {
  fixtures::FixtureSpec spec = fixtures::find_fixture("debian11-gpt-bios");
  spec.name = "debian11-hostile-" + name;
  spec.format = "qcow2";
  edit(spec);
  return spec;
}

void drop_file(fixtures::FixtureSpec& spec, const std::string& path) {
  std::erase_if(spec.files, [&](const fixtures::FileSpec& file) { return file.path == path; });
}

}  // namespace

// Refused by the output directory's own filesystem, before any appliance: a qemu that leaves a
// mark in place of the real one shows none was started.
TEST(Faults, AReadOnlyOutputDirectoryIsRefusedBeforeTheApplianceStarts) {
  TempDir scratch("vmfix-faults-ro");
  Tmpfs read_only(scratch.path() / "out", 1, true);
  ASSERT_TRUE(read_only.mounted()) << "mount -t tmpfs needs root";
  const fs::path marker = scratch.path() / "qemu-ran", fake_qemu = scratch.path() / "qemu";
  write_file(fake_qemu, fmt::format("#!/bin/sh\ntouch '{}'\nexit 1\n", marker.string()));
  fs::permissions(fake_qemu, fs::perms::owner_all);
  const fs::path source = fixture_image("debian11-gpt-bios");
  CliResult result =
      run_vmfix({"--all", "-o", (scratch.path() / "out/debian.vmdk").string(), source.string()},
                {cache_environment(), "LIBGUESTFS_BACKEND=direct", "LIBGUESTFS_HV=" + fake_qemu.string()});
  EXPECT_EQ(result.exit_status, 64) << result.err;
  EXPECT_EQ(lines_of(result.err), std::vector<std::string>{fmt::format(
                                      "vmfix: {}: the output cannot be written there (Read-only file system)",
                                      (scratch.path() / "out").string())});
  EXPECT_FALSE(fs::exists(marker)) << "an appliance was started before the output was refused";
}

// The output directory fills up while a VMDK is compressed into it (another writer took the rest
// of a small tmpfs): one line, no output, no partial directory, the source as it was.
TEST(Faults, AnOutputDirectoryThatFillsUpMidWriteLeavesNothing) {
  TempDir scratch("vmfix-faults-full");
  const fs::path dir = scratch.path() / "vm", tmp = scratch.path() / "tmp", out_dir = scratch.path() / "out";
  for (const fs::path& d : {dir, tmp}) fs::create_directory(d);
  random_disk(dir / "data.raw", 256);
  const fs::path ovf = windows_ovf(dir, "data.raw");
  std::map<std::string, std::string> sums;
  for (const auto& entry : fs::directory_iterator(dir)) sums[entry.path().string()] = sha256(entry.path());
  Tmpfs small(out_dir, 1536);
  ASSERT_TRUE(small.mounted()) << "mount -t tmpfs needs root";

  VmfixProcess vmfix({"-q", "--fix", "rtc-utc", "--force", "-o", (out_dir / "out.vmdk").string(), ovf.string()},
                     {cache_environment(), "TMPDIR=" + tmp.string(), "LIBGUESTFS_CACHEDIR=/var/tmp"});
  for (int i = 0; i < 6000 && partial_dirs(out_dir).empty(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_FALSE(partial_dirs(out_dir).empty()) << "vmfix never started writing: " << vmfix.err_so_far();
  // Everything that is left, taken by another writer.
  run_host({"dd", "if=/dev/zero", "of=" + (out_dir / "filler").string(), "bs=1M", "status=none"});
  CliResult result = vmfix.wait();

  EXPECT_NE(result.exit_status, 0);
  const std::vector<std::string> lines = lines_of(result.err);
  ASSERT_EQ(lines.size(), 1u) << result.err;
  EXPECT_TRUE(lines[0].starts_with("vmfix: ")) << lines[0];
  EXPECT_NE(lines[0].find("No space left on device"), std::string::npos) << lines[0];
  EXPECT_FALSE(fs::exists(out_dir / "out.vmdk"));
  EXPECT_FALSE(fs::exists(out_dir / "out-disk2.vmdk"));
  EXPECT_TRUE(partial_dirs(out_dir).empty()) << "the partial output is removed";
  EXPECT_FALSE(process_left_on(tmp)) << "a process still uses " << tmp;
  for (const auto& [file, sum] : sums) EXPECT_EQ(sha256(file), sum) << file << " changed";
}

// A fifo, a device node, a loop of links and a 2 GiB file where configuration files belong: each
// is refused naming it (exit 65), in the time a check takes, instead of hanging or filling memory.
TEST(Faults, GuestFilesThatAreNoFilesAreRefusedNamingThem) {
  using Kind = fixtures::NodeSpec::Kind;
  const std::vector<fixtures::FixtureSpec> specs{
      hostile_debian("fifo",
                     [](auto& spec) {
                       spec.nodes.push_back({"/etc/fstab", Kind::fifo});
                     }),
      hostile_debian("zero",
                     [](auto& spec) {
                       drop_file(spec, "/etc/network/interfaces");
                       spec.nodes.push_back({"/dev/zero", Kind::zero_device});
                       spec.symlinks.push_back({"/etc/network/interfaces", "../../dev/zero"});
                     }),
      hostile_debian("loop",
                     [](auto& spec) {
                       drop_file(spec, "/etc/network/interfaces.d/ens192");
                       spec.symlinks.push_back({"/etc/network/interfaces.d/ens192", "ens192"});
                     }),
      hostile_debian("huge",
                     [](auto& spec) {
                       spec.nodes.push_back({"/etc/fstab", Kind::sparse, uint64_t{2} << 30});
                     }),
  };
  const std::vector<std::string> expected{
      "vmfix: guest file /etc/fstab is not a regular file (a fifo, device or socket)",
      "vmfix: guest file /etc/network/interfaces is not a regular file (a fifo, device or socket)",
      "vmfix: guest file /etc/network/interfaces.d/ens192 is a loop of symbolic links",
      "vmfix: guest file /etc/fstab is 2147483648 bytes, more than the 64 MiB vmfix reads of such a file",
  };
  const std::vector<fs::path> images = fixtures::build(specs, VMFIX_FIXTURE_CACHE);
  for (size_t i = 0; i < images.size(); ++i) {
    SCOPED_TRACE(specs[i].name);
    const std::string before = sha256(images[i]);
    CliResult result = run_vmfix({"-q", "--check", images[i].string()}, {cache_environment()});
    EXPECT_EQ(result.exit_status, 65) << result.err;
    EXPECT_EQ(lines_of(result.err), std::vector<std::string>{expected[i]});
    EXPECT_EQ(sha256(images[i]), before);
  }
}

// Floods that are files: a grub.cfg padded to a million lines and an ifupdown configuration
// that sources its own directory and itself. Read within bounds: the check ends with its verdict
// (no error), and the static address behind the includes is still found.
TEST(Faults, AMillionLineMenuAndSelfIncludingNetworkConfigAreReadInBounds) {
  const fixtures::FixtureSpec spec = hostile_debian("flood", [](auto& edited) {
    for (fixtures::FileSpec& file : edited.files) {
      if (file.path == "/boot/grub/grub.cfg") {
        file.content.reserve(file.content.size() + 2000000);
        for (int i = 0; i < 1000000; ++i) file.content += "#\n";
      }
      if (file.path == "/etc/network/interfaces")
        file.content = "source-directory /etc/network\nsource /etc/network/interfaces\n" + file.content;
    }
  });
  const fs::path image = fixtures::build({spec}, VMFIX_FIXTURE_CACHE).front();
  CliResult result = run_vmfix({"--check", "--json", image.string()}, {cache_environment()});
  ASSERT_TRUE(result.exit_status == 0 || result.exit_status == 1 || result.exit_status == 2) << result.err;
  EXPECT_EQ(result.err, "");
  const json report = json::parse(result.out);
  bool static_found = false;
  for (const json& finding : report["findings"])
    if (finding["id"] == "network-dhcp") static_found = finding["status"] == "fail";
  EXPECT_TRUE(static_found) << "the static ens192 behind the includes was not seen";
}

// /etc/fstab a link that climbs to /etc/shadow through more ".." than there are directories, and
// /etc/sysconfig a link above the root: both resolve inside the guest, as the kernel resolves them
// under a chroot. vmfix remediates the guest, writes no fstab over the shadow file and leaves
// the host's own files alone.
TEST(Faults, LinksThatClimbAboveTheRootStayInsideTheGuest) {
  const std::string shadow = "root:*:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n";
  const fixtures::FixtureSpec spec = hostile_debian("climb", [&](auto& edited) {
    drop_file(edited, "/etc/fstab");
    edited.files.push_back({"/etc/shadow", shadow, 0640});
    edited.symlinks.push_back({"/etc/fstab", "../../../etc/shadow"});
    edited.symlinks.push_back({"/etc/sysconfig", "../../../../../../.."});
  });
  const fs::path image = fixtures::build({spec}, VMFIX_FIXTURE_CACHE).front();
  const std::string host_shadow = sha256("/etc/shadow"), host_fstab = sha256("/etc/fstab");
  TempDir scratch("vmfix-faults-climb");
  const fs::path out = scratch.path() / "out.qcow2";
  CliResult result = run_vmfix({"--all", "--json", "-o", out.string(), image.string()}, {cache_environment()});
  ASSERT_TRUE(result.exit_status == 0 || result.exit_status == 1 || result.exit_status == 2) << result.err;
  ASSERT_TRUE(fs::exists(out)) << result.err;
  if (fs::exists(cache_dir() / "accel")) ::setenv("LIBGUESTFS_BACKEND_SETTINGS", "force_tcg", 1);
  const fs::path copy = scratch.path() / "shadow";
  const std::string link = run_host_checked({"guestfish", "--ro", "-a", out.string(), "-m", "/dev/sda2", "download",
                                             "/etc/shadow", copy.string(), ":", "readlink", "/etc/fstab"});
  EXPECT_EQ(read_host_file(copy), shadow) << "the guest's shadow file changed";
  EXPECT_EQ(link, "../../../etc/shadow\n") << "the guest's fstab link changed";
  EXPECT_EQ(sha256("/etc/shadow"), host_shadow);
  EXPECT_EQ(sha256("/etc/fstab"), host_fstab);
}

// Killed with SIGKILL at moments spread over a whole --all run (measured first): launch,
// inspection, the fixers, the re-check, the write. Each time the source is byte for byte as it
// was, nothing is under the output's name and no qemu outlives vmfix; the next complete run
// sweeps what the killed ones left in the output directory.
TEST(FaultsSlow, KilledAtAnyMomentLeavesTheSourceAndTheNextRunSweeps) {
  TempDir scratch("vmfix-faults-kill");
  const fs::path tmp = scratch.path() / "tmp", out_dir = scratch.path() / "out";
  for (const fs::path& d : {tmp, out_dir}) fs::create_directory(d);
  const fs::path source = scratch.path() / "debian.qcow2";
  fs::copy_file(fixture_image("debian11-gpt-bios"), source);
  const std::string before = sha256(source);
  const std::vector<std::string> environment{cache_environment(), "TMPDIR=" + tmp.string(),
                                             "LIBGUESTFS_CACHEDIR=/var/tmp"};
  const fs::path out = out_dir / "debian.vmdk";
  const std::vector<std::string> args{"--all", "--force", "-o", out.string(), source.string()};

  const auto start = std::chrono::steady_clock::now();
  CliResult whole = run_vmfix(args, environment);
  const auto run_time = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(fs::exists(out)) << whole.err;
  fs::remove(out);
  auto after_the_kill = [&] {
    // Killed after the output was renamed into place: it is whole, then.
    if (fs::exists(out)) {
      EXPECT_EQ(run_host({"qemu-img", "check", "-q", out.string()}).exit_status, 0) << "an incomplete output";
      fs::remove(out);
    }
    EXPECT_FALSE(process_left_on(tmp)) << "a process outlived vmfix";
    EXPECT_EQ(sha256(source), before) << "the source changed";
  };
  for (double moment : {0.05, 0.2, 0.35, 0.5, 0.65, 0.8, 0.9}) {
    SCOPED_TRACE(fmt::format("killed at {:.0f}% of the run", moment * 100));
    VmfixProcess vmfix(args, environment);
    std::this_thread::sleep_for(std::chrono::duration_cast<std::chrono::milliseconds>(run_time * moment));
    ::kill(vmfix.pid(), SIGKILL);
    vmfix.wait();
    after_the_kill();
  }
  {
    SCOPED_TRACE("killed while writing");
    VmfixProcess vmfix(args, environment);
    for (int i = 0; i < 6000 && partial_dirs(out_dir).empty(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ::kill(vmfix.pid(), SIGKILL);
    vmfix.wait();
    after_the_kill();
  }
  ASSERT_FALSE(partial_dirs(out_dir).empty()) << "a kill while writing left no partial output to sweep";
  CliResult last = run_vmfix(args, environment);
  EXPECT_TRUE(fs::exists(out)) << last.err;
  EXPECT_TRUE(partial_dirs(out_dir).empty()) << "the killed runs' partial files were not swept";
  EXPECT_EQ(sha256(source), before);
}

// A batch killed with SIGKILL again and again, at moments spread over its run, each time resumed
// from where the journal says it was: the journal always opens, the last resume ends with every
// image done exactly once and the verdicts of an uninterrupted batch, and no temporary journal
// file or worker is left.
TEST(FaultsSlow, ABatchKilledAtAnyMomentResumes) {
  TempDir scratch("vmfix-faults-batch");
  const fs::path lib = scratch.path() / "library";
  fs::create_directories(lib);
  fs::copy_file(fixture_image("debian11-gpt-bios"), lib / "debian.qcow2");
  fs::copy_file(fixture_image("ubuntu1804-vmware"), lib / "ubuntu.vmdk");
  fs::copy_file(fixture_image("centos7-vmware"), lib / "centos.vmdk");
  auto args = [&](const fs::path& out) {
    // Each kill counts as an attempt of the image it cut short (a batch cannot tell its own kill from
    // an image that takes the machine down): allow more attempts than there are kills.
    return std::vector<std::string>{"batch", "--check",    "-j", "1",         "--max-attempts",
                                    "20",    lib.string(), "-o", out.string()};
  };
  const auto start = std::chrono::steady_clock::now();
  CliResult whole = run_vmfix(args(scratch.path() / "whole"), {cache_environment()});
  const auto run_time = std::chrono::steady_clock::now() - start;
  const json reference = json::parse(read_host_file(scratch.path() / "whole/summary.json"));

  const fs::path out = scratch.path() / "killed";
  for (double moment : {0.02, 0.15, 0.3, 0.45, 0.6, 0.75, 0.9}) {
    SCOPED_TRACE(fmt::format("killed at {:.0f}% of a run", moment * 100));
    VmfixProcess batch(args(out), {cache_environment()});
    std::this_thread::sleep_for(std::chrono::duration_cast<std::chrono::milliseconds>(run_time * moment));
    ::kill(batch.pid(), SIGKILL);
    batch.wait();
    EXPECT_FALSE(process_left_on(lib)) << "a worker outlived the batch";
  }
  CliResult resumed = run_vmfix(args(out), {cache_environment()});
  EXPECT_EQ(resumed.exit_status, whole.exit_status) << resumed.err;
  const json summary = json::parse(read_host_file(out / "summary.json"));
  ASSERT_EQ(summary["images"].size(), reference["images"].size()) << summary.dump(2);
  for (const json& image : reference["images"]) {
    int seen = 0;
    for (const json& other : summary["images"])
      if (other["image"] == image["image"]) {
        ++seen;
        EXPECT_EQ(other["state"], image["state"]) << image["image"];
        EXPECT_EQ(other["verdict"], image["verdict"]) << image["image"];
      }
    EXPECT_EQ(seen, 1) << image["image"];
  }
  for (const auto& entry : fs::directory_iterator(out))
    EXPECT_FALSE(entry.path().filename().string().starts_with(".journal")) << entry.path() << " left behind";
}

}  // namespace vmfix::test

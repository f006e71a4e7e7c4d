// The output side of the format layer, on the host only (qemu-img, no appliance): the OVF
// rewritten for AWS, the tar writer, and every input format written out as every output format.
#include "image/output.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "image/detect.h"
#include "image/manifest.h"
#include "image/ova.h"
#include "image/ovf.h"
#include "image/vm_source.h"
#include "support/error.h"
#include "support/files.h"
#include "support/interrupt.h"
#include "support/process.h"
#include "support/progress.h"
#include "support/unique_fd.h"
#include "tests/test_support.h"

extern char** environ;

namespace vmfix::image {
namespace fs = std::filesystem;

namespace {

// The disks of `ovf` that hold data, as vmfix would write them.
std::vector<OvaDisk> written_disks(const Ovf& ovf) {
  std::vector<OvaDisk> disks;
  for (const OvfDisk& disk : ovf.disks)
    if (!disk.file_href.empty())
      disks.push_back({disk.disk_id, fmt::format("out-disk{}.vmdk", disks.size() + 1), 1000 + disks.size(),
                       (disks.size() + 1) << 30});
  return disks;
}

}  // namespace

TEST(OvfForAws, CorpusDescriptorsKeepTheirDisksAndLoseDrivesAndExtraNics) {
  VMFIX_REQUIRE_CORPUS(corpus);
  int rewritten = 0, with_cdrom = 0;
  for (const auto& entry : fs::recursive_directory_iterator(corpus / "ovf")) {
    if (entry.path().extension() != ".ovf") continue;
    const std::string text = read_host_file(entry.path());
    Ovf source;
    try {
      source = parse_ovf(text, entry.path().string());
    } catch (const BadInput&) {
      continue;  // the refused ones are ova_test's business
    }
    const auto disks = written_disks(source);
    if (disks.empty()) continue;
    SCOPED_TRACE(entry.path().string());
    OvfForAws out = ovf_for_aws(text, disks, entry.path().string());
    Ovf result = parse_ovf(out.xml, "rewritten");
    ++rewritten;
    if (source.cdroms > 0) ++with_cdrom;
    EXPECT_EQ(result.cdroms, 0);
    EXPECT_EQ(result.floppies, 0);
    EXPECT_EQ(result.nics, std::min(source.nics, 1));
    EXPECT_EQ(result.name, source.name);
    EXPECT_EQ(result.os_type, source.os_type);
    EXPECT_EQ(result.firmware, source.firmware);
    ASSERT_EQ(result.disks.size(), disks.size());
    ASSERT_EQ(result.files.size(), disks.size()) << "only the disks' files stay";
    for (size_t i = 0; i < disks.size(); ++i) {
      EXPECT_EQ(result.disks[i].disk_id, disks[i].disk_id);
      EXPECT_EQ(result.disks[i].file_href, disks[i].href);
      EXPECT_EQ(result.disks[i].capacity, disks[i].capacity);
      EXPECT_NE(result.disks[i].format.find("streamOptimized"), std::string::npos);
    }
    for (const OvfFile& file : result.files) {
      EXPECT_EQ(file.chunk_size, 0u);
      EXPECT_TRUE(file.compression.empty());
      EXPECT_EQ(file.size, 1000 + static_cast<uint64_t>(&file - result.files.data()));
    }
    const int removed_drives = source.cdroms + source.floppies + std::max(source.nics - 1, 0);
    EXPECT_GE(static_cast<int>(out.removed.size()), removed_drives);
  }
  EXPECT_GE(rewritten, 20);
  EXPECT_GE(with_cdrom, 5);
}

TEST(OvfForAws, FilesThatAreNotDisksGoWithWhatNamesThem) {
  // An ISO in the CD-ROM and an nvram file, as vSphere exports them; a blank disk; two NICs.
  const std::string extra =
      R"(<Item><rasd:InstanceID>22</rasd:InstanceID><rasd:ResourceType>10</rasd:ResourceType></Item>
      <Item><rasd:ElementName>Floppy drive 1</rasd:ElementName><rasd:InstanceID>23</rasd:InstanceID><rasd:ResourceType>14</rasd:ResourceType></Item>
      <Item><rasd:HostResource>ovf:/disk/blank</rasd:HostResource><rasd:InstanceID>24</rasd:InstanceID><rasd:ResourceType>17</rasd:ResourceType></Item>
      <vmw:ExtraConfig ovf:required="false" vmw:key="nvram" vmw:value="ovf:/file/nvram"/>
      <vmw:Wrapper vmw:value="ovf:/file/nvram"><vmw:Inner>ovf:/disk/blank</vmw:Inner></vmw:Wrapper>
      <vmw:Both vmw:a="ovf:/file/nvram" vmw:b="ovf:/disk/blank"/>)";
  std::string xml = test::ovf_descriptor({{"a.vmdk", 10}, {"b.vmdk", 20}}, extra);
  xml.replace(xml.find("</References>"), 0, R"(<File ovf:href="vm.nvram" ovf:id="nvram" ovf:size="8684"/>)");
  xml.replace(xml.find("</DiskSection>"), 0,
              R"(<Disk ovf:capacity="1" ovf:capacityAllocationUnits="byte * 2^30" ovf:diskId="blank"/>)");
  Ovf source = parse_ovf(xml, "vm.ovf");
  ASSERT_EQ(source.nics, 2);
  OvfForAws out = ovf_for_aws(xml, written_disks(source), "vm.ovf");
  EXPECT_EQ(out.xml.find("nvram"), std::string::npos) << out.xml;
  EXPECT_EQ(out.xml.find("blank"), std::string::npos) << out.xml;
  EXPECT_NE(out.xml.find("firmware"), std::string::npos) << "unrelated settings stay";
  Ovf result = parse_ovf(out.xml, "out");
  EXPECT_EQ(result.nics, 1);
  EXPECT_EQ(result.floppies, 0);
  EXPECT_EQ(result.cdroms, 0);
  EXPECT_EQ(result.disks.size(), 2u);
  std::string removed;
  for (const auto& what : out.removed) removed += what + "; ";
  for (const char* expected :
       {"CD/DVD drive", "floppy drive 'Floppy drive 1'", "network adapter", "file 'vm.nvram'", "disk 'blank'"})
    EXPECT_NE(removed.find(expected), std::string::npos) << expected << " in " << removed;
}

// libxml2 reads UTF-16; a DTD in it is refused as in UTF-8, and so are duplicate ids (which would
// make one element stand for two).
TEST(OvfForAws, RefusesDtdsInAnyEncodingAndDuplicateIds) {
  const std::string utf8 = "<?xml version=\"1.0\" encoding=\"UTF-16\"?><!DOCTYPE e [<!ENTITY x \"y\">]><Envelope/>";
  std::string utf16 = "\xff\xfe";
  for (char c : utf8) utf16 += std::string{c, '\0'};
  try {
    parse_ovf(utf16, "utf16.ovf");
    ADD_FAILURE() << "a DTD in UTF-16 was accepted";
  } catch (const BadInput& e) {
    EXPECT_NE(std::string(e.what()).find("DTD"), std::string::npos) << e.what();
  }
  std::string twice = test::ovf_descriptor({{"a.vmdk", 10}});
  twice.replace(twice.find("</References>"), 0, R"(<File ovf:href="b.vmdk" ovf:id="file0" ovf:size="1"/>)");
  EXPECT_THROW(parse_ovf(twice, "twice.ovf"), BadInput);
}

TEST(OvfForDisks, DescribesBareDisksAsOneVm) {
  std::string xml = ovf_for_disks("web & db", "windows", 64,
                                  {{"", "x-disk1.vmdk", 111, 8ULL << 30}, {"", "x-disk2.vmdk", 222, 1 << 30}});
  Ovf ovf = parse_ovf(xml, "generated");
  EXPECT_EQ(ovf.name, "web & db");
  EXPECT_EQ(ovf.nics, 1);
  EXPECT_EQ(ovf.cdroms, 0);
  ASSERT_EQ(ovf.disks.size(), 2u);
  EXPECT_EQ(ovf.disks[0].file_href, "x-disk1.vmdk");
  EXPECT_EQ(ovf.disks[0].capacity, 8ULL << 30);
  EXPECT_EQ(ovf.disks[1].controller, "scsi");
  EXPECT_EQ(ovf.files[1].size, 222u);
}

// The free-space check: a cheap yes when the disks' full size fits, else qemu-img's measure of
// what they hold, and a clear error when even that does not fit.
TEST(OutputSpace, FullSizeBoundThenMeasureThenRefuse) {
  TempDir dir("space");
  const fs::path disk = dir.path() / "disk.qcow2";
  run_host_checked({"qemu-img", "create", "-q", "-f", "qcow2", disk.string(), "1G"});
  run_host_checked({"qemu-io", "-c", "write -P 7 0 8M", disk.string()});
  const std::vector<fs::path> overlays{disk};
  const std::vector<uint64_t> sizes{1ULL << 30};
  EXPECT_NO_THROW(check_output_space(overlays, sizes, OutputFormat::vmdk, 2ULL << 30, dir.path()));
  EXPECT_NO_THROW(check_output_space(overlays, sizes, OutputFormat::vhd, 64ULL << 20, dir.path()))
      << "8 MiB of data fits in 64 MiB";
  EXPECT_NO_THROW(check_output_space(overlays, sizes, OutputFormat::raw, 1100ULL << 20, dir.path()));
  try {
    check_output_space(overlays, sizes, OutputFormat::raw, 512ULL << 20, dir.path());
    ADD_FAILURE() << "a full 1 GiB raw image does not fit in 512 MiB";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), fmt::format("{}: 512 MiB free, the output needs 1024 MiB", dir.path().string()));
  }
  EXPECT_THROW(check_output_space(overlays, sizes, OutputFormat::ova, 10ULL << 20, dir.path()), Error)
      << "an OVA holds its disks twice";
}

TEST(TarWriter, WritesWhatTarAndOurReaderRead) {
  TempDir scratch("vmfix-tar-test");
  const fs::path payload = scratch.path() / "payload.bin";
  const std::string bytes = test::random_bytes(3 * 1024 * 1024 + 7, 3);
  test::write_file(payload, bytes);
  const fs::path archive = scratch.path() / "out.ova";
  uint64_t copied = 0;
  write_tar(archive, {{"vm.ovf", "<Envelope/>", {}}, {"vm.mf", "", {}}, {"vm-disk1.vmdk", "", payload}},
            [&](uint64_t n) { copied += n; });
  EXPECT_EQ(copied, bytes.size());
  EXPECT_EQ(fs::file_size(archive) % 512, 0u);
  auto members = read_tar_members(archive);
  ASSERT_EQ(members.size(), 3u);
  EXPECT_EQ(members[0].name, "vm.ovf");
  EXPECT_EQ(read_host_bytes(archive, members[0].offset, members[0].size), "<Envelope/>");
  EXPECT_EQ(members[1].size, 0u);
  EXPECT_EQ(read_host_bytes(archive, members[2].offset, members[2].size), bytes);
  // GNU tar agrees, member by member and byte for byte.
  EXPECT_EQ(run_host_checked({"tar", "-tf", archive.string()}), "vm.ovf\nvm.mf\nvm-disk1.vmdk\n");
  EXPECT_EQ(run_host_checked({"tar", "-xOf", archive.string(), "vm-disk1.vmdk"}), bytes);
  // Never over an existing file; never a name with a path.
  EXPECT_THROW(write_tar(archive, {{"x", "y", {}}}), Error);
  EXPECT_THROW(write_tar(scratch.path() / "b.ova", {{"../x", "y", {}}}), Error);
  EXPECT_THROW(write_tar(scratch.path() / "c.ova", {{std::string(120, 'n'), "y", {}}}), Error);
}

// Regular files and pipes are read, whole and within the bound; a device or a directory is
// refused, and a fifo without a writer reads as empty rather than waiting for one.
TEST(HostFiles, ReadWhenFilesOrPipesAndWithinTheBound) {
  TempDir scratch("vmfix-host-files");
  const fs::path file = scratch.path() / "file", fifo = scratch.path() / "fifo";
  test::write_file(file, std::string(4096, 'x'));
  EXPECT_EQ(read_host_file(file, 4096).size(), 4096u);
  EXPECT_EQ(read_host_file(file).size(), 4096u);
  try {
    read_host_file(file, 4095);
    ADD_FAILURE() << "read past the bound";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), file.string() + ": larger than 3 KiB, more than such a file can be");
  }
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(read_host_file(fifo), "");
  // A pipe, as `<(command)` gives one, holding what its writer wrote before it closed.
  auto pipe_holding = [](size_t bytes) {
    int ends[2];
    EXPECT_EQ(::pipe2(ends, O_CLOEXEC), 0);
    EXPECT_GE(::fcntl(ends[1], F_SETPIPE_SZ, 1 << 20), 1 << 20);
    const std::string content(bytes, 'p');
    EXPECT_EQ(::write(ends[1], content.data(), content.size()), static_cast<ssize_t>(bytes));
    ::close(ends[1]);
    return std::make_pair(UniqueFd(ends[0]), fs::path(fmt::format("/proc/self/fd/{}", ends[0])));
  };
  const auto small = pipe_holding(5000);
  EXPECT_EQ(read_host_file(small.second, 65536), std::string(5000, 'p'));
  const auto large = pipe_holding(100000);
  EXPECT_THROW(read_host_file(large.second, 65536), Error) << "a pipe is bounded as it is read";
  for (const char* other : {"/dev/zero", "/dev/null", "/"}) {
    try {
      read_host_file(other, 1 << 20);
      ADD_FAILURE() << other << " was read";
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()), std::string(other) + ": not a regular file or a pipe");
    }
  }
}

TEST(Interrupt, StalePartialsAreThoseNobodyLocks) {
  TempDir scratch("vmfix-partials");
  const fs::path dead = scratch.path() / ".vmfix-partial-elsewhere-17-abcdef";
  const fs::path alive = scratch.path() / ".vmfix-partial-elsewhere-18-abcdef";
  const fs::path fresh = scratch.path() / ".vmfix-partial-elsewhere-19-abcdef";
  const fs::path killed = scratch.path() / ".vmfix-partial-elsewhere-21-abcdef";
  const fs::path user_file = scratch.path() / "image-vmfix.vmdk";
  for (const fs::path& dir : {dead, alive, fresh, killed}) {
    fs::create_directory(dir);
    test::write_file(dir / "image-vmfix.vmdk", "partial");
  }
  const auto old = fs::file_time_type::clock::now() - std::chrono::minutes(5);
  fs::last_write_time(dead, old);
  fs::last_write_time(alive, old);
  test::write_file(user_file, "finished");
  test::write_file(killed / ".vmfix-lock", "");  // its maker locked it, then died a moment ago
  // Another process holds `alive`: a child, so the lock is not this process's own.
  const std::string script = fmt::format("exec 9<>'{}/.vmfix-lock' && flock 9 && touch '{}/locked' && exec sleep 30",
                                         alive.string(), scratch.path().string());
  pid_t holder = 0;
  std::vector<char*> argv{const_cast<char*>("sh"), const_cast<char*>("-c"), const_cast<char*>(script.c_str()), nullptr};
  ASSERT_EQ(posix_spawnp(&holder, "sh", nullptr, nullptr, argv.data(), environ), 0);
  for (int i = 0; i < 100 && !fs::exists(scratch.path() / "locked"); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_TRUE(fs::exists(scratch.path() / "locked"));
  fs::last_write_time(alive, old);

  interrupt::remove_stale_partials(scratch.path());
  EXPECT_FALSE(fs::exists(dead)) << "no lock file, and old: its maker died before locking it";
  EXPECT_TRUE(fs::exists(alive)) << "its writer holds the lock";
  EXPECT_TRUE(fs::exists(fresh)) << "no lock file yet, and new: being made";
  EXPECT_FALSE(fs::exists(killed)) << "its lock file is there and nobody holds it, however new";
  EXPECT_EQ(read_host_file(user_file), "finished");
  ::kill(holder, SIGKILL);
  ::waitpid(holder, nullptr, 0);
  interrupt::remove_stale_partials(scratch.path());
  EXPECT_FALSE(fs::exists(alive)) << "its writer is gone";

  // A maker that locks a directory already swept sees that its lock holds nothing reachable.
  const fs::path made = scratch.path() / ".vmfix-partial-here-20-abcdef";
  fs::create_directory(made);
  interrupt::InUse lock(made);
  EXPECT_TRUE(lock.locked() && lock.holds(made));
  fs::remove_all(made);
  EXPECT_FALSE(lock.holds(made));
  fs::create_directory(made);
  test::write_file(made / ".vmfix-lock", "");
  EXPECT_FALSE(lock.holds(made)) << "another directory under the same name";
}

TEST(Progress, ReadsQemuImgPercentages) {
  EXPECT_EQ(qemu_img_percent("    (0.00/100%)\r    (12.50/100%)\r"), 12.5);
  EXPECT_EQ(qemu_img_percent("    (100.00/100%)\r"), 100.0);
  EXPECT_LT(qemu_img_percent("no progress here"), 0);
  EXPECT_LT(qemu_img_percent("(x/100%)"), 0);
}

// Every input format vmfix reads, written out as every output format: the output verifies, qemu-img
// checks it, and its disks hold exactly the source's bytes (what the fixers changed aside: nothing
// here).
class RoundTrip : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("vmfix-roundtrip");
    // A 6 MiB disk: an MBR with one partition, some data at both ends; a second 3 MiB disk.
    std::string disk(6 << 20, '\0');
    disk[446 + 4] = '\x83';
    disk[446 + 8] = '\x00', disk[446 + 9] = '\x08';  // starts at sector 2048
    disk[510] = '\x55', disk[511] = '\xaa';
    const std::string data = test::random_bytes(256 * 1024, 7);
    disk.replace(1 << 20, data.size(), data);
    disk.replace(disk.size() - data.size(), data.size(), data);
    test::write_file(path("boot.raw"), disk);
    std::string second(3 << 20, '\0');
    second[510] = '\x55', second[511] = '\xaa';
    second.replace(4096, data.size(), data);
    test::write_file(path("data.raw"), second);
    auto convert = [](const char* from, const std::vector<std::string>& options, const std::string& to) {
      std::vector<std::string> argv{"qemu-img", "convert", "-q", "-f", "raw"};
      argv.insert(argv.end(), options.begin(), options.end());
      argv.push_back(path(from).string());
      argv.push_back(path(to).string());
      run_host_checked(argv);
    };
    convert("boot.raw", {"-O", "qcow2"}, "boot.qcow2");
    convert("boot.raw", {"-O", "vmdk"}, "boot-sparse.vmdk");
    convert("boot.raw", {"-O", "vmdk", "-o", "subformat=streamOptimized"}, "boot-stream.vmdk");
    convert("boot.raw", {"-O", "vpc", "-o", "force_size=on"}, "boot-dynamic.vhd");
    convert("boot.raw", {"-O", "vpc", "-o", "subformat=fixed,force_size=on"}, "boot-fixed.vhd");
    convert("boot.raw", {"-O", "vhdx"}, "boot.vhdx");
    convert("data.raw", {"-O", "vmdk", "-o", "subformat=streamOptimized"}, "data-stream.vmdk");
    test::write_file(path("vm.ovf"),
                     test::ovf_descriptor({{"boot-stream.vmdk", fs::file_size(path("boot-stream.vmdk"))},
                                           {"data-stream.vmdk", fs::file_size(path("data-stream.vmdk"))}}));
    run_host_checked({"tar", "--format=ustar", "-C", dir_->path().string(), "-cf", path("vm.ova").string(), "vm.ovf",
                      "boot-stream.vmdk", "data-stream.vmdk"});
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static fs::path path(const std::string& name) { return dir_->path() / name; }
  static TempDir* dir_;
};
TempDir* RoundTrip::dir_ = nullptr;

TEST_F(RoundTrip, EveryInputAsEveryOutput) {
  const std::vector<std::string> inputs{"boot.raw",         "boot.qcow2",       "boot-sparse.vmdk",
                                        "boot-stream.vmdk", "boot-dynamic.vhd", "boot-fixed.vhd",
                                        "boot.vhdx",        "vm.ova",           "vm.ovf"};
  const std::vector<std::string> outputs{"raw", "vhd", "vhd-fixed", "vhdx", "vmdk", "ova"};
  const std::map<std::string, std::string> qemu_format{
      {"raw", "raw"}, {"vhd", "vpc"}, {"vhd-fixed", "vpc"}, {"vhdx", "vhdx"}, {"vmdk", "vmdk"}};
  for (const std::string& input : inputs) {
    const VmSource vm = open_vm(path(input));
    TempDir work("vmfix-roundtrip-work");
    std::vector<fs::path> overlays;
    for (size_t i = 0; i < vm.disks.size(); ++i)
      overlays.push_back(create_overlay(vm.disks[i], work.path(), static_cast<int>(i)));
    for (const std::string& format : outputs) {
      SCOPED_TRACE(input + " -> " + format);
      const fs::path out = work.path() / ("out." + format);
      OutputSpec spec = choose_output(vm, out.string(), output_format_named(format));
      ASSERT_EQ(spec.files.size(), format == "ova" ? 1u : vm.disks.size());
      write_output(vm, overlays, spec, GuestSummary{"roundtrip", "linux", 64}, false);
      for (const auto& entry : fs::directory_iterator(work.path()))
        EXPECT_FALSE(entry.path().filename().string().starts_with(".vmfix-partial")) << "a partial directory stayed";
      // Read back by our own reader, then compared by qemu, disk by disk.
      std::vector<std::pair<std::string, std::string>> disks;  // qemu spec, format
      if (format == "ova") {
        VmSource written = open_vm(out);
        EXPECT_EQ(written.manifest, "verified");
        ASSERT_EQ(written.disks.size(), vm.disks.size());
        for (size_t i = 0; i < written.disks.size(); ++i)
          disks.push_back({create_overlay(written.disks[i], work.path(), 100 + static_cast<int>(i)).string(), "qcow2"});
      } else {
        for (const fs::path& file : spec.files) {
          open_image(file);
          auto info = nlohmann::json::parse(
              run_host_checked({"qemu-img", "info", "--output=json", "-f", qemu_format.at(format), file.string()}));
          EXPECT_EQ(info["virtual-size"], (&file == spec.files.data() ? 6 : 3) << 20);
          if (format != "raw" && format != "vhd" && format != "vhd-fixed") {
            EXPECT_EQ(run_host({"qemu-img", "check", "-q", "-f", qemu_format.at(format), file.string()}).exit_status,
                      0);
          }
          disks.push_back({file.string(), qemu_format.at(format)});
        }
      }
      ASSERT_EQ(disks.size(), overlays.size());
      for (size_t i = 0; i < disks.size(); ++i) {
        ProcessResult same = run_host(
            {"qemu-img", "compare", "-q", "-f", "qcow2", "-F", disks[i].second, overlays[i].string(), disks[i].first});
        EXPECT_EQ(same.exit_status, 0) << "disk " << i << " differs from its source: " << same.output;
      }
      for (const fs::path& file : spec.files) fs::remove(file);
      for (int i = 100; i < 102; ++i) fs::remove(work.path() / fmt::format("disk{}.qcow2", i));
    }
  }
}

TEST_F(RoundTrip, OutputNamesAreNeverTheSourcesOrSomethingUnasked) {
  const VmSource vm = open_vm(path("vm.ova"));
  EXPECT_EQ(choose_output(vm, std::nullopt, std::nullopt).format, OutputFormat::ova) << "an OVA comes back as an OVA";
  EXPECT_EQ(choose_output(vm, std::nullopt, std::nullopt).path, path("vm-vmfix.ova"));
  OutputSpec two = choose_output(vm, path("x.vmdk").string(), OutputFormat::vmdk);
  ASSERT_EQ(two.files.size(), 2u);
  EXPECT_EQ(two.files[1], path("x-disk2.vmdk"));
  test::write_file(path("y-disk2.vmdk"), "someone's file");
  EXPECT_THROW(choose_output(vm, path("y.vmdk").string(), OutputFormat::vmdk), UsageError);
  EXPECT_THROW(choose_output(vm, path("vm.ova").string(), OutputFormat::ova), UsageError);
  EXPECT_THROW(choose_output(open_vm(path("vm.ovf")), path("boot-stream.vmdk").string(), OutputFormat::vmdk),
               UsageError);
  EXPECT_THROW(output_format_named("qcow2"), UsageError) << "qcow2 is written only in place";
  EXPECT_EQ(choose_output(open_vm(path("boot-fixed.vhd")), std::nullopt, std::nullopt).format, OutputFormat::vhd_fixed);
  EXPECT_EQ(choose_output(open_vm(path("boot.qcow2")), std::nullopt, std::nullopt).format, OutputFormat::vmdk);
}

}  // namespace vmfix::image

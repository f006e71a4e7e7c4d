#include "image/ova.h"

#include <fmt/core.h>
#include <gtest/gtest.h>

#include "image/manifest.h"
#include "image/ovf.h"
#include "image/vm_source.h"
#include "support/error.h"
#include "support/files.h"
#include "support/process.h"
#include "tests/test_support.h"

namespace vmfix::image {
namespace fs = std::filesystem;

namespace {

class OvaTest : public ::testing::Test {
 protected:
  fs::path path(const std::string& name) { return scratch_.path() / name; }

  // A 4 MiB streamOptimized VMDK holding an MBR signature, so it reads as a disk.
  fs::path make_vmdk(const std::string& name) {
    std::string disk(4 * 1024 * 1024, '\0');
    disk[510] = '\x55';
    disk[511] = '\xaa';
    test::write_file(path(name + ".raw"), disk);
    run_host_checked({"qemu-img", "convert", "-q", "-f", "raw", "-O", "vmdk", "-o", "subformat=streamOptimized",
                      path(name + ".raw").string(), path(name).string()});
    fs::remove(path(name + ".raw"));
    return path(name);
  }

  // tar in the given format of the named files in the scratch directory, in that order.
  fs::path make_tar(const std::string& name, const std::vector<std::string>& members,
                    const std::string& format = "ustar") {
    std::vector<std::string> argv{"tar", "--format=" + format, "-C", scratch_.path().string(),
                                  "-cf", path(name).string()};
    argv.insert(argv.end(), members.begin(), members.end());
    run_host_checked(argv);
    return path(name);
  }

  std::string error_of(const fs::path& input) {
    try {
      open_vm(input);
    } catch (const BadInput& e) {
      return e.what();
    }
    return "";
  }

  TempDir scratch_{"vmfix-ova-test"};
};

}  // namespace

TEST(Ovf, ParsesDisksInHardwareOrderAndDevices) {
  Ovf ovf = parse_ovf(test::ovf_descriptor({{"a.vmdk", 1}, {"b.vmdk", 2}}), "t.ovf");
  EXPECT_EQ(ovf.name, "test-vm");
  EXPECT_EQ(ovf.os_type, "centos7_64Guest");
  ASSERT_EQ(ovf.disks.size(), 2u);
  EXPECT_EQ(ovf.disks[0].file_href, "a.vmdk");
  EXPECT_EQ(ovf.disks[0].capacity, 4u << 20);
  EXPECT_EQ(ovf.disks[0].controller, "scsi");
  EXPECT_EQ(ovf.disks[1].address, 1);
  EXPECT_EQ(ovf.cdroms, 1);
  EXPECT_EQ(ovf.nics, 1);
  EXPECT_EQ(ovf.firmware, "bios");
}

TEST(Ovf, RefusesDtdsEntitiesAndMalformedXml) {
  const std::string xxe =
      "<?xml version=\"1.0\"?><!DOCTYPE e [<!ENTITY x SYSTEM \"file:///etc/shadow\">]><Envelope>&x;</Envelope>";
  EXPECT_THROW(parse_ovf(xxe, "x.ovf"), BadInput);
  const std::string bomb =
      "<?xml version=\"1.0\"?><!DOCTYPE l [<!ENTITY a \"aaaaaaaa\"><!ENTITY b "
      "\"&a;&a;&a;&a;\">]><Envelope>&b;</Envelope>";
  EXPECT_THROW(parse_ovf(bomb, "b.ovf"), BadInput);
  try {
    parse_ovf("<Envelope><References>", "m.ovf");
    FAIL();
  } catch (const BadInput& e) {
    EXPECT_NE(std::string(e.what()).find("m.ovf: malformed OVF"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_ovf("<NotAnEnvelope/>", "n.ovf"), BadInput);
  // Elements nested 100,000 deep: libxml2 refuses more than 256 levels (without XML_PARSE_HUGE,
  // which vmfix does not ask for), so the OVF's element walks, which recurse, never see them.
  std::string deep = "<Envelope><VirtualSystem>";
  for (int i = 0; i < 100000; ++i) deep += "<Item>";
  for (int i = 0; i < 100000; ++i) deep += "</Item>";
  deep += "</VirtualSystem></Envelope>";
  try {
    parse_ovf(deep, "d.ovf");
    FAIL() << "accepted";
  } catch (const BadInput& e) {
    EXPECT_NE(std::string(e.what()).find("d.ovf: malformed OVF"), std::string::npos) << e.what();
  }
}

TEST(Ovf, CorpusDescriptors) {
  VMFIX_REQUIRE_CORPUS(corpus);
  int parsed = 0;
  for (const auto& entry : fs::recursive_directory_iterator(corpus / "ovf")) {
    if (entry.path().extension() != ".ovf") continue;
    try {
      Ovf ovf = parse_ovf(read_host_file(entry.path()), entry.path().string());
      for (const OvfDisk& disk : ovf.disks) {
        if (!disk.file_href.empty()) {
          EXPECT_FALSE(disk.disk_id.empty()) << entry.path();
        }
      }
      ++parsed;
    } catch (const BadInput& e) {
      EXPECT_NE(std::string(e.what()).find(entry.path().string()), std::string::npos);
    }
  }
  EXPECT_GE(parsed, 25);
  // virt-v2v's two-disk OVA: the expected output lists two disks, one CD-ROM and one NIC.
  Ovf two = parse_ovf(read_host_file(corpus / "ovf/virt-v2v/test-i-ova-two-disks.ovf"), "two");
  ASSERT_EQ(two.disks.size(), 2u);
  EXPECT_EQ(two.cdroms, 1);
  EXPECT_EQ(two.nics, 1);
  EXPECT_THROW(parse_ovf(read_host_file(corpus / "ovf/govmomi/virtualsystemcollection.ovf"), "c"), BadInput);
  // Deployment options: the default configuration ("large") is the VM; "small"'s disks are not.
  Ovf options = parse_ovf(read_host_file(corpus / "ovf/govmomi/multiple_disks.ovf"), "options");
  ASSERT_EQ(options.disks.size(), 4u);
  EXPECT_EQ(options.disks[0].disk_id, "system_large");
  EXPECT_EQ(options.disks[2].file_href, "disk2.vmdk");
  EXPECT_EQ(options.disks[3].file_href, "") << "scratch_large is created at deployment";
}

TEST(Manifest, ParsesAndDigests) {
  VMFIX_REQUIRE_CORPUS(corpus);
  auto entries = parse_manifest(read_host_file(corpus / "ovf/cot/input.mf"), "input.mf");
  ASSERT_EQ(entries.size(), 4u);
  EXPECT_EQ(entries[0].algorithm, "SHA1");
  EXPECT_EQ(entries[0].file, "input.ovf");
  // The manifest's own digest of input.ovf, computed here.
  const fs::path ovf = corpus / "ovf/cot/input.ovf";
  EXPECT_EQ(digest_of(ByteSource{ovf, 0, fs::file_size(ovf), "input.ovf"}, "SHA1"), entries[0].digest);
  EXPECT_THROW(parse_manifest("MD5(a)= 00\n", "x.mf"), BadInput);
  EXPECT_THROW(parse_manifest("garbage\n", "x.mf"), BadInput);
}

TEST_F(OvaTest, ReadsDisksInPlaceAndVerifiesTheManifest) {
  make_vmdk("disk1.vmdk");
  make_vmdk("disk2.vmdk");
  test::write_file(path("vm.ovf"), test::ovf_descriptor({{"disk1.vmdk", fs::file_size(path("disk1.vmdk"))},
                                                         {"disk2.vmdk", fs::file_size(path("disk2.vmdk"))}}));
  std::string manifest;
  for (const char* name : {"vm.ovf", "disk1.vmdk", "disk2.vmdk"})
    manifest += fmt::format("SHA256({})= {}\n", name,
                            digest_of(ByteSource{path(name), 0, fs::file_size(path(name)), name}, "SHA256"));
  test::write_file(path("vm.mf"), manifest);
  VmSource vm = open_vm(make_tar("vm.ova", {"vm.ovf", "vm.mf", "disk1.vmdk", "disk2.vmdk"}));
  EXPECT_EQ(vm.kind, "ova");
  EXPECT_EQ(vm.manifest, "verified");
  ASSERT_EQ(vm.disks.size(), 2u);
  EXPECT_EQ(vm.disks[0].format, Format::vmdk);
  EXPECT_EQ(vm.disks[0].variant, "streamOptimized");
  EXPECT_EQ(vm.disks[1].bytes.name, path("vm.ova").string() + ":disk2.vmdk");
  EXPECT_EQ(vm.disks[1].bytes.read(0, 4), "KDMV");  // read at its offset inside the archive
  // The same VM as an OVF beside its disks.
  VmSource beside = open_vm(path("vm.ovf"));
  EXPECT_EQ(beside.kind, "ovf");
  EXPECT_EQ(beside.manifest, "verified");
  EXPECT_EQ(beside.disks.size(), 2u);
  // An overlay reads the disk through its byte range.
  const fs::path overlay = create_overlay(vm.disks[1], scratch_.path(), 1);
  EXPECT_NE(run_host_checked({"qemu-img", "info", overlay.string()}).find("virtual size: 4 MiB"), std::string::npos);
  EXPECT_EQ(run_host({"qemu-img", "compare", "-q", overlay.string(), path("disk2.vmdk").string()}).exit_status, 0);

  // A disk altered after the manifest was written is refused.
  std::string bytes = read_host_file(path("disk2.vmdk"));
  bytes[bytes.size() - 2000] ^= 1;
  test::write_file(path("disk2.vmdk"), bytes);
  EXPECT_NE(error_of(make_tar("altered.ova", {"vm.ovf", "vm.mf", "disk1.vmdk", "disk2.vmdk"}))
                .find("does not match its SHA256"),
            std::string::npos);
}

TEST_F(OvaTest, ManifestThatLeavesADiskOutIsIncomplete) {
  make_vmdk("disk1.vmdk");
  test::write_file(path("vm.ovf"), test::ovf_descriptor({{"disk1.vmdk", 0}}));
  test::write_file(path("vm.mf"),
                   fmt::format("SHA256(vm.ovf)= {}\n",
                               digest_of(ByteSource{path("vm.ovf"), 0, fs::file_size(path("vm.ovf")), "o"}, "SHA256")));
  VmSource vm = open_vm(make_tar("partial.ova", {"vm.ovf", "vm.mf", "disk1.vmdk"}));
  EXPECT_EQ(vm.manifest, "incomplete");
  ASSERT_EQ(vm.notes.size(), 1u);
  EXPECT_NE(vm.notes[0].find("disk1.vmdk"), std::string::npos);
  EXPECT_NE(error_of(make_tar("two-mf.ova", {"vm.ovf", "vm.mf", "disk1.vmdk", "vm.mf"})), "");
}

TEST_F(OvaTest, HugeMemberSizesDoNotWrapAround) {
  make_vmdk("disk1.vmdk");
  test::write_file(path("vm.ovf"), test::ovf_descriptor({{"disk1.vmdk", 0}}));
  std::string tar = read_host_file(make_tar("big.ova", {"vm.ovf", "disk1.vmdk"}));
  // The first member's size in GNU base-256: 2^64 - 512, which wraps a naive bounds check.
  const size_t size_field = 124;
  tar[size_field] = static_cast<char>(0x80);
  for (size_t i = 1; i < 12; ++i) tar[size_field + i] = i < 4 ? '\0' : static_cast<char>(0xff);
  tar[size_field + 10] = static_cast<char>(0xfe);
  tar[size_field + 11] = '\0';
  unsigned sum = 0;
  for (size_t i = 0; i < 512; ++i) sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(tar[i]);
  const std::string checksum = fmt::format("{:06o}", sum);
  tar.replace(148, 8, checksum + std::string("\0 ", 2));
  test::write_file(path("big.ova"), tar);
  EXPECT_FALSE(error_of(path("big.ova")).empty());
}

TEST_F(OvaTest, LongNamesAndPaxHeaders) {
  const std::string long_name = std::string(120, 'd') + ".vmdk";
  make_vmdk(long_name);
  test::write_file(path("vm.ovf"), test::ovf_descriptor({{long_name, 0}}));
  for (const char* format : {"gnu", "pax"}) {
    VmSource vm = open_vm(make_tar(std::string(format) + ".ova", {"vm.ovf", long_name}, format));
    ASSERT_EQ(vm.disks.size(), 1u) << format;
    EXPECT_EQ(vm.manifest, "absent");
  }
}

TEST_F(OvaTest, HostileAndBrokenArchivesAreRefused) {
  make_vmdk("disk1.vmdk");
  test::write_file(path("vm.ovf"), test::ovf_descriptor({{"disk1.vmdk", 0}}));
  // A symlink member.
  fs::create_symlink("/etc/shadow", path("link.vmdk"));
  EXPECT_NE(error_of(make_tar("link.ova", {"vm.ovf", "link.vmdk"})).find("link or device"), std::string::npos);
  // Absolute and climbing paths (tar -P keeps them as written).
  run_host_checked({"tar", "--format=ustar", "-P", "-cf", path("abs.ova").string(), path("vm.ovf").string()});
  EXPECT_NE(error_of(path("abs.ova")).find("absolute path"), std::string::npos) << error_of(path("abs.ova"));
  fs::create_directory(path("sub"));
  run_host_checked(
      {"tar", "--format=ustar", "-P", "-C", path("sub").string(), "-cf", path("up.ova").string(), "../vm.ovf"});
  EXPECT_NE(error_of(path("up.ova")).find("'..'"), std::string::npos) << error_of(path("up.ova"));
  // Truncated in the middle of a disk.
  fs::path ova = make_tar("cut.ova", {"vm.ovf", "disk1.vmdk"});
  fs::resize_file(ova, fs::file_size(ova) - 20000);
  EXPECT_NE(error_of(ova).find("past the end of the archive"), std::string::npos) << error_of(ova);
  // No descriptor; a disk the descriptor names but the archive lacks; a chunked disk.
  EXPECT_NE(error_of(make_tar("noovf.ova", {"disk1.vmdk"})).find("no .ovf"), std::string::npos);
  test::write_file(path("vm.ovf"), test::ovf_descriptor({{"disk9.vmdk", 0}}));
  EXPECT_NE(error_of(make_tar("missing.ova", {"vm.ovf", "disk1.vmdk"})).find("not in the archive"), std::string::npos);
  std::string chunked = test::ovf_descriptor({{"disk1.vmdk", 0}});
  chunked.replace(chunked.find("ovf:size="), 0, "ovf:chunkSize=\"1024\" ");
  test::write_file(path("vm.ovf"), chunked);
  EXPECT_NE(error_of(make_tar("chunked.ova", {"vm.ovf", "disk1.vmdk"})).find("chunks"), std::string::npos);
  // An OVF beside its disks may not name files elsewhere.
  test::write_file(path("evil.ovf"), test::ovf_descriptor({{"../../etc/shadow", 0}}));
  EXPECT_NE(error_of(path("evil.ovf")).find("not a plain name"), std::string::npos);
}

TEST_F(OvaTest, CorpusOvas) {
  VMFIX_REQUIRE_CORPUS(corpus);
  // Each of glance's test OVAs is broken in its own way; each is a clear BadInput, never a crash.
  for (const char* name : {"testserver.ova", "testserver-no-disk.ova", "testserver-bad-ovf.ova",
                           "testserver-no-ovf.ova", "testserver-not-tar.ova"}) {
    const std::string error = error_of(corpus / "ovf/glance" / name);
    EXPECT_FALSE(error.empty()) << name;
    EXPECT_EQ(error.find('\n'), std::string::npos) << error;
  }
  EXPECT_NE(error_of(corpus / "ovf/glance/testserver-no-ovf.ova").find("no .ovf"), std::string::npos);
  EXPECT_NE(error_of(corpus / "ovf/glance/testserver-bad-ovf.ova").find("malformed OVF"), std::string::npos);
  // The members of the good one, as tar itself lists them.
  auto members = read_tar_members(corpus / "ovf/glance/testserver.ova");
  ASSERT_EQ(members.size(), 2u);
  EXPECT_EQ(members[0].name, "testserver.ovf");
  EXPECT_EQ(members[0].size, 13383u);
  EXPECT_EQ(members[1].name, "testserver-disk1.vmdk");
}

}  // namespace vmfix::image

namespace vmfix::image {

// Found by fuzz_tar: a header whose checksum field is not a number made the "is it a tar?" test
// throw, so any file that merely looked like a tar was refused as a corrupt one.
TEST(Tar, ANonNumericChecksumIsNotATarRatherThanAnError) {
  std::string block(512, '\0');
  block.replace(0, 6, "vm.ovf");
  block.replace(257, 6, std::string("ustar\0", 6));
  block.replace(148, 8, std::string("0114\x80 x\0", 8));
  bool result = true;
  EXPECT_NO_THROW(result = looks_like_tar(block));
  EXPECT_FALSE(result);
}

}  // namespace vmfix::image

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "image/detect.h"
#include "image/output.h"
#include "image/vm_source.h"
#include "image/vmdk.h"
#include "support/error.h"
#include "support/files.h"
#include "support/process.h"
#include "tests/test_support.h"

namespace vmfix::image {
namespace fs = std::filesystem;

namespace {

class ImageDetect : public ::testing::Test {
 protected:
  fs::path path(const std::string& name) { return scratch_.path() / name; }

  // A small disk image in `format`, made by qemu-img from a raw disk with an MBR.
  fs::path make_image(const std::string& name, const std::vector<std::string>& format_args) {
    fs::path raw = path(name + ".raw");
    std::string disk(4 * 1024 * 1024, '\0');
    disk[510] = '\x55';
    disk[511] = '\xaa';
    std::memcpy(disk.data() + 1024 * 1024, "payload", 7);
    test::write_file(raw, disk);
    fs::path out = path(name);
    std::vector<std::string> argv{"qemu-img", "convert", "-q", "-f", "raw"};
    argv.insert(argv.end(), format_args.begin(), format_args.end());
    argv.push_back(raw.string());
    argv.push_back(out.string());
    run_host_checked(argv);
    return out;
  }

  std::string error_of(const fs::path& image) {
    try {
      open_image(image);
    } catch (const BadInput& e) {
      return e.what();
    }
    return "";
  }

  TempDir scratch_{"vmfix-detect-test"};
};

void truncate_to(const fs::path& file, uint64_t size) { fs::resize_file(file, size); }

}  // namespace

TEST_F(ImageDetect, RecognisesFormatsByContentNotExtension) {
  EXPECT_EQ(open_image(make_image("a.vmdk", {"-O", "qcow2"})).format, Format::qcow2);
  SourceImage sparse = open_image(make_image("b.img", {"-O", "vmdk"}));
  EXPECT_EQ(sparse.format, Format::vmdk);
  EXPECT_EQ(sparse.variant, "monolithicSparse");
  EXPECT_EQ(sparse.virtual_size, 4u * 1024 * 1024);
  SourceImage stream = open_image(make_image("c.qcow2", {"-O", "vmdk", "-o", "subformat=streamOptimized"}));
  EXPECT_EQ(stream.variant, "streamOptimized");
  SourceImage vhd = open_image(make_image("d.raw", {"-O", "vpc", "-o", "subformat=dynamic"}));
  EXPECT_EQ(vhd.format, Format::vhd);
  EXPECT_EQ(vhd.variant, "dynamic");
  EXPECT_EQ(open_image(make_image("e.vmdk", {"-O", "vpc", "-o", "subformat=fixed"})).variant, "fixed");
  EXPECT_EQ(open_image(make_image("f", {"-O", "vhdx"})).format, Format::vhdx);
  EXPECT_EQ(open_image(make_image("g.vhd", {"-O", "raw"})).format, Format::raw);
  EXPECT_EQ(qemu_format(Format::vhd), "vpc");
}

TEST_F(ImageDetect, MonolithicFlatDescriptorWithItsExtent) {
  fs::path flat = make_image("disk.vmdk", {"-O", "vmdk", "-o", "subformat=monolithicFlat"});
  SourceImage image = open_image(flat);
  EXPECT_EQ(image.format, Format::vmdk);
  EXPECT_EQ(image.variant, "monolithicFlat");
  EXPECT_EQ(image.virtual_size, 4u * 1024 * 1024);
  truncate_to(path("disk-flat.vmdk"), 1024 * 1024);
  EXPECT_NE(error_of(flat).find("truncated"), std::string::npos) << error_of(flat);
}

TEST_F(ImageDetect, RejectsBadInputWithOneClearLine) {
  EXPECT_NE(error_of(path("missing.vmdk")).find("no such file"), std::string::npos);
  test::write_file(path("empty.vmdk"), "");
  EXPECT_NE(error_of(path("empty.vmdk")).find("empty file"), std::string::npos);
  test::write_file(path("random.img"), test::random_bytes(1024 * 1024, 7));
  EXPECT_NE(error_of(path("random.img")).find("not a disk image"), std::string::npos);
  test::write_file(path("notes.txt"), "these are not the disks you are looking for\n");
  EXPECT_NE(error_of(path("notes.txt")).find("text file"), std::string::npos);
  fs::create_directory(path("dir.vmdk"));
  EXPECT_NE(error_of(path("dir.vmdk")).find("is a directory"), std::string::npos);
  for (const char* name : {"missing.vmdk", "empty.vmdk", "random.img", "notes.txt", "dir.vmdk"})
    EXPECT_EQ(error_of(path(name)).find('\n'), std::string::npos) << name;
}

TEST_F(ImageDetect, RejectsUnreadableFiles) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads any file; the CLI test covers this as an unprivileged user";
  fs::path image = make_image("locked.qcow2", {"-O", "qcow2"});
  ::chmod(image.c_str(), 0);
  EXPECT_NE(error_of(image).find("cannot read"), std::string::npos);
}

TEST_F(ImageDetect, RejectsTruncatedVmdks) {
  fs::path sparse = make_image("sparse.vmdk", {"-O", "vmdk"});
  truncate_to(sparse, fs::file_size(sparse) - 65536);
  EXPECT_NE(error_of(sparse).find("truncated"), std::string::npos) << error_of(sparse);
  fs::path stream = make_image("stream.vmdk", {"-O", "vmdk", "-o", "subformat=streamOptimized"});
  truncate_to(stream, fs::file_size(stream) - 1024);
  EXPECT_NE(error_of(stream).find("truncated"), std::string::npos) << error_of(stream);
  fs::path header_only = make_image("short.vmdk", {"-O", "vmdk"});
  truncate_to(header_only, 600);
  EXPECT_NE(error_of(header_only).find("truncated"), std::string::npos) << error_of(header_only);
}

TEST_F(ImageDetect, RefusesExtentsOutsideTheDescriptorDirectory) {
  for (const char* extent : {"/etc/shadow", "../outside.img", "sub/inner.img"}) {
    test::write_file(path("evil.vmdk"), std::string("# Disk DescriptorFile\nversion=1\nCID=fffffffe\n"
                                                    "parentCID=ffffffff\ncreateType=\"monolithicFlat\"\n\n"
                                                    "RW 8 FLAT \"") +
                                            extent + "\" 0\n");
    EXPECT_NE(error_of(path("evil.vmdk")).find("outside the descriptor's directory"), std::string::npos) << extent;
  }
}

TEST_F(ImageDetect, RefusesSnapshotsAndUnsupportedVmdkKinds) {
  test::write_file(path("delta.vmdk"),
                   "# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=87654321\n"
                   "createType=\"monolithicSparse\"\nparentFileNameHint=\"base.vmdk\"\n"
                   "RW 8 SPARSE \"delta-s001.vmdk\"\n");
  EXPECT_NE(error_of(path("delta.vmdk")).find("snapshot delta of 'base.vmdk'"), std::string::npos);
  test::write_file(path("se.vmdk"),
                   "# Disk DescriptorFile\nversion=1\nparentCID=ffffffff\ncreateType=\"seSparse\"\n"
                   "RW 8 SESPARSE \"se-sesparse.vmdk\"\n");
  EXPECT_NE(error_of(path("se.vmdk")).find("not supported"), std::string::npos);
}

TEST_F(ImageDetect, RefusesQcow2WithABackingFile) {
  fs::path base = make_image("base.qcow2", {"-O", "qcow2"});
  run_host_checked(
      {"qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", base.string(), path("top.qcow2").string()});
  EXPECT_NE(error_of(path("top.qcow2")).find("backing file"), std::string::npos) << error_of(path("top.qcow2"));
}

TEST_F(ImageDetect, OutputNeverReplacesAFileTheSourceReads) {
  fs::path descriptor = make_image("src.vmdk", {"-O", "vmdk", "-o", "subformat=monolithicFlat"});
  VmSource vm = open_vm(descriptor);
  EXPECT_THROW(choose_output(vm, path("src-flat.vmdk").string(), OutputFormat::vmdk), UsageError);
  EXPECT_THROW(choose_output(vm, descriptor.string(), OutputFormat::vmdk), UsageError);
  EXPECT_EQ(choose_output(vm, path("x.ova").string(), OutputFormat::ova).format, OutputFormat::ova);
  OutputSpec fine = choose_output(vm, std::nullopt, std::nullopt);
  EXPECT_EQ(fine.path, path("src-vmfix.vmdk"));
  EXPECT_EQ(fine.format, OutputFormat::vmdk);
}

TEST_F(ImageDetect, RefusesQcow2WithAnExternalDataFile) {
  test::write_file(path("data.raw"), std::string(4 << 20, '\0'));
  run_host_checked({"qemu-img", "create", "-q", "-f", "qcow2", "-o", "data_file=" + path("data.raw").string(),
                    path("ext.qcow2").string(), "4M"});
  EXPECT_NE(error_of(path("ext.qcow2")).find("external file"), std::string::npos) << error_of(path("ext.qcow2"));
}

TEST_F(ImageDetect, HostileSparseVmdkHeadersAreRefusedNotCrashed) {
  const std::string good = read_host_file(make_image("base.vmdk", {"-O", "vmdk"}));
  auto patched = [&](const std::string& name, size_t at, uint64_t value, size_t width) {
    std::string bytes = good;
    for (size_t i = 0; i < width; ++i) bytes[at + i] = static_cast<char>((value >> (8 * i)) & 0xff);
    test::write_file(path(name), bytes);
    return path(name);
  };
  // Capacity 0: qemu would read the embedded descriptor as the disk, extents and all.
  EXPECT_NE(error_of(patched("cap0.vmdk", 12, 0, 8)).find("capacity 0"), std::string::npos);
  // Grain size 2^63 (a division by zero waiting to happen) and a non-standard table size.
  EXPECT_FALSE(error_of(patched("grain.vmdk", 20, 1ULL << 63, 8)).empty());
  EXPECT_FALSE(error_of(patched("gtes.vmdk", 44, 1u << 30, 4)).empty());
  // A grain directory offset near 2^64 must not wrap around the bounds check.
  EXPECT_NE(error_of(patched("gd.vmdk", 56, ~0ULL - 1, 8)).find("truncated"), std::string::npos);
}

TEST_F(ImageDetect, DescriptorLinesQemuWouldReadDifferentlyAreRefused) {
  // qemu's extent parser crosses line breaks: this is one FLAT extent on /etc/shadow to qemu.
  test::write_file(path("split.vmdk"),
                   "# Disk DescriptorFile\nversion=1\nparentCID=ffffffff\ncreateType=\"monolithicFlat\"\n"
                   "RW 8 FLAT\n\"/etc/shadow\" 0\n");
  EXPECT_NE(error_of(path("split.vmdk")).find("neither a setting nor an extent"), std::string::npos)
      << error_of(path("split.vmdk"));
}

TEST_F(ImageDetect, ChecksVhdFooters) {
  fs::path vhd = make_image("dyn.vhd", {"-O", "vpc", "-o", "subformat=dynamic"});
  std::string bytes = read_host_file(vhd);
  // Wrong checksum.
  std::string broken = bytes;
  broken[broken.size() - 512 + 64] ^= 0x01;
  test::write_file(path("bad-sum.vhd"), broken);
  EXPECT_NE(error_of(path("bad-sum.vhd")).find("checksum"), std::string::npos);
  // Footer gone: the header copy at the start remains.
  test::write_file(path("cut.vhd"), bytes.substr(0, bytes.size() - 512));
  EXPECT_NE(error_of(path("cut.vhd")).find("truncated"), std::string::npos) << error_of(path("cut.vhd"));
  // Differencing disk: disk type 4, with the checksum made right again; the parent is named.
  std::string differencing = bytes;
  for (size_t footer : {size_t{0}, bytes.size() - 512}) {
    differencing[footer + 63] = 4;
    uint32_t sum = 0;
    for (size_t i = 0; i < 512; ++i)
      if (i < 64 || i >= 68) sum += static_cast<unsigned char>(differencing[footer + i]);
    sum = ~sum;
    for (int i = 0; i < 4; ++i) differencing[footer + 64 + i] = static_cast<char>((sum >> (24 - 8 * i)) & 0xff);
  }
  const size_t header = 512;
  const std::string parent = "parent.vhd";
  for (size_t i = 0; i < parent.size(); ++i) {
    differencing[header + 64 + 2 * i] = 0;
    differencing[header + 64 + 2 * i + 1] = parent[i];
  }
  test::write_file(path("child.vhd"), differencing);
  EXPECT_NE(error_of(path("child.vhd")).find("parent is 'parent.vhd'"), std::string::npos)
      << error_of(path("child.vhd"));
}

TEST_F(ImageDetect, AcceptsTheCorpusDisks) {
  VMFIX_REQUIRE_CORPUS(corpus);
  EXPECT_EQ(open_image(corpus / "disks/ext2.vmdk").format, Format::vmdk);
  EXPECT_EQ(open_image(corpus / "disks/ext2.vhd").format, Format::vhd);
  EXPECT_EQ(open_image(corpus / "disks/ext2.qcow2").format, Format::qcow2);
  // Parallels' descriptor is XML: text, not an image.
  EXPECT_THROW(open_image(corpus / "disks/hfsplus.hdd_DiskDescriptor.xml"), BadInput);
}

TEST(VmdkDescriptor, ParsesExtentsAndKeys) {
  VmdkDescriptor d = parse_vmdk_descriptor(
      "# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType=\"twoGbMaxExtentFlat\"\n"
      "# Extent description\nRW 4192256 FLAT \"disk-f001.vmdk\" 0\nRW 2048 FLAT \"disk f002.vmdk\" 0\n"
      "RDONLY 100 ZERO \"\"\nddb.adapterType = \"lsilogic\"\n");
  EXPECT_EQ(d.create_type, "twoGbMaxExtentFlat");
  EXPECT_EQ(d.parent_cid, "ffffffff");
  ASSERT_EQ(d.extents.size(), 3u);
  EXPECT_EQ(d.extents[0].sectors, 4192256u);
  EXPECT_EQ(d.extents[1].file, "disk f002.vmdk");
  EXPECT_EQ(d.extents[2].type, "ZERO");
}

}  // namespace vmfix::image

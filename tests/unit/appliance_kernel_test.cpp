// The appliance's uncompressed kernel: this machine's own kernel (what supermin would boot) read
// back as a PVH-bootable ELF; bzImages built here the way the kernel's build packs its payload,
// with the real compressors; damaged, truncated and foreign files; the kernel picked from a made-up
// /boot and /lib/modules.
#include "guest/appliance_kernel.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "support/error.h"
#include "support/files.h"
#include "support/process.h"
#include "tests/test_support.h"

namespace vmfix::guest {
namespace {

namespace fs = std::filesystem;

template <typename T>
void put(std::string& bytes, size_t at, T value) {
  if (bytes.size() < at + sizeof(T)) bytes.resize(at + sizeof(T));
  std::memcpy(bytes.data() + at, &value, sizeof(T));
}

// An x86-64 ELF header, one PT_NOTE program header and its notes: a Linux one, then a Xen note of
// `xen_type` (18 is the PVH entry point).
std::string elf_with_note(uint32_t xen_type, uint16_t machine = 62) {
  std::string elf(64, '\0');
  elf.replace(0, 4,
              "\x7f"
              "ELF");
  elf[4] = 2, elf[5] = 1, elf[6] = 1;
  put<uint16_t>(elf, 18, machine);
  put<uint64_t>(elf, 32, 64);  // program headers right after the ELF header
  put<uint16_t>(elf, 54, 56);
  put<uint16_t>(elf, 56, 1);
  std::string notes;
  auto note = [&](std::string_view name, uint32_t type, std::string_view desc) {
    const size_t at = notes.size();
    put<uint32_t>(notes, at, static_cast<uint32_t>(name.size()));
    put<uint32_t>(notes, at + 4, static_cast<uint32_t>(desc.size()));
    put<uint32_t>(notes, at + 8, type);
    notes += std::string(name);
    notes.resize((notes.size() + 3) & ~size_t{3}, '\0');
    notes += std::string(desc);
    notes.resize((notes.size() + 3) & ~size_t{3}, '\0');
  };
  note(std::string_view("GNU\0", 4), 3, "build-id");
  note(std::string_view("Xen\0", 4), xen_type, std::string("\x00\x00\x00\x01", 4));
  std::string header(56, '\0');
  put<uint32_t>(header, 0, 4);  // PT_NOTE
  put<uint64_t>(header, 8, 64 + 56);
  put<uint64_t>(header, 32, notes.size());
  return elf + header + notes + test::random_bytes(100000, 1);  // the kernel's text, in bulk
}

// A bzImage around `payload`: one setup sector after the boot sector, boot protocol 2.15.
std::string bzimage(const std::string& payload, uint32_t length_adjust = 0) {
  std::string image(1024, '\0');
  image[0x1f1] = 1;
  image.replace(0x202, 4, "HdrS");
  put<uint16_t>(image, 0x206, 0x20f);
  put<uint32_t>(image, 0x248, 16);  // the payload 16 bytes into the protected-mode part
  put<uint32_t>(image, 0x24c, static_cast<uint32_t>(payload.size()) + length_adjust);
  return image + std::string(16, '\x90') + payload + std::string(64, '\0');
}

std::string size_trailer(size_t size) {
  std::string trailer;
  put<uint32_t>(trailer, 0, static_cast<uint32_t>(size));
  return trailer;
}

bool has_program(const std::string& name) { return run_host({"sh", "-c", "command -v " + name}).exit_status == 0; }

// What arch/x86/boot/compressed/Makefile does: the compressor's output, then the size (gzip's
// own trailer holds it).
std::string payload_of(const std::string& elf, const std::string& compressor, const fs::path& scratch) {
  test::write_file(scratch / "vmlinux.bin", elf);
  std::string packed = run_host_checked({"sh", "-c", compressor + " < '" + (scratch / "vmlinux.bin").string() + "'"});
  return compressor.starts_with("gzip") ? packed : packed + size_trailer(elf.size());
}

TEST(ApplianceKernel, ThisMachinesKernelBootsUncompressed) {
  auto kernel = pick_host_kernel();
  if (!kernel) GTEST_SKIP() << "no kernel with modules on this machine";
  EXPECT_TRUE(fs::exists(kernel->modules / "modules.dep"));
  std::string elf;
  try {
    elf = uncompressed_kernel(read_host_file(kernel->file));
  } catch (const BadInput& error) {
    GTEST_SKIP() << kernel->file << ": " << error.what();  // a kernel without CONFIG_PVH, say
  }
  EXPECT_TRUE(has_pvh_entry(elf));
  // The kernel names its own version in its banner.
  EXPECT_NE(elf.find("Linux version " + kernel->version.substr(0, kernel->version.find('-'))), std::string::npos);
}

TEST(ApplianceKernel, ReadsThePayloadOfEveryCompressionTheKernelBuildUses) {
  TempDir scratch("vmfix-kernel-test");
  const std::string elf = elf_with_note(18);
  for (const char* compressor :
       {"gzip -n -9", "xz --check=crc32 --x86 --lzma2=dict=32MiB", "xz --format=lzma", "zstd -q -19", "lz4 -l -q"}) {
    SCOPED_TRACE(compressor);
    if (!has_program(std::string(compressor).substr(0, std::string(compressor).find(' '))))
      GTEST_SKIP() << compressor << " is not installed (scripts/install-deps.sh installs it)";
    EXPECT_EQ(uncompressed_kernel(bzimage(payload_of(elf, compressor, scratch.path()))), elf);
  }
}

TEST(ApplianceKernel, RefusesWhatIsNotABootableBzImage) {
  TempDir scratch("vmfix-kernel-test");
  const std::string good = payload_of(elf_with_note(18), "gzip -n", scratch.path());
  auto refused = [](const std::string& image, const std::string& expected) {
    try {
      uncompressed_kernel(image);
      ADD_FAILURE() << "accepted; expected: " << expected;
    } catch (const BadInput& error) {
      EXPECT_NE(std::string(error.what()).find(expected), std::string::npos) << error.what();
    }
  };
  refused("", "not a bzImage");
  refused(std::string(4096, 'x'), "not a bzImage");
  std::string old_protocol = bzimage(good);
  put<uint16_t>(old_protocol, 0x206, 0x207);
  refused(old_protocol, "not a bzImage");
  refused(bzimage(good, 1000), "outside the file");
  refused(bzimage(good).substr(0, 1200), "outside the file");
  refused(bzimage("BZh91AY&SY" + std::string(100, 'b')), "does not read");
  std::string damaged = good;
  damaged[damaged.size() / 2] ^= 0x55;
  refused(bzimage(damaged), "kernel:");
  const std::string elf = elf_with_note(18);
  refused(bzimage(payload_of(elf, "xz --check=crc32", scratch.path()).substr(0, 200) + size_trailer(elf.size())),
          "kernel:");
  std::string wrong_size = payload_of(elf, "zstd -q", scratch.path());
  put<uint32_t>(wrong_size, wrong_size.size() - 4, 12345);
  refused(bzimage(wrong_size), "its trailer says 12345");
  refused(bzimage(payload_of(elf_with_note(17), "gzip -n", scratch.path())), "PVH entry point");
}

TEST(ApplianceKernel, PvhNoteIsFoundOnlyWhereItIs) {
  EXPECT_TRUE(has_pvh_entry(elf_with_note(18)));
  EXPECT_FALSE(has_pvh_entry(elf_with_note(17)));
  EXPECT_FALSE(has_pvh_entry(elf_with_note(18, 3)));  // i386
  EXPECT_FALSE(has_pvh_entry(""));
  std::string far_table = elf_with_note(18);
  put<uint64_t>(far_table, 32, uint64_t{1} << 62);
  EXPECT_FALSE(has_pvh_entry(far_table));
  std::string long_segment = elf_with_note(18);
  put<uint64_t>(long_segment, 64 + 32, ~uint64_t{0});
  EXPECT_FALSE(has_pvh_entry(long_segment));
  std::string huge_note = elf_with_note(18);
  put<uint32_t>(huge_note, 64 + 56, 0xfffffff0u);  // the first note's name size
  EXPECT_FALSE(has_pvh_entry(huge_note));
  for (size_t cut : {size_t{10}, size_t{63}, size_t{100}, size_t{130}})
    EXPECT_FALSE(has_pvh_entry(elf_with_note(18).substr(0, cut)));
}

TEST(ApplianceKernel, PicksTheNewestKernelThatHasItsModules) {
  TempDir root("vmfix-kernel-root");
  auto write = [&](const fs::path& file, const std::string& content) {
    fs::create_directories(file.parent_path());
    test::write_file(file, content);
  };
  auto kernel = [&](const std::string& file) { write(root.path() / file, "kernel"); };
  auto modules = [&](const std::string& version) { write(root.path() / "lib/modules" / version / "modules.dep", ""); };
  EXPECT_FALSE(pick_host_kernel(root.path()));
  kernel("boot/vmlinuz-6.1.0-9-amd64");
  modules("6.1.0-9-amd64");
  kernel("boot/vmlinuz-6.1.0-28-amd64");
  modules("6.1.0-28-amd64");
  kernel("boot/vmlinuz-6.1.0-30-amd64");  // its modules were removed
  kernel("boot/vmlinuz-6.1.0-40-xen");
  modules("6.1.0-40-xen");
  kernel("boot/config-6.1.0-50-amd64");
  auto picked = pick_host_kernel(root.path());
  ASSERT_TRUE(picked);
  EXPECT_EQ(picked->version, "6.1.0-28-amd64");
  EXPECT_EQ(picked->file, root.path() / "boot/vmlinuz-6.1.0-28-amd64");
  EXPECT_EQ(picked->modules, root.path() / "lib/modules/6.1.0-28-amd64");
  // A kernel kept beside its modules (Fedora's layout) comes first.
  kernel("lib/modules/6.0.7-301.fc37.x86_64/vmlinuz");
  modules("6.0.7-301.fc37.x86_64");
  picked = pick_host_kernel(root.path());
  ASSERT_TRUE(picked);
  EXPECT_EQ(picked->version, "6.0.7-301.fc37.x86_64");
}

}  // namespace
}  // namespace vmfix::guest

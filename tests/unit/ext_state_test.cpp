// The clean-unmount check reads an ext superblock on the host; e2fsprogs' own tune2fs -l is the
// independent reader it must agree with.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include "inspect/inspect.h"
#include "support/bytes.h"
#include "support/files.h"
#include "support/process.h"

namespace vmfix::inspect {
namespace {

namespace fs = std::filesystem;

std::string superblock_of(const fs::path& image) { return read_host_bytes(image, 1024, 1024); }

// tune2fs -l's verdict, as the check used to take it from the appliance.
bool tune2fs_says_clean(const fs::path& image) {
  const std::string listing = run_host_checked({"tune2fs", "-l", image.string()});
  const size_t state = listing.find("Filesystem state:");
  const std::string line = listing.substr(state, listing.find('\n', state) - state);
  const size_t features = listing.find("Filesystem features:");
  const std::string feature_line = listing.substr(features, listing.find('\n', features) - features);
  return line.find(" clean") != std::string::npos && line.find("error") == std::string::npos &&
         feature_line.find("needs_recovery") == std::string::npos;
}

TEST(ExtSuperblock, AgreesWithTune2fsOnCleanDirtyErrorAndRecovery) {
  TempDir scratch("vmfix-ext-state");
  for (const char* type : {"ext2", "ext3", "ext4"}) {
    SCOPED_TRACE(type);
    const fs::path image = scratch.path() / (std::string(type) + ".img");
    write_host_file_atomic(image, "");
    fs::resize_file(image, 16 << 20);
    run_host_checked({fmt::format("mkfs.{}", type), "-q", "-F", image.string()});
    EXPECT_EQ(ext_superblock_clean(superblock_of(image)), true);
    EXPECT_TRUE(tune2fs_says_clean(image));

    // What a crash leaves: the state without "valid" (set at mount, cleared at unmount) ...
    std::string superblock = superblock_of(image);
    put_le16(superblock, 0x3a, 0);
    EXPECT_EQ(ext_superblock_clean(superblock), false);
    // ... "errors" as the kernel records them ...
    put_le16(superblock, 0x3a, 3);
    EXPECT_EQ(ext_superblock_clean(superblock), false);
    // ... or, with a journal, the needs_recovery feature (set on the real image, read by tune2fs too).
    if (std::string(type) != "ext2") {
      run_host_checked({"debugfs", "-w", "-R", "feature needs_recovery", image.string()});
      EXPECT_EQ(ext_superblock_clean(superblock_of(image)), false);
      EXPECT_FALSE(tune2fs_says_clean(image));
    }
  }
  EXPECT_EQ(ext_superblock_clean(std::string(1024, '\0')), std::nullopt) << "no ext magic";
  EXPECT_EQ(ext_superblock_clean("short"), std::nullopt);
}

}  // namespace
}  // namespace vmfix::inspect

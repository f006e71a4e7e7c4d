#include <gtest/gtest.h>

#include <cstring>

#include "fixtures/fixture.h"
#include "registry/empty_hive.h"
#include "registry/hive.h"
#include "registry/reg_text.h"
#include "support/files.h"

namespace vmfix::fixtures {

TEST(Fixtures, CatalogHasTheRequiredGuests) {
  std::vector<std::string> names;
  for (const auto& spec : catalog()) names.push_back(spec.name);
  EXPECT_EQ(names, (std::vector<std::string>{"centos7-vmware", "ubuntu1804-vmware", "debian11-gpt-bios", "rhel8-uefi",
                                             "win2012r2-vmware"}));
  EXPECT_THROW(find_fixture("nope"), UsageError);
}

TEST(Fixtures, FingerprintFollowsEveryInput) {
  FixtureSpec spec = find_fixture("centos7-vmware");
  const std::string base = fingerprint(spec);
  EXPECT_EQ(base, fingerprint(find_fixture("centos7-vmware")));
  spec.files.back().content += " ";
  EXPECT_NE(fingerprint(spec), base);
  spec = find_fixture("centos7-vmware");
  spec.partitions[0].size_mib += 1;
  EXPECT_NE(fingerprint(spec), base);
}

TEST(Fixtures, GeneratedExecutablesHaveTheRightHeaders) {
  const std::string elf = elf64_x86_64_program();
  EXPECT_EQ(elf.substr(0, 4),
            "\x7f"
            "ELF");
  EXPECT_EQ(elf[4], 2);                                  // 64-bit
  EXPECT_EQ(static_cast<unsigned char>(elf[18]), 0x3e);  // x86-64
  const std::string pe = pe32plus_x86_64_console_program();
  EXPECT_EQ(pe.substr(0, 2), "MZ");
  uint32_t pe_offset;
  std::memcpy(&pe_offset, pe.data() + 0x3c, 4);
  EXPECT_EQ(pe.substr(pe_offset, 4), std::string("PE\0\0", 4));
  EXPECT_EQ(static_cast<unsigned char>(pe[pe_offset + 4]), 0x64);  // machine 0x8664
  EXPECT_EQ(static_cast<unsigned char>(pe[pe_offset + 5]), 0x86);
  EXPECT_EQ(static_cast<unsigned char>(pe[pe_offset + 24]), 0x0b);  // PE32+ magic 0x20b
  EXPECT_EQ(static_cast<unsigned char>(pe[pe_offset + 25]), 0x02);
}

TEST(Fixtures, WindowsHivesBuildFromTheirRegText) {
  TempDir scratch("vmfix-fixture-test");
  for (const auto& hive_spec : find_fixture("win2012r2-vmware").hives) {
    const auto file = scratch.path() / "hive";
    write_host_file_atomic(file, registry::empty_hive());
    registry::Hive hive(file, registry::Hive::Mode::writable);
    registry::merge_reg(hive, hive_spec.reg, hive_spec.prefix);
    hive.commit(file);
    registry::Hive reopened(file, registry::Hive::Mode::read_only);
    EXPECT_FALSE(reopened.subkeys(reopened.root()).empty()) << hive_spec.path;
  }
}

}  // namespace vmfix::fixtures

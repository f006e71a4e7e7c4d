// Local accounts read from SAM hives: a real one from the corpus, and hives written here with an
// enabled account that has no password, and with damaged values.
#include "registry/sam.h"

#include <gtest/gtest.h>

#include <cstring>

#include "registry/empty_hive.h"
#include "registry/values.h"
#include "support/files.h"
#include "tests/test_support.h"

namespace vmfix::registry {
namespace {

std::string v_value(const std::string& name, uint32_t nt_hash_length) { return sam_v_value(name, nt_hash_length); }
std::string f_value(uint16_t acb) { return sam_f_value(acb); }

TEST(Sam, CorpusHiveAccounts) {
  VMFIX_REQUIRE_CORPUS(corpus);
  Hive sam(corpus / "hives/plaso/regf_SAM", Hive::Mode::read_only);
  auto accounts = read_sam_accounts(sam);
  ASSERT_EQ(accounts.size(), 3u);
  EXPECT_EQ(accounts[0].rid, 500u);
  EXPECT_EQ(accounts[0].name, "Administrator");
  EXPECT_TRUE(accounts[0].disabled);
  EXPECT_TRUE(accounts[0].has_password);
  EXPECT_EQ(accounts[1].name, "Guest");
  EXPECT_TRUE(accounts[1].disabled);
  EXPECT_FALSE(accounts[1].has_password) << "the built-in Guest has no password";
  EXPECT_TRUE(accounts[1].password_not_required);
  EXPECT_EQ(accounts[2].rid, 1001u);
  EXPECT_EQ(accounts[2].name, "gold_administrator");
  EXPECT_FALSE(accounts[2].disabled);
  EXPECT_TRUE(accounts[2].has_password);
}

class SamHive : public ::testing::Test {
 protected:
  void SetUp() override { write_host_file_atomic(file_, empty_hive("ROOT")); }
  void add(const std::string& rid, const std::string& f, const std::string& v) {
    Hive hive(file_, Hive::Mode::writable);
    Node node = hive.create("SAM\\Domains\\Account\\Users\\" + rid);
    hive.set_value(node, {"F", kRegBinary, f});
    hive.set_value(node, {"V", kRegBinary, v});
    hive.create("SAM\\Domains\\Account\\Users\\Names\\x");
    hive.commit(file_);
  }
  TempDir scratch_{"vmfix-sam-test"};
  std::filesystem::path file_ = scratch_.path() / "SAM";
};

TEST_F(SamHive, EnabledAccountWithoutPasswordAndAesHashes) {
  add("000003E9", f_value(0x0210), v_value("deploy", 4));     // enabled, header only: no password
  add("000003EA", f_value(0x0210), v_value("admin2", 0x38));  // enabled, AES-era hash entry
  add("000003EB", f_value(0x0211), v_value("old", 0));        // disabled, no hash at all
  add("000003EC", f_value(0x0210), v_value("kiosk", 0x18));   // enabled, AES header alone: no password
  Hive hive(file_, Hive::Mode::read_only);
  auto accounts = read_sam_accounts(hive);
  ASSERT_EQ(accounts.size(), 4u);
  EXPECT_EQ(accounts[3].name, "kiosk");
  EXPECT_FALSE(accounts[3].has_password);
  EXPECT_EQ(accounts[0].name, "deploy");
  EXPECT_FALSE(accounts[0].disabled);
  EXPECT_FALSE(accounts[0].has_password);
  EXPECT_TRUE(accounts[1].has_password);
  EXPECT_TRUE(accounts[2].disabled);
  EXPECT_FALSE(accounts[2].has_password);
}

TEST_F(SamHive, DamagedValuesAreHiveErrors) {
  std::string v = v_value("x", 20);
  std::memcpy(v.data() + 0x10, "\xff\xff\x00\x00", 4);  // a name longer than V
  add("000003E9", f_value(0x0210), v);
  Hive hive(file_, Hive::Mode::read_only);
  EXPECT_THROW(read_sam_accounts(hive), HiveError);

  write_host_file_atomic(file_, empty_hive("ROOT"));
  add("000003E9", std::string(8, '\0'), v_value("x", 20));  // F too short
  Hive short_f(file_, Hive::Mode::read_only);
  EXPECT_THROW(read_sam_accounts(short_f), HiveError);

  write_host_file_atomic(file_, empty_hive("ROOT"));
  Hive not_sam(file_, Hive::Mode::read_only);
  EXPECT_THROW(read_sam_accounts(not_sam), HiveError);
}

// Found by fuzz_sam: a header-only NT hash entry (4 bytes) whose offset points past the end of V
// was read out of bounds. No password either way, and nothing read outside V.
TEST_F(SamHive, AHeaderOnlyHashEntryPastTheEndOfVIsNoPassword) {
  std::string v = v_value("deploy", 4);
  const uint32_t past_the_end = static_cast<uint32_t>(v.size()) + 0x1000;
  std::memcpy(v.data() + 0xA8, &past_the_end, 4);
  add("000003E9", f_value(0x0210), v);
  Hive hive(file_, Hive::Mode::read_only);
  auto accounts = read_sam_accounts(hive);
  ASSERT_EQ(accounts.size(), 1u);
  EXPECT_EQ(accounts[0].name, "deploy");
  EXPECT_FALSE(accounts[0].has_password);
}

}  // namespace
}  // namespace vmfix::registry

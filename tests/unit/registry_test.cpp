#include <gtest/gtest.h>

#include "inspect/windows.h"
#include "registry/empty_hive.h"
#include "registry/hive.h"
#include "registry/reg_text.h"
#include "support/files.h"
#include "tests/test_support.h"

namespace vmfix::registry {
namespace fs = std::filesystem;

namespace {

class RegistryTest : public ::testing::Test {
 protected:
  fs::path new_hive(const std::string& name = "hive") {
    fs::path file = scratch_.path() / name;
    write_host_file_atomic(file, empty_hive());
    return file;
  }
  TempDir scratch_{"vmfix-registry-test"};
};

}  // namespace

TEST_F(RegistryTest, EmptyHiveOpensAndTakesKeysAndValues) {
  fs::path file = new_hive();
  {
    Hive hive(file, Hive::Mode::writable);
    EXPECT_TRUE(hive.subkeys(hive.root()).empty());
    Node node = hive.create("ControlSet001\\Control\\TimeZoneInformation");
    hive.set_value(node, make_dword("RealTimeIsUniversal", 1));
    hive.set_value(node, make_string("TimeZoneKeyName", "UTC"));
    hive.set_value(node, make_qword("Big", 0x0102030405060708ULL));
    hive.set_value(node, make_multi_string("List", {"a", "\xc3\xa9t\xc3\xa9"}));
    hive.set_value(node, make_string("Path", "%SystemRoot%\\x", kRegExpandSz));
    hive.commit(file);
  }
  Hive hive(file, Hive::Mode::read_only);
  auto node = hive.find("controlset001\\CONTROL\\timezoneinformation");  // case-insensitive
  ASSERT_TRUE(node);
  EXPECT_EQ(as_dword(*hive.value(*node, "RealTimeIsUniversal")), 1u);
  EXPECT_EQ(as_string(*hive.value(*node, "TimeZoneKeyName")), "UTC");
  EXPECT_EQ(as_qword(*hive.value(*node, "Big")), 0x0102030405060708ULL);
  EXPECT_EQ(as_multi_string(*hive.value(*node, "List")), (std::vector<std::string>{"a", "\xc3\xa9t\xc3\xa9"}));
  EXPECT_EQ(hive.value(*node, "Path")->type, kRegExpandSz);
  EXPECT_FALSE(hive.value(*node, "Missing"));
  EXPECT_FALSE(hive.find("ControlSet002"));
}

TEST_F(RegistryTest, ManyKeysSpillIntoNewBins) {
  fs::path file = new_hive();
  {
    Hive hive(file, Hive::Mode::writable);
    for (int i = 0; i < 300; ++i)
      hive.set_value(hive.create("Services\\svc" + std::to_string(i)), make_dword("Start", 4));
    hive.commit(file);
  }
  Hive hive(file, Hive::Mode::read_only);
  EXPECT_EQ(hive.subkeys(*hive.find("Services")).size(), 300u);
  EXPECT_GT(fs::file_size(file), 8192u);
}

TEST_F(RegistryTest, DeletesValuesAndKeys) {
  fs::path file = new_hive();
  Hive hive(file, Hive::Mode::writable);
  Node winlogon = hive.create("Microsoft\\Windows NT\\CurrentVersion\\Winlogon");
  hive.set_value(winlogon, make_string("AutoAdminLogon", "1"));
  hive.set_value(winlogon, make_string("DefaultPassword", "secret"));
  hive.delete_value(winlogon, "defaultpassword");
  EXPECT_FALSE(hive.value(winlogon, "DefaultPassword"));
  EXPECT_TRUE(hive.value(winlogon, "AutoAdminLogon"));
  hive.delete_key(*hive.find("Microsoft\\Windows NT"));
  EXPECT_FALSE(hive.find("Microsoft\\Windows NT"));
  EXPECT_THROW(hive.delete_key(hive.root()), HiveError);
}

TEST(RegValues, DecodingToleratesRealWorldOddities) {
  Value odd{"x", kRegSz, std::string("a\0b\0\0\0garbage", 14)};  // data after the NUL
  EXPECT_EQ(as_string(odd), "ab");
  Value odd_length{"x", kRegSz, std::string("a\0b", 3)};  // odd length
  EXPECT_EQ(as_string(odd_length), "a");
  Value short_dword{"x", kRegDword, "ab"};
  EXPECT_FALSE(as_dword(short_dword));
  EXPECT_FALSE(as_string(make_dword("x", 1)));
  EXPECT_EQ(utf16le_to_utf8(utf8_to_utf16le("\xf0\x9f\x98\x80 ok")), "\xf0\x9f\x98\x80 ok");  // surrogate pair
}

TEST(RegText, ParsesRegeditSyntax) {
  auto edits = parse_reg(
      "Windows Registry Editor Version 5.00\r\n\r\n"
      "; a comment\r\n"
      "[HKEY_LOCAL_MACHINE\\SYSTEM\\Select]\r\n"
      "\"Current\"=dword:00000002\r\n"
      "@=\"default \\\"quoted\\\" C:\\\\path\"\r\n"
      "\"Bin\"=hex:01,02,\\\r\n  03\r\n"
      "\"Multi\"=hex(7):61,00,00,00,62,00,00,00,00,00\r\n"
      "\"Raw\"=str(2):\"C:\\Windows\"\r\n"
      "\"Gone\"=-\r\n"
      "[-HKEY_LOCAL_MACHINE\\SYSTEM\\Old]\r\n");
  ASSERT_EQ(edits.size(), 2u);
  const auto& values = edits[0].values;
  ASSERT_EQ(values.size(), 6u);
  EXPECT_EQ(as_dword(*values[0].value), 2u);
  EXPECT_EQ(values[1].name, "");
  EXPECT_EQ(as_string(*values[1].value), "default \"quoted\" C:\\path");
  EXPECT_EQ(values[2].value->data, std::string("\x01\x02\x03"));
  EXPECT_EQ(as_multi_string(*values[3].value), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(values[4].value->type, kRegExpandSz);
  EXPECT_EQ(as_string(*values[4].value), "C:\\Windows");
  EXPECT_FALSE(values[5].value);
  EXPECT_TRUE(edits[1].delete_key);
}

TEST(RegText, MalformedLinesAreBadInputNamingTheLine) {
  try {
    parse_reg("[HKEY_LOCAL_MACHINE\\X]\n\"A\"=dword:1\n\"B\"=nonsense:12\n");
    FAIL() << "accepted a malformed line";
  } catch (const BadInput& e) {
    EXPECT_NE(std::string(e.what()).find("line 3"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_reg("\"A\"=dword:1\n"), BadInput);
  EXPECT_THROW(parse_reg("[KEY]\n\"A\"=\"unterminated\n"), BadInput);
  EXPECT_THROW(parse_reg("[KEY\n"), BadInput);
}

TEST_F(RegistryTest, MergesTheCorpusRegFiles) {
  VMFIX_REQUIRE_CORPUS(corpus);
  int merged = 0;
  for (const auto& entry : fs::directory_iterator(corpus / "hives/virt-v2v-phony")) {
    if (entry.path().extension() != ".reg") continue;
    const std::string text = read_host_file(entry.path());
    const bool bcd = entry.path().filename() == "windows-bcd.reg";
    const bool system = entry.path().filename() == "windows-system.reg";
    fs::path file = new_hive(entry.path().filename().string());
    Hive hive(file, Hive::Mode::writable);
    merge_reg(hive, text, bcd ? "" : system ? "HKEY_LOCAL_MACHINE\\SYSTEM" : "HKEY_LOCAL_MACHINE\\SOFTWARE");
    hive.commit(file);
    // Every key and value of the text is in the hive, byte for byte.
    Hive reopened(file, Hive::Mode::read_only);
    const std::string prefix = bcd ? "" : system ? "HKEY_LOCAL_MACHINE\\SYSTEM" : "HKEY_LOCAL_MACHINE\\SOFTWARE";
    for (const RegKeyEdit& edit : parse_reg(text)) {
      auto node = reopened.find(std::string_view(edit.key).substr(prefix.size()));
      ASSERT_TRUE(node) << edit.key;
      for (const auto& value_edit : edit.values) {
        auto stored = reopened.value(*node, value_edit.name);
        ASSERT_TRUE(stored) << edit.key << " " << value_edit.name;
        EXPECT_EQ(stored->type, value_edit.value->type);
        EXPECT_EQ(stored->data, value_edit.value->data);
      }
    }
    if (system) {
      EXPECT_EQ(inspect::resolve_current_control_set(reopened), "ControlSet001");
    }
    ++merged;
  }
  EXPECT_GE(merged, 9);
}

TEST(Hives, CorpusHivesOpenOrFailCleanly) {
  VMFIX_REQUIRE_CORPUS(corpus);
  int opened = 0, refused = 0;
  for (const auto& entry : fs::recursive_directory_iterator(corpus / "hives")) {
    if (!entry.is_regular_file()) continue;
    const std::string name = entry.path().filename().string();
    if (name.ends_with(".reg") || name.ends_with(".sh") || name.find("LOG") != std::string::npos || name == "README" ||
        name == "ReadMe")
      continue;
    try {
      Hive hive(entry.path(), Hive::Mode::read_only);
      // Walk two levels with values: corrupt cells must surface as HiveError, not crashes.
      for (Node child : hive.subkeys(hive.root())) {
        hive.values(child);
        for (Node grandchild : hive.subkeys(child)) hive.values(grandchild);
      }
      ++opened;
    } catch (const HiveError& e) {
      EXPECT_NE(std::string(e.what()).find(entry.path().string()), std::string::npos) << e.what();
      ++refused;
    }
  }
  EXPECT_GE(opened, 20);
  EXPECT_GE(refused, 1);  // TruncatedHive, at least
}

TEST(Hives, Windows9xRegistryIsRefusedByName) {
  VMFIX_REQUIRE_CORPUS(corpus);
  try {
    Hive hive(corpus / "hives/dfwinreg/SYSTEM.DAT", Hive::Mode::read_only);
    FAIL() << "opened a CREG file as an NT hive";
  } catch (const HiveError& e) {
    EXPECT_NE(std::string(e.what()).find("Windows 9x"), std::string::npos) << e.what();
  }
}

TEST_F(RegistryTest, WindowsFactsFromTheLibguestfsSystemHive) {
  VMFIX_REQUIRE_CORPUS(corpus);
  fs::path file = new_hive();
  {
    Hive hive(file, Hive::Mode::writable);
    merge_reg(hive, read_host_file(corpus / "hives/libguestfs-phony/windows-system.reg"), "HKEY_LOCAL_MACHINE\\SYSTEM");
    // Add what the phony hive lacks: one static and one DHCP interface, and a VMware driver.
    merge_reg(hive,
              "[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\Tcpip\\Parameters\\Interfaces\\{A}]\n"
              "\"EnableDHCP\"=dword:00000000\n\"IPAddress\"=hex(7):31,00,2e,00,32,00,00,00,00,00\n"
              "[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\Tcpip\\Parameters\\Interfaces\\{B}]\n"
              "\"EnableDHCP\"=dword:00000001\n"
              "[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\Tcpip\\Parameters\\Interfaces\\{C}]\n"
              "[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\vmxnet3ndis6]\n\"Start\"=dword:00000003\n"
              "[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\stornvme]\n\"Start\"=dword:00000003\n",
              "HKEY_LOCAL_MACHINE\\SYSTEM");
    hive.commit(file);
  }
  Hive system(file, Hive::Mode::read_only);
  const std::string control_set = inspect::resolve_current_control_set(system);
  EXPECT_EQ(control_set, "ControlSet001");
  auto interfaces = inspect::read_windows_interfaces(system, control_set);
  ASSERT_EQ(interfaces.size(), 2u);  // {C} has neither value: not an IP interface
  EXPECT_EQ(interfaces[0].method, "static");
  EXPECT_EQ(interfaces[0].addresses, (std::vector<std::string>{"1.2"}));
  EXPECT_EQ(interfaces[1].method, "dhcp");
  auto tools = inspect::read_windows_vmware(system, control_set, nullptr);
  ASSERT_EQ(tools.size(), 1u);  // vmxnet3ndis6, never stornvme
  EXPECT_EQ(tools[0].evidence, "ControlSet001\\Services\\vmxnet3ndis6");
}

TEST_F(RegistryTest, MissingSelectIsAClearError) {
  Hive hive(new_hive(), Hive::Mode::read_only);
  EXPECT_THROW(inspect::resolve_current_control_set(hive), HiveError);
}

TEST(Hives, NotAHiveIsAClearError) {
  TempDir scratch("vmfix-registry-test");
  test::write_file(scratch.path() / "junk", test::random_bytes(8192, 3));
  EXPECT_THROW(Hive(scratch.path() / "junk", Hive::Mode::read_only), HiveError);
  EXPECT_THROW(Hive(scratch.path() / "missing", Hive::Mode::read_only), HiveError);
}

}  // namespace vmfix::registry

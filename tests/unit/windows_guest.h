#pragma once
// The Windows fixture's real hives (built by hivex from its .reg text) in a FakeGuest: what the
// tests of each Windows fixer start from, and how they read a value back.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fixers/fixer.h"
#include "guest/fake_guest.h"
#include "inspect/facts.h"
#include "registry/hive.h"
#include "support/files.h"

namespace vmfix::test {

class WindowsGuest : public ::testing::Test {
 protected:
  void SetUp() override;
  // The value under `key` of the guest's hive `hive_name` ("SYSTEM", "SOFTWARE"); REG_NONE if absent.
  registry::Value value(const std::string& hive_name, const std::string& key, const std::string& name);
  // The evidence of each failing finding of the fixer's check.
  std::vector<std::string> failing(fixers::Fixer& fixer);
  // The fixer's contract on this guest: its check fails, its fix changes something (changes named
  // after it), the check then passes and a second fix changes nothing.
  void expect_fixed_once(fixers::Fixer& fixer);
  // Merges .reg text (keys under HKEY_LOCAL_MACHINE\HIVE) into the guest's hive `hive_name`, and
  // reads the facts again.
  void edit_hive(const std::string& hive_name, const std::string& reg);
  // facts_.windows, read from the guest's hives as inspection reads them.
  void inspect_hives();

  TempDir scratch_{"vmfix-windows-guest"};
  guest::FakeGuest guest_;
  inspect::Facts facts_;
};

}  // namespace vmfix::test

#pragma once
// The fixtures' files in a FakeGuest, and the fixers by id: what the fixer tests start from.
#include <memory>
#include <string>
#include <vector>

#include "fixers/fixer.h"
#include "guest/fake_guest.h"
#include "inspect/facts.h"

namespace vmfix::test {

// The UUID every {{uuid:...}} in a fixture's files becomes.
inline constexpr const char* kFixtureUuid = "0b5e9a3c-1111-2222-3333-444455556666";

// Loads the named fixture's directories, files and symlinks into `guest`.
void load_fixture(guest::FakeGuest& guest, const std::string& name);

// A Linux guest's boot facts as inspection reads them: boot loaders, kernels, the boot menu.
inspect::Facts linux_boot_facts(guest::Guest& guest);

// A Linux guest's package and network facts as inspection reads them from `guest`.
inspect::Facts linux_facts(guest::FakeGuest& guest, std::vector<std::string> packages, const std::string& format);

// Whether any finding of the fixer's check fails.
bool any_failing(fixers::Fixer& fixer, guest::Guest& guest, const inspect::Facts& facts);

// The fixer with this id from the fixer table (nullptr if none).
std::unique_ptr<fixers::Fixer> fixer_named(const std::string& id);

}  // namespace vmfix::test

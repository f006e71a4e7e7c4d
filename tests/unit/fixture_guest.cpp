#include "tests/unit/fixture_guest.h"

#include "bootloader/detect.h"
#include "bootloader/kernels.h"
#include "fixers/table.h"
#include "fixtures/fixture.h"
#include "inspect/network.h"
#include "inspect/tools.h"

namespace vmfix::test {

void load_fixture(guest::FakeGuest& guest, const std::string& name) {
  const fixtures::FixtureSpec& spec = fixtures::find_fixture(name);
  for (const auto& directory : spec.directories) guest.mkdir_p(directory);
  for (const auto& file : spec.files) {
    std::string content = file.content;
    for (size_t at; (at = content.find("{{uuid:")) != std::string::npos;)
      content.replace(at, content.find("}}", at) + 2 - at, kFixtureUuid);
    guest.add_file(file.path, content, file.mode);
  }
  for (const auto& [link, target] : spec.symlinks) guest.add_symlink(link, target);
}

inspect::Facts linux_boot_facts(guest::Guest& guest) {
  inspect::Facts facts;
  facts.os_type = "linux";
  facts.bootloaders = bootloader::detect_bootloaders(guest);
  facts.linux.kernels = bootloader::installed_kernels(guest);
  facts.linux.boot = bootloader::read_boot_config(guest, facts.bootloaders);
  return facts;
}

std::unique_ptr<fixers::Fixer> fixer_named(const std::string& id) {
  for (auto& fixer : fixers::all_fixers())
    if (fixer->id() == id) return std::move(fixer);
  return nullptr;
}

inspect::Facts linux_facts(guest::FakeGuest& guest, std::vector<std::string> packages, const std::string& format) {
  inspect::Facts facts;
  facts.os_type = "linux";
  facts.package_format = format;
  facts.packages = std::move(packages);
  facts.packages_known = true;
  facts.network = inspect::detect_linux_network(guest);
  facts.hypervisor_tools = inspect::detect_linux_tools(guest, facts.packages);
  return facts;
}

bool any_failing(fixers::Fixer& fixer, guest::Guest& guest, const inspect::Facts& facts) {
  for (const fixers::Finding& finding : fixer.check(guest, facts))
    if (finding.status == fixers::Status::fail) return true;
  return false;
}

}  // namespace vmfix::test

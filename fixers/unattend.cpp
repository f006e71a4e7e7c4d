// unattend: the answer file AWS documents for a Sysprep'd image (en-US, EULA accepted, OOBE
// skipped) in C:\Windows\Panther, with processorArchitecture from inspection; or the user's own
// (--unattend FILE). An existing answer file is kept unless the user gives one, and then it is
// backed up beside itself first.
#include <fmt/core.h>

#include "fixers/table.h"

namespace vmfix::fixers {

namespace {

std::string aws_answer_file(const std::string& architecture) {
  return fmt::format(R"(<?xml version="1.0" encoding="UTF-8"?>
<unattend xmlns:wcm="http://schemas.microsoft.com/WMIConfig/2002/State" xmlns="urn:schemas-microsoft-com:unattend">
  <settings pass="oobeSystem">
    <component versionScope="nonSxS" processorArchitecture="{0}" name="Microsoft-Windows-International-Core" publicKeyToken="31bf3856ad364e35" language="neutral">
      <InputLocale>en-US</InputLocale>
      <SystemLocale>en-US</SystemLocale>
      <UILanguage>en-US</UILanguage>
      <UserLocale>en-US</UserLocale>
    </component>
    <component versionScope="nonSxS" processorArchitecture="{0}" name="Microsoft-Windows-Shell-Setup" publicKeyToken="31bf3856ad364e35" language="neutral">
      <OOBE>
        <HideEULAPage>true</HideEULAPage>
        <SkipMachineOOBE>true</SkipMachineOOBE>
        <SkipUserOOBE>true</SkipUserOOBE>
      </OOBE>
    </component>
  </settings>
</unattend>
)",
                     architecture);
}

// The README's fixer table (scripts/fixer-table.sh).
constexpr const char* kChecks = "`C:\\Windows\\Panther\\unattend.xml`";
constexpr const char* kChanges =
    "writes AWS's answer file (en-US, EULA page hidden, machine and user OOBE skipped) with "
    "`processorArchitecture` amd64 or x86 from inspection; `--unattend FILE` writes yours instead "
    "(well-formed XML with an `<unattend>` root, no DTD); an existing file is kept, unless you give "
    "one, and then it is first copied to `unattend.xml.vmfix-backup`";

class UnattendFixer : public Fixer {
 public:
  explicit UnattendFixer(const FixerSettings& settings) : settings_(settings) {}
  std::string_view id() const override { return "unattend"; }
  std::string_view summary() const override {
    return "Windows: write C:\\Windows\\Panther\\unattend.xml (AWS's en-US answer file, or --unattend FILE)";
  }
  std::vector<FixerDoc> documentation() const override { return {{std::string(id()), "", kChecks, kChanges}}; }
  std::vector<std::string> rules() const override { return {"windows-unattend"}; }
  bool applies(const inspect::Facts& facts) const override {
    return facts.os_type == "windows" && !architecture(facts).empty();
  }

  std::vector<Finding> check(guest::Guest& guest, const inspect::Facts& facts) override {
    const std::string path = answer_file_path(guest, facts);
    auto current = guest.read_if_exists(path);
    if (!current) return {fail(path + " is absent")};
    if (settings_.unattend_xml && *current != *settings_.unattend_xml)
      return {fail(fmt::format("{} differs from {}, which replaces it", path, settings_.unattend_source))};
    return {{"windows-unattend", Status::pass, "an answer file is in place", path}};
  }

  std::vector<Change> fix(guest::Guest& guest, const inspect::Facts& facts) override {
    const std::string path = answer_file_path(guest, facts);
    auto current = guest.read_if_exists(path);
    const std::string wanted = settings_.unattend_xml ? *settings_.unattend_xml : aws_answer_file(architecture(facts));
    if (current && (!settings_.unattend_xml || *current == wanted)) return {};
    std::string before = "(absent)";
    if (current) {
      const std::string backup = path + ".vmfix-backup";
      if (!guest.exists(backup)) guest.write(backup, *current);
      before = fmt::format("{} bytes, backed up to {}", current->size(), backup);
    }
    guest.mkdir_p(path.substr(0, path.rfind('/')));
    guest.write(path, wanted);
    std::string after = settings_.unattend_xml
                            ? fmt::format("{} ({} bytes)", settings_.unattend_source, wanted.size())
                            : fmt::format("AWS answer file, en-US, processorArchitecture={}", architecture(facts));
    return {{"unattend", path, before, after, ""}};
  }

 private:
  static std::string architecture(const inspect::Facts& facts) {
    if (facts.arch == "x86_64") return "amd64";
    if (facts.arch == "i386" || facts.arch == "i686") return "x86";
    return "";
  }
  static std::string answer_file_path(guest::Guest& guest, const inspect::Facts& facts) {
    return guest.resolve_case(facts.windows_systemroot + "/Panther") + "/unattend.xml";
  }
  static Finding fail(std::string evidence) {
    return {"windows-unattend", Status::fail, "C:\\Windows\\Panther\\unattend.xml will be written",
            std::move(evidence)};
  }

  FixerSettings settings_;
};

}  // namespace

std::unique_ptr<Fixer> make_unattend(const FixerSettings& settings) {
  return std::make_unique<UnattendFixer>(settings);
}

}  // namespace vmfix::fixers

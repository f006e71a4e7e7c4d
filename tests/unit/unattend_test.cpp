// unattend on the Windows fixture: AWS's answer file written; an existing one kept unless the
// user gives theirs, and then backed up; hostile answer files refused.
#include "fixers/table.h"
#include "image/ovf.h"
#include "support/error.h"
#include "tests/unit/fixture_guest.h"
#include "tests/unit/windows_guest.h"

namespace vmfix::test {
namespace {

using Unattend = WindowsGuest;
constexpr const char* kAnswerFile = "/Windows/Panther/unattend.xml";

TEST_F(Unattend, AwsAnswerFileForTheGuestsArchitecture) {
  EXPECT_FALSE(guest_.exists(kAnswerFile)) << "before";
  auto fixer = fixer_named("unattend");
  expect_fixed_once(*fixer);
  const std::string answer = guest_.read(kAnswerFile);
  EXPECT_NO_THROW(image::check_answer_file(answer, "unattend.xml"));
  EXPECT_NE(answer.find("processorArchitecture=\"amd64\""), std::string::npos);
  EXPECT_NE(answer.find("<SkipMachineOOBE>true</SkipMachineOOBE>"), std::string::npos);
}

TEST_F(Unattend, KeepsAnExistingFileUnlessTheUserGivesOneAndThenBacksItUp) {
  guest_.add_file(kAnswerFile, "<unattend>the admin's own</unattend>");
  auto keep = fixers::make_unattend({});
  EXPECT_TRUE(failing(*keep).empty());
  EXPECT_TRUE(keep->fix(guest_, facts_).empty());
  EXPECT_EQ(guest_.read(kAnswerFile), "<unattend>the admin's own</unattend>");

  fixers::FixerSettings settings{std::string("<unattend xmlns=\"urn:schemas-microsoft-com:unattend\"/>"), "mine.xml"};
  auto replace = fixers::make_unattend(settings);
  EXPECT_FALSE(failing(*replace).empty());
  auto changes = replace->fix(guest_, facts_);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(guest_.read(kAnswerFile), *settings.unattend_xml);
  EXPECT_EQ(guest_.read("/Windows/Panther/unattend.xml.vmfix-backup"), "<unattend>the admin's own</unattend>");
  EXPECT_TRUE(replace->fix(guest_, facts_).empty());
}

TEST(AnswerFile, MalformedOrHostileFilesAreRefused) {
  EXPECT_THROW(image::check_answer_file("<unattend>", "a.xml"), BadInput);
  EXPECT_THROW(image::check_answer_file("<settings/>", "a.xml"), BadInput);
  EXPECT_THROW(image::check_answer_file(
                   "<!DOCTYPE u [<!ENTITY x SYSTEM \"file:///etc/shadow\">]><unattend>&x;</unattend>", "a.xml"),
               BadInput);
  EXPECT_NO_THROW(image::check_answer_file("<?xml version=\"1.0\"?><unattend/>", "a.xml"));
}

}  // namespace
}  // namespace vmfix::test

// The string helpers every parser leans on.
#include "support/text.h"

#include <gtest/gtest.h>

namespace vmfix {
namespace {

using Pieces = std::vector<std::string_view>;

TEST(Text, SplitListKeepsEveryPieceEmptyOnesIncluded) {
  EXPECT_EQ(split_list("a,b", ','), (Pieces{"a", "b"}));
  EXPECT_EQ(split_list("a,,b,", ','), (Pieces{"a", "", "b", ""}));
  EXPECT_EQ(split_list("", ','), (Pieces{""}));
  EXPECT_EQ(split_list(",", ','), (Pieces{"", ""}));
  EXPECT_EQ(split_list("defaults,noatime", ':'), (Pieces{"defaults,noatime"}));
}

TEST(Text, CaseInsensitiveComparisonsAreAsciiOnly) {
  EXPECT_TRUE(contains_icase("<?xml?><!DocType x>", "<!doctype"));
  EXPECT_TRUE(contains_icase("abc", ""));
  EXPECT_FALSE(contains_icase("<!doc type", "<!doctype"));
  EXPECT_FALSE(contains_icase("<!DOCTYP", "<!doctype"));
  EXPECT_EQ(find_icase("PartUUID=a partuuid=b", "PARTUUID="), 0u);
  EXPECT_EQ(find_icase("PartUUID=a partuuid=b", "PARTUUID=", 1), 11u);
  EXPECT_EQ(find_icase("PartUUID=a partuuid=b", "PARTUUID=", 12), std::string_view::npos);
  EXPECT_EQ(find_icase("abc", "", 3), 3u);
  EXPECT_EQ(find_icase("abc", "a", 4), std::string_view::npos);
  EXPECT_TRUE(equals_icase("ÄBC-Z", "Äbc-z"));
  EXPECT_FALSE(equals_icase("\xc4", "\xe4")) << "Latin-1 letters are bytes, not letters";
  EXPECT_EQ(to_lower("MiXeD-09\xc4"), "mixed-09\xc4");
}

TEST(Text, OneLineAndTrim) {
  EXPECT_EQ(one_line("a\nb\r\nc"), "a b  c");
  EXPECT_EQ(trim(" \t x y \n"), "x y");
}

}  // namespace
}  // namespace vmfix

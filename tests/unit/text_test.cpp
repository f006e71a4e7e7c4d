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

TEST(Text, OneLineAndTrim) {
  EXPECT_EQ(one_line("a\nb\r\nc"), "a b  c");
  EXPECT_EQ(trim(" \t x y \n"), "x y");
}

}  // namespace
}  // namespace vmfix

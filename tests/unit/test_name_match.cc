#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/name_match.h"

using dynprobe::closest_names;
using dynprobe::glob_match;
using dynprobe::match_function;
using ::testing::ElementsAre;

namespace {

const std::vector<std::string_view> kNames = {
    "main.(*ledger).Record",     "main.ledger.Count",         "main.computeE", "main.main",
    "github.com/a/b/pkg.(*T).M", "github.com/a/c/pkg.(*T).M", "runtime.main",  "fmt.Println",
};

TEST(NameMatch, ExactNameWins) {
  EXPECT_THAT(match_function("main.main", kNames), ElementsAre("main.main"));
}

TEST(NameMatch, SuffixAtPackageBoundary) {
  EXPECT_THAT(match_function("computeE", kNames), ElementsAre("main.computeE"));
  EXPECT_THAT(match_function("(*ledger).Record", kNames), ElementsAre("main.(*ledger).Record"));
  EXPECT_THAT(match_function("b/pkg.(*T).M", kNames), ElementsAre("github.com/a/b/pkg.(*T).M"));
}

TEST(NameMatch, ReceiverWithoutPointerSyntax) {
  EXPECT_THAT(match_function("ledger.Record", kNames), ElementsAre("main.(*ledger).Record"));
  EXPECT_THAT(match_function("ledger.Count", kNames), ElementsAre("main.ledger.Count"));
}

TEST(NameMatch, SuffixMustStartAtBoundary) {
  // "E" is the tail of "computeE" but not a whole name element.
  EXPECT_TRUE(match_function("puteE", kNames).empty());
}

TEST(NameMatch, AmbiguousSuffixListsEveryCandidate) {
  EXPECT_THAT(match_function("main", kNames), ElementsAre("main.main", "runtime.main"));
  EXPECT_THAT(match_function("pkg.(*T).M", kNames),
              ElementsAre("github.com/a/b/pkg.(*T).M", "github.com/a/c/pkg.(*T).M"));
}

// g++ -O2 splits a function's unlikely paths into "f(...) (.cold)": a bare
// name finds both, a signature the function itself.
TEST(NameMatch, SignatureNamesTheFunctionNotItsColdPart) {
  const std::vector<std::string_view> names = {
      "shop::Greet(std::__cxx11::basic_string<char, std::char_traits<char>, "
      "std::allocator<char>> const&, int)",
      "shop::Greet(std::__cxx11::basic_string<char, std::char_traits<char>, "
      "std::allocator<char>> const&, int) (.cold)"};
  EXPECT_EQ(match_function("shop::Greet", names).size(), 2u);
  EXPECT_THAT(match_function("shop::Greet(std::string const&, int)", names), ElementsAre(names[0]));
}

TEST(NameMatch, GlobOverWholeName) {
  EXPECT_TRUE(glob_match("main.*", "main.(*ledger).Record"));
  EXPECT_FALSE(glob_match("main.*", "runtime.main"));
  EXPECT_TRUE(glob_match("*.comput?E", "main.computeE"));
}

TEST(NameMatch, ClosestNamesPreferContainmentThenSpelling) {
  auto close = closest_names("computE", kNames, 2);
  ASSERT_FALSE(close.empty());
  EXPECT_EQ(close.front(), "main.computeE");
  auto contain = closest_names("Record", kNames, 1);
  EXPECT_THAT(contain, ElementsAre("main.(*ledger).Record"));
}

}  // namespace

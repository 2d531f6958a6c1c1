// Rich Go values (issue 5) against the ground truth of fixtures/go/rich:
// strings (cut and invalid UTF-8), structs, pointers to --depth, slices,
// arrays, maps, chans, funcs, interfaces and errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <iostream>

#include "tests/integration/trace_support.h"

namespace dynprobe::test {
namespace {

using ::testing::HasSubstr;

class Rich : public ::testing::TestWithParam<std::string> {};

TEST_P(Rich, EveryKindAsArgumentAndResultMatchesGroundTruth) {
  // Wrap is checked on its own below: its nested errors are a known cut.
  const std::vector<std::string> probes = {
      "main.Cat",    "main.Sum",    "main.Nest",    "main.NestPtr", "main.Embed",
      "main.Scale",  "main.Deref2", "main.Prepend", "main.Second",  "main.Ints",
      "main.Monies", "main.Strs",   "main.Bytes",   "main.Arrays",  "main.With",
      "main.Queue",  "main.Apply",  "main.Box",     "main.Swap"};
  for (const char* mode : {"default", "noopt"}) {
    SCOPED_TRACE(mode);
    std::string bin = build_fixture(GetParam(), "rich", mode);
    ASSERT_FALSE(bin.empty());
    auto run = trace_command(bin, probes);
    EXPECT_EQ(run.command.exit_code, 0) << run.command.err;
    EXPECT_THAT(run.command.err, HasSubstr(" 0 drops"));
    // Floats passed in X registers (Nest's In.Ratio under the register ABI)
    // are declared unavailable; everything else must equal the ground truth.
    std::string gap = register_abi(GetParam()) ? "vector register" : "";
    MatchCount n;
    for (const auto& p : probes) n += expect_calls_match(run.truth, run.records, p, gap);
    EXPECT_GT(n.compared, 800u);
    if (gap.empty()) EXPECT_EQ(n.gaps, 0u);
    std::cout << "[ values ] rich " << GetParam() << " " << mode << ": " << n.compared
              << " matched, " << n.gaps << " unavailable (vector registers)\n";
  }
}

// Inside an interface's data only strings are followed, so an error wrapping
// an error shows its own type and message and cuts the inner error.
TEST_P(Rich, NestedErrorsShowTheOuterTypeAndMessage) {
  std::string bin = build_fixture(GetParam(), "rich", "default");
  ASSERT_FALSE(bin.empty());
  auto run = trace_command(bin, {"main.Wrap"});
  EXPECT_EQ(run.command.exit_code, 0) << run.command.err;
  auto want = of_probe(run.truth, "main.Wrap");
  auto got = of_probe(run.records, "main.Wrap");
  ASSERT_EQ(got.size(), want.size());
  ASSERT_FALSE(want.empty());
  size_t nested = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    for (const char* part : {"args", "ret"}) {
      for (const auto& [key, w] : *want[i]->getObject(part)) {
        const auto* g = got[i]->getObject(part)->get(key);
        ASSERT_NE(g, nullptr) << key.str();
        const auto* wo = w.getAsObject();
        const auto* go = g->getAsObject();
        if (!wo || !wo->get("type")) {
          EXPECT_EQ(json_diff(w, *g), "") << "call " << i << " " << key.str();
          continue;
        }
        ASSERT_TRUE(go) << "call " << i << " " << key.str();
        EXPECT_EQ(*wo->getString("type"), *go->getString("type"));
        const auto* wv = wo->getObject("value");
        const auto* gv = go->getObject("value");
        ASSERT_TRUE(wv && gv);
        for (const auto& [field, fv] : *wv) {
          const auto* gf = gv->get(field);
          ASSERT_NE(gf, nullptr) << field.str();
          if (fv.getAsObject() && fv.getAsObject()->get("type")) {
            ++nested;
            const auto* cut = gf->getAsObject() ? gf->getAsObject()->getObject("$cut") : nullptr;
            EXPECT_NE(cut, nullptr) << "a nested interface is cut, not guessed";
          } else {
            EXPECT_EQ(json_diff(fv, *gf), "")
                << "call " << i << " " << key.str() << "." << field.str();
          }
        }
      }
    }
  }
  EXPECT_GT(nested, 3u);
}

INSTANTIATE_TEST_SUITE_P(GoVersions, Rich, ::testing::ValuesIn(go_versions()),
                         [](const auto& info) { return go_version_test_name(info.param); });

}  // namespace
}  // namespace dynprobe::test

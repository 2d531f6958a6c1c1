#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "frontends/probe_spec.h"

namespace dynprobe {
namespace {

using ::testing::HasSubstr;

TEST(ProbeSpec, BareFunctionCapturesEverything) {
  auto s = parse_probe_spec("main.computeE");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->function, "main.computeE");
  EXPECT_TRUE(s->capture_all);
}

TEST(ProbeSpec, ReceiverParenthesesAreNotAnArgumentList) {
  auto s = parse_probe_spec("main.(*ledger).Record");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->function, "main.(*ledger).Record");
  EXPECT_TRUE(s->capture_all);
}

TEST(ProbeSpec, ExpressionListOfEveryKind) {
  auto s = parse_probe_spec(" main.(*ledger).Record( m , $0,@latency,@goid, note) ");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->function, "main.(*ledger).Record");
  ASSERT_FALSE(s->capture_all);
  ASSERT_EQ(s->exprs.size(), 5u);
  EXPECT_EQ(s->exprs[0].kind, ProbeExpr::Kind::Name);
  EXPECT_EQ(s->exprs[0].name, "m");
  EXPECT_EQ(s->exprs[1].kind, ProbeExpr::Kind::Result);
  EXPECT_EQ(s->exprs[1].index, 0u);
  EXPECT_EQ(s->exprs[1].text, "$0");
  EXPECT_EQ(s->exprs[2].kind, ProbeExpr::Kind::Latency);
  EXPECT_EQ(s->exprs[3].kind, ProbeExpr::Kind::Goid);
  EXPECT_EQ(s->exprs[4].name, "note");
}

TEST(ProbeSpec, MalformedInputNamesTheProblem) {
  EXPECT_THAT(parse_probe_spec("").error().message, HasSubstr("empty probe"));
  EXPECT_THAT(parse_probe_spec("f(a,,b)").error().message,
              HasSubstr("empty expression at column 5"));
  EXPECT_THAT(parse_probe_spec("f()").error().message, HasSubstr("empty expression list"));
  EXPECT_THAT(parse_probe_spec("f(@lat)").error().message, HasSubstr("unknown builtin '@lat'"));
  EXPECT_THAT(parse_probe_spec("f($x)").error().message, HasSubstr("not a result reference"));
  EXPECT_THAT(parse_probe_spec("f(a b)").error().message, HasSubstr("not a parameter name"));
  EXPECT_THAT(parse_probe_spec("f(a))").error().message, HasSubstr("unbalanced"));
}

}  // namespace
}  // namespace dynprobe

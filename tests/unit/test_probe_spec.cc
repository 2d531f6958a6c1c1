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

TEST(ProbeSpec, UnparsableListMakesTheWholeTextTheFunctionName) {
  // C++ names end in their parameter list.
  auto s = parse_probe_spec("shop::f(char const*)");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->function, "shop::f(char const*)");
  EXPECT_TRUE(s->capture_all);
  EXPECT_THAT(s->list_error, HasSubstr("not a parameter name"));
}

TEST(ProbeSpec, MalformedInputNamesTheProblem) {
  EXPECT_THAT(parse_probe_spec("").error().message, HasSubstr("empty probe"));
  EXPECT_THAT(parse_probe_spec("f(a,,b)")->list_error,
              HasSubstr("empty expression at column 5"));
  EXPECT_THAT(parse_probe_spec("f()").error().message, HasSubstr("empty expression list"));
  EXPECT_THAT(parse_probe_spec("f(@lat)")->list_error, HasSubstr("unknown builtin '@lat'"));
  EXPECT_THAT(parse_probe_spec("f($x)")->list_error, HasSubstr("not a result reference"));
  EXPECT_THAT(parse_probe_spec("f(a b)")->list_error, HasSubstr("not a parameter name"));
  EXPECT_THAT(parse_probe_spec("f(a))").error().message, HasSubstr("unbalanced"));
}

}  // namespace
}  // namespace dynprobe

namespace dynprobe {
namespace {

TEST(ProbeSpecPaths, FieldsIndexesDerefsAndBuiltins) {
  auto s = parse_probe_spec("main.Sum(l.Currency, $0.Units, s[3].Name, *p, **pp, len(l.Currency), cap(xs))");
  ASSERT_TRUE(s) << s.error().message;
  ASSERT_EQ(s->exprs.size(), 7u);
  const auto& a = s->exprs[0];
  EXPECT_EQ(a.name, "l");
  ASSERT_EQ(a.path.size(), 1u);
  EXPECT_EQ(a.path[0].kind, PathStep::Kind::Field);
  EXPECT_EQ(a.path[0].field, "Currency");
  EXPECT_EQ(s->exprs[1].kind, ProbeExpr::Kind::Result);
  EXPECT_EQ(s->exprs[1].path[0].field, "Units");
  const auto& c = s->exprs[2];
  ASSERT_EQ(c.path.size(), 2u);
  EXPECT_EQ(c.path[0].kind, PathStep::Kind::Index);
  EXPECT_EQ(c.path[0].index, 3u);
  EXPECT_EQ(c.path[1].field, "Name");
  EXPECT_EQ(s->exprs[3].path.size(), 1u);
  EXPECT_EQ(s->exprs[3].path[0].kind, PathStep::Kind::Deref);
  EXPECT_EQ(s->exprs[4].path.size(), 2u);
  EXPECT_EQ(s->exprs[5].fn, ProbeExpr::Fn::Len);
  EXPECT_EQ(s->exprs[5].path[0].field, "Currency");
  EXPECT_EQ(s->exprs[6].fn, ProbeExpr::Fn::Cap);
  EXPECT_EQ(s->exprs[6].text, "cap(xs)");
}

TEST(ProbeSpecPaths, DerefAppliesToTheWholeSelector) {
  // As in Go, *p.x is *(p.x): the dereference comes after the field.
  auto s = parse_probe_spec("f(*p.x)");
  ASSERT_TRUE(s);
  ASSERT_EQ(s->exprs[0].path.size(), 2u);
  EXPECT_EQ(s->exprs[0].path[0].kind, PathStep::Kind::Field);
  EXPECT_EQ(s->exprs[0].path[1].kind, PathStep::Kind::Deref);
}

TEST(ProbeSpecPaths, MapKeysAndTypeAssertions) {
  auto s = parse_probe_spec(
      R"(main.Wrap(m["a\"b"].Name, m[-7], e.(*main.MyErr).Code, len(x.err.(*fmt.wrapError).msg)))");
  ASSERT_TRUE(s) << s.error().message;
  ASSERT_EQ(s->exprs.size(), 4u);
  const auto& k = s->exprs[0].path;
  ASSERT_EQ(k.size(), 2u);
  EXPECT_EQ(k[0].kind, PathStep::Kind::Key);
  EXPECT_EQ(k[0].field, "a\"b");
  EXPECT_EQ(k[1].field, "Name");
  const auto& n = s->exprs[1].path;
  ASSERT_EQ(n.size(), 1u);
  EXPECT_EQ(n[0].kind, PathStep::Kind::Index);
  EXPECT_TRUE(n[0].negative);
  EXPECT_EQ(n[0].index, 7u);
  const auto& a = s->exprs[2].path;
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].kind, PathStep::Kind::Assert);
  EXPECT_EQ(a[0].field, "*main.MyErr");
  EXPECT_EQ(a[1].field, "Code");
  const auto& w = s->exprs[3];
  EXPECT_EQ(w.fn, ProbeExpr::Fn::Len);
  ASSERT_EQ(w.path.size(), 3u);
  EXPECT_EQ(w.path[1].kind, PathStep::Kind::Assert);
  EXPECT_EQ(w.path[1].field, "*fmt.wrapError");
  EXPECT_EQ(w.path[2].field, "msg");
}

TEST(ProbeSpecPaths, MalformedPathsNameTheProblem) {
  EXPECT_THAT(parse_probe_spec("f(s[i])")->list_error, HasSubstr("an index is a constant"));
  EXPECT_THAT(parse_probe_spec("f(a..b)")->list_error, HasSubstr("bad field name"));
  EXPECT_THAT(parse_probe_spec("f(e.())")->list_error, HasSubstr("a type assertion is .(TYPE)"));
  EXPECT_THAT(parse_probe_spec(R"(f(m["a))")->list_error, HasSubstr("a map key is"));
  EXPECT_THAT(parse_probe_spec("f(len(a)").error().message, HasSubstr("unbalanced"));
}

}  // namespace
}  // namespace dynprobe

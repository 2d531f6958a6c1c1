// The comparison the integration tests and the conformance runner share.
#include <gtest/gtest.h>

#include "harness/ground_truth.h"

namespace dynprobe::harness {
namespace {

JsonLines lines(const std::string& text) {
  auto parsed = parse_json_lines(text);
  EXPECT_TRUE(parsed.errors.empty());
  return parsed.lines;
}

std::vector<const Finding*> with(const Comparison& c, Outcome o) {
  std::vector<const Finding*> out;
  for (const auto& f : c.findings)
    if (f.outcome == o) out.push_back(&f);
  return out;
}

TEST(GroundTruth, ParseSkipsNonObjectLinesAndReportsInvalidOnes) {
  auto p = parse_json_lines("{\"a\":1}\nnot json\n{\"b\":\n{\"c\":2}\n");
  EXPECT_EQ(p.lines.size(), 2u);
  ASSERT_EQ(p.errors.size(), 1u);
  EXPECT_NE(p.errors[0].find("{\"b\":"), std::string::npos);
}

TEST(GroundTruth, IntegersCompareExactlyAtTheEdgesOfInt64AndUint64) {
  auto v = [](const char* s) { return *llvm::json::parse(s); };
  EXPECT_EQ(json_diff(v("18446744073709551615"), v("18446744073709551615")), "");
  EXPECT_NE(json_diff(v("18446744073709551615"), v("18446744073709551614")), "");
  EXPECT_NE(json_diff(v("-9223372036854775808"), v("-9223372036854775807")), "");
  EXPECT_EQ(json_diff(v("0.1"), v("0.1")), "");
  EXPECT_NE(json_diff(v("0.1"), v("0.10000000149011612")), "") << "float32 0.1 widened is not 0.1";
  EXPECT_EQ(json_diff(v("5e-324"), v("4.9406564584124654e-324")), "");
  EXPECT_NE(json_diff(v("1"), v("true")), "");
  EXPECT_EQ(json_diff(v("{\"a\":[1,2]}"), v("{\"a\":[1,2]}")), "");
  EXPECT_EQ(json_diff(v("{\"a\":[1,2]}"), v("{\"a\":[1,3]}"), "x"),
            "x.a[1]: expected 2, captured 3");
}

TEST(GroundTruth, ShowPrintsShortestDoublesAndSortedKeys) {
  EXPECT_EQ(show(*llvm::json::parse("{\"b\":0.1,\"a\":[1e-300,-3]}")),
            "{\"a\":[1e-300,-3],\"b\":0.1}");
}

TEST(GroundTruth, MarkersAreOneDollarKeyObjects) {
  auto m = marker_of(*llvm::json::parse("{\"$unavailable\":\"in X0, a vector register\"}"));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->type, "unavailable");
  EXPECT_EQ(m->detail, "in X0, a vector register");
  EXPECT_FALSE(marker_of(*llvm::json::parse("{\"X\":1}")));
  EXPECT_FALSE(marker_of(*llvm::json::parse("{\"$a\":1,\"$b\":2}")));
  auto cut = marker_of(*llvm::json::parse("{\"$cut\":{\"len\":3}}"));
  ASSERT_TRUE(cut);
  EXPECT_EQ(cut->detail, "{\"len\":3}");
  // Maps and chans are values in that shape, not markers.
  EXPECT_FALSE(marker_of(*llvm::json::parse(R"({"$map":{"len":0,"entries":[]}})")));
  EXPECT_FALSE(marker_of(*llvm::json::parse(R"({"$chan":{"len":1,"cap":2}})")));
}

TEST(GroundTruth, ACutMapWhereTheTruthHasEntriesIsAskedOfTheGapPolicy) {
  auto truth =
      lines(R"({"probe":"f","args":{"m":{"$map":{"len":1,"entries":[{"key":"a","value":1}]}}}})");
  auto records = lines(
      R"({"probe":"f","args":{"m":{"$cut":{"len":1,"value":{"$map":{"len":1,"entries":[]}},"why":"entries not read"}}}})");
  std::vector<std::string> asked;
  CompareOptions opts;
  opts.gaps = [&](const GapQuery& q) -> std::optional<size_t> {
    asked.push_back(q.field + " " + q.marker.type);
    return 0;
  };
  auto c = compare_in_order(truth, records, "f", opts);
  EXPECT_EQ(asked, std::vector<std::string>{"args.m cut"});
  EXPECT_EQ(c.values(Outcome::gap), 3u);
  EXPECT_EQ(c.values(Outcome::mismatch), 0u);
  // Without a rule it is a mismatch, never a match.
  auto strict = compare_in_order(truth, records, "f");
  EXPECT_EQ(strict.values(Outcome::mismatch), 3u);
}

TEST(GroundTruth, InOrderCountsEveryScalarOfNestedValues) {
  auto truth = lines(
      R"({"probe":"main.Sum","args":{"l":{"Currency":"EUR","Units":3}},"ret":{"$0":[1,2],"$1":null}})");
  auto records = lines(
      R"({"probe":"main.Sum","goid":1,"args":{"l":{"Currency":"EUR","Units":3}},"ret":{"$0":[1,2],"$1":null}})");
  auto c = compare_in_order(truth, records, "main.Sum");
  EXPECT_EQ(c.values(Outcome::matched), 5u);
  EXPECT_EQ(c.count(Outcome::mismatch), 0u);
  EXPECT_EQ(c.truth_calls, 1u);
  EXPECT_EQ(c.records, 1u);
}

TEST(GroundTruth, MapEntriesCompareAsASetByKey) {
  auto v = [](const char* s) { return *llvm::json::parse(s); };
  const char* want =
      R"({"$map":{"len":2,"entries":[{"key":"a","value":1},{"key":"b","value":2}]}})";
  const char* swapped =
      R"({"$map":{"len":2,"entries":[{"key":"b","value":2},{"key":"a","value":1}]}})";
  const char* wrong =
      R"({"$map":{"len":2,"entries":[{"key":"b","value":1},{"key":"a","value":2}]}})";
  EXPECT_EQ(json_diff(v(want), v(swapped)), "");
  EXPECT_NE(json_diff(v(want), v(wrong)), "");
  // Only map entries: a slice's order is its content.
  EXPECT_NE(json_diff(v("[1,2]"), v("[2,1]")), "");
  auto c =
      compare_in_order(lines(std::string(R"({"probe":"f","args":{"m":)") + want + "}}"),
                       lines(std::string(R"({"probe":"f","args":{"m":)") + swapped + "}}"), "f");
  EXPECT_EQ(c.values(Outcome::mismatch), 0u);
  EXPECT_EQ(c.values(Outcome::matched), 5u);
  auto bad =
      compare_in_order(lines(std::string(R"({"probe":"f","args":{"m":)") + want + "}}"),
                       lines(std::string(R"({"probe":"f","args":{"m":)") + wrong + "}}"), "f");
  EXPECT_EQ(bad.values(Outcome::mismatch), 2u);
}

TEST(GroundTruth, EachDifferingScalarIsOneFindingWithItsPath) {
  auto truth = lines(
      R"({"probe":"f","args":{"l":{"Currency":"EUR","Units":3,"Nanos":5}},"ret":{"$0":[1,2]}})");
  auto records = lines(
      R"({"probe":"f","args":{"l":{"Currency":"USD","Units":3,"Nanos":6}},"ret":{"$0":[1,2]}})");
  auto c = compare_in_order(truth, records, "f");
  auto bad = with(c, Outcome::mismatch);
  ASSERT_EQ(bad.size(), 2u);
  EXPECT_EQ(bad[0]->field, "args.l.Currency");
  EXPECT_EQ(bad[0]->root, "args.l");
  EXPECT_EQ(bad[0]->expected, "\"EUR\"");
  EXPECT_EQ(bad[0]->captured, "\"USD\"");
  EXPECT_EQ(bad[1]->describe(), "f call 0 args.l.Nanos: expected 5, captured 6");
  EXPECT_EQ(c.values(Outcome::matched), 3u);
}

TEST(GroundTruth, MissingExtraAndUnknownKeysAreMismatches) {
  auto truth = lines(
      "{\"probe\":\"f\",\"args\":{\"a\":1,\"b\":2},\"ret\":{\"$0\":3}}\n"
      "{\"probe\":\"f\",\"args\":{\"a\":4,\"b\":5},\"ret\":{\"$0\":9}}\n");
  auto records = lines(R"({"probe":"f","args":{"a":1,"z":7},"ret":{"$0":3}})");
  auto c = compare_in_order(truth, records, "f");
  auto bad = with(c, Outcome::mismatch);
  ASSERT_EQ(bad.size(), 3u);
  EXPECT_EQ(bad[0]->field, "args.b");
  EXPECT_EQ(bad[0]->captured, "nothing");
  EXPECT_EQ(bad[1]->field, "args.z");
  EXPECT_EQ(bad[1]->values, 0u);
  EXPECT_EQ(bad[2]->call, 1u);
  EXPECT_EQ(bad[2]->captured, "no record");
  EXPECT_EQ(bad[2]->values, 3u);

  auto extra = compare_in_order(lines(R"({"probe":"f","args":{"a":1}})"),
                                lines("{\"probe\":\"f\",\"args\":{\"a\":1}}\n"
                                      "{\"probe\":\"f\",\"args\":{\"a\":1}}\n"),
                                "f");
  ASSERT_EQ(extra.count(Outcome::mismatch), 1u);
  EXPECT_EQ(extra.findings.back().expected, "no call");

  auto none = compare_in_order({}, {}, "f");
  ASSERT_EQ(none.count(Outcome::mismatch), 1u) << "a fixture printing nothing must not pass";
}

TEST(GroundTruth, MarkersAreGapsOnlyWhereThePolicySaysSo) {
  auto truth = lines(R"({"probe":"f","args":{"x":2.5,"s":{"X":3,"Y":0.5},"n":1}})");
  auto records = lines(
      R"({"probe":"f","args":{"x":{"$unavailable":"in X0, a vector register"},"s":{"X":3,"Y":{"$unavailable":"in X1, a vector register"}},"n":{"$unavailable":"optimized out"}}})");
  std::vector<std::string> asked;
  CompareOptions opts;
  opts.gaps = [&](const GapQuery& q) -> std::optional<size_t> {
    asked.push_back(q.field + "@" + std::to_string(q.depth));
    if (q.marker.detail.find("vector register") != std::string::npos) return 7;
    return std::nullopt;
  };
  auto c = compare_in_order(truth, records, "f", opts);
  EXPECT_EQ(asked, (std::vector<std::string>{"args.n@0", "args.s.Y@1", "args.x@0"}));
  auto gaps = with(c, Outcome::gap);
  ASSERT_EQ(gaps.size(), 2u);
  EXPECT_EQ(gaps[0]->rule, 7u);
  EXPECT_EQ(c.values(Outcome::matched), 1u) << "s.X still compared";
  auto bad = with(c, Outcome::mismatch);
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_EQ(bad[0]->field, "args.n");

  auto strict = compare_in_order(truth, records, "f");
  EXPECT_EQ(strict.count(Outcome::gap), 0u) << "no policy, no gaps";
  EXPECT_EQ(strict.count(Outcome::mismatch), 3u);
}

TEST(GroundTruth, ByGoidMatchesInOrderWithinEachGoroutine) {
  auto truth = lines(
      "{\"probe\":\"w\",\"goid\":7,\"args\":{\"id\":1}}\n"
      "{\"probe\":\"w\",\"goid\":9,\"args\":{\"id\":2}}\n"
      "{\"probe\":\"w\",\"goid\":7,\"args\":{\"id\":3}}\n");
  auto records = lines(
      "{\"probe\":\"w\",\"goid\":9,\"args\":{\"id\":2}}\n"
      "{\"probe\":\"w\",\"goid\":7,\"args\":{\"id\":1}}\n"
      "{\"probe\":\"w\",\"goid\":7,\"args\":{\"id\":3}}\n");
  EXPECT_EQ(compare_in_order(truth, records, "w").count(Outcome::mismatch), 2u)
      << "the first two calls are of different goroutines";
  auto c = compare_by_goid(truth, records, "w");
  EXPECT_EQ(c.count(Outcome::mismatch), 0u);
  EXPECT_EQ(c.values(Outcome::matched), 3u);

  auto stray = lines("{\"probe\":\"w\",\"goid\":8,\"args\":{\"id\":1}}\n");
  auto s = compare_by_goid(truth, stray, "w");
  auto bad = with(s, Outcome::mismatch);
  ASSERT_EQ(bad.size(), 4u) << "three calls without records, one record without a call";
  EXPECT_EQ(bad[0]->group, "goid 7");
  EXPECT_EQ(bad[2]->group, "goid 8");
  EXPECT_EQ(bad[2]->expected, "no call");
}

TEST(GroundTruth, LatencyMustLieWithinTheBoundsTheFixtureMeasured) {
  auto truth = lines(R"({"probe":"w","sleep_ns":100,"outer_ns":200,"args":{"id":1}})");
  CompareOptions opts;
  opts.latency_bounds = true;
  for (auto [latency, ok] : {std::pair{150, true}, {100, true}, {99, false}, {201, false}}) {
    auto records = lines("{\"probe\":\"w\",\"latency_ns\":" + std::to_string(latency) +
                         ",\"args\":{\"id\":1}}");
    auto c = compare_in_order(truth, records, "w", opts);
    EXPECT_EQ(c.count(Outcome::mismatch), ok ? 0u : 1u) << latency;
  }
  auto c = compare_in_order(truth, lines(R"({"probe":"w","args":{"id":1}})"), "w", opts);
  EXPECT_EQ(c.count(Outcome::mismatch), 1u) << "no latency captured";
  EXPECT_EQ(compare_in_order(truth, lines(R"({"probe":"w","args":{"id":1}})"), "w")
                .count(Outcome::mismatch),
            0u)
      << "not asked for";
}

}  // namespace
}  // namespace dynprobe::harness

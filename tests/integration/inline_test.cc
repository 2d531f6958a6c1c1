// Probes on inlined call sites, end to end: fixtures/go/inlined (small
// functions the compiler inlines into //go:noinline callers) and the C++
// shop fixture at -O2 (shop::Handle's constructor is inlined into main).
// Each inlined record is compared with the ground truth the fixture printed
// for that call; the call site it reports is compared with the line of the
// call in the fixture's own source.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <set>

#include "tests/integration/trace_support.h"

namespace dynprobe::test {
namespace {

using ::testing::HasSubstr;

const std::vector<std::string> kInlined = {"main.scale", "main.clamp", "main.area", "main.tag",
                                           "main.flip"};

// Line of each "// site:TAG" comment in a source file: where the call is.
std::map<std::string, int64_t> site_lines(const std::string& path) {
  std::ifstream in(path);
  std::map<std::string, int64_t> out;
  std::string text;
  std::regex tag("// site:([A-Za-z]+)$");
  for (int64_t n = 1; std::getline(in, text); ++n) {
    std::smatch m;
    if (std::regex_search(text, m, tag)) out[m[1]] = n;
  }
  return out;
}

// Lines whose text contains `needle`, 1-based.
std::set<int64_t> lines_containing(const std::string& path, const std::string& needle) {
  std::ifstream in(path);
  std::set<int64_t> out;
  std::string text;
  for (int64_t n = 1; std::getline(in, text); ++n)
    if (text.find(needle) != std::string::npos) out.insert(n);
  return out;
}

bool is_inlined(const llvm::json::Object& r) { return r.getBoolean("inlined").value_or(false); }

int64_t record_line(const llvm::json::Object& r) {
  const auto* site = r.getObject("call_site");
  return site ? site->getInteger("line").value_or(-1) : -1;
}

// An argument an inlined record could not read must say it was optimized
// out; anything else must equal the truth.
struct ArgCount {
  size_t matched = 0;
  size_t optimized_out = 0;
};
ArgCount expect_args(const llvm::json::Object& truth, const llvm::json::Object& record,
                     const std::string& what) {
  ArgCount n;
  const auto* want = truth.getObject("args");
  const auto* got = record.getObject("args");
  if (!want || !got) {
    ADD_FAILURE() << what << ": no args";
    return n;
  }
  EXPECT_EQ(harness::sorted_keys(*want), harness::sorted_keys(*got)) << what;
  for (const auto& [key, value] : *want) {
    const auto* captured = got->get(key);
    if (!captured) continue;
    if (auto m = harness::marker_of(*captured); m && m->type == "unavailable") {
      EXPECT_THAT(m->detail, HasSubstr("optimized out")) << what << " args." << key.str();
      ++n.optimized_out;
      continue;
    }
    EXPECT_EQ(json_diff(value, *captured), "") << what << " args." << key.str();
    ++n.matched;
  }
  return n;
}

class Inline : public ::testing::TestWithParam<std::string> {
 protected:
  std::string fixture() { return build_fixture(GetParam(), "inlined", "default"); }
  std::string source() { return source_root() + "/fixtures/go/inlined/main.go"; }
};

TEST_P(Inline, InlinedSitesCarryTheirCallsArguments) {
  std::string bin = fixture();
  ASSERT_FALSE(bin.empty());
  auto run = trace_command(bin, kInlined, {"-loop", "2"});
  ASSERT_EQ(run.command.exit_code, 0) << run.command.err;
  EXPECT_THAT(run.command.err, HasSubstr(" 0 drops"));
  EXPECT_THAT(run.command.err, HasSubstr("inlined site(s)"));
  auto lines = site_lines(source());
  ASSERT_EQ(lines.size(), 7u) << "site comments in " << source();

  // Per probe and call site, the calls come in program order (the rounds
  // run one after another, on two goroutines).
  std::map<std::pair<std::string, int64_t>, std::vector<const llvm::json::Object*>> want, got;
  for (const auto& t : run.truth) {
    std::string site = t.getString("site").value_or("").str();
    if (site == "fn") continue;
    ASSERT_TRUE(lines.contains(site)) << site;
    want[{t.getString("probe").value_or("").str(), lines[site]}].push_back(&t);
  }
  for (const auto& r : run.records) {
    if (!is_inlined(r)) continue;
    const auto* site = r.getObject("call_site");
    ASSERT_NE(site, nullptr);
    EXPECT_TRUE(site->getString("file").value_or("").ends_with("fixtures/go/inlined/main.go"));
    EXPECT_THAT(site->getString("caller").value_or("").str(), HasSubstr("main.use"));
    EXPECT_FALSE(r.getInteger("latency_ns")) << "an inlined call has no latency";
    const auto* ret = r.getObject("ret");
    EXPECT_TRUE(ret && ret->empty()) << "an inlined call has no results to read";
    got[{r.getString("probe").value_or("").str(), record_line(r)}].push_back(&r);
  }
  EXPECT_EQ(want.size(), 7u);
  ArgCount total;
  std::set<int64_t> goids;
  for (const auto& [key, calls] : want) {
    std::string what = key.first + " at line " + std::to_string(key.second);
    auto& records = got[key];
    ASSERT_EQ(records.size(), calls.size()) << what;
    size_t matched_here = 0;
    for (size_t i = 0; i < calls.size(); ++i) {
      auto n = expect_args(*calls[i], *records[i], what + " call " + std::to_string(i));
      total.matched += n.matched;
      total.optimized_out += n.optimized_out;
      matched_here += n.matched;
      EXPECT_EQ(records[i]->getInteger("goid"), calls[i]->getInteger("goid")) << what;
      goids.insert(records[i]->getInteger("goid").value_or(0));
    }
    // Every toolchain keeps these in registers or the caller's frame; only
    // area's struct may lose its location.
    if (key.first != "main.area")
      EXPECT_EQ(matched_here, calls.size() * calls[0]->getObject("args")->size()) << what;
  }
  EXPECT_GE(total.matched, 60u);
  EXPECT_GE(goids.size(), 2u) << "the second round runs on a goroutine of its own";
  for (const auto& [key, records] : got)
    EXPECT_TRUE(want.contains(key)) << key.first << " at line " << key.second << ": no such call";
}

TEST_P(Inline, OutOfLineCallsKeepResultsAndLatency) {
  std::string bin = fixture();
  ASSERT_FALSE(bin.empty());
  auto run = trace_command(bin, {"main.scale"});
  ASSERT_EQ(run.command.exit_code, 0) << run.command.err;
  std::vector<const llvm::json::Object*> want, got;
  for (const auto& t : run.truth)
    if (t.getString("probe") == "main.scale" && t.getString("site") == "fn") want.push_back(&t);
  size_t inlined = 0;
  for (const auto& r : run.records) {
    if (is_inlined(r)) {
      ++inlined;
      continue;
    }
    got.push_back(&r);
  }
  EXPECT_EQ(inlined, 12u) << "three inlined sites, four calls each";
  ASSERT_EQ(got.size(), want.size());
  ASSERT_EQ(want.size(), 4u);
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(json_diff(*want[i]->get("args"), *got[i]->get("args")), "") << i;
    EXPECT_EQ(json_diff(*want[i]->get("ret"), *got[i]->get("ret")), "") << i;
    EXPECT_GT(got[i]->getInteger("latency_ns").value_or(0), 0) << i;
    EXPECT_FALSE(got[i]->get("call_site"));
  }
}

TEST_P(Inline, NoInlineFlagProbesOnlyOutOfLineCalls) {
  std::string bin = fixture();
  ASSERT_FALSE(bin.empty());
  auto run = trace_command(bin, {"main.scale"}, {}, {"--no-inline"});
  ASSERT_EQ(run.command.exit_code, 0) << run.command.err;
  EXPECT_EQ(run.records.size(), 4u);
  for (const auto& r : run.records) {
    EXPECT_FALSE(is_inlined(r));
    EXPECT_GT(r.getInteger("latency_ns").value_or(0), 0);
  }
  // clamp exists only inlined: with --no-inline there is nothing to probe.
  auto only = trace_command(bin, {"main.clamp"}, {}, {"--no-inline"});
  EXPECT_NE(only.command.exit_code, 0);
  EXPECT_THAT(only.command.err, HasSubstr("exists only inlined"));
  EXPECT_THAT(only.command.err, HasSubstr("--no-inline"));
  EXPECT_TRUE(only.records.empty());
}

TEST_P(Inline, DescribeListsEveryInlinedSiteWithItsLocations) {
  std::string bin = fixture();
  ASSERT_FALSE(bin.empty());
  auto lines = site_lines(source());
  auto d = describe_json(bin, "main.scale");
  ASSERT_TRUE(d);
  const auto* sites = d->getArray("inline_sites");
  ASSERT_NE(sites, nullptr);
  std::multiset<int64_t> seen;
  for (const auto& s : *sites) {
    const auto* o = s.getAsObject();
    ASSERT_NE(o, nullptr);
    seen.insert(o->getInteger("call_line").value_or(0));
    EXPECT_THAT(o->getString("caller").value_or("").str(), HasSubstr("main.useScale"));
    const auto* params = o->getArray("params");
    ASSERT_TRUE(params && params->size() == 2);
    for (const auto& p : *params) {
      const auto* po = p.getAsObject();
      // Every site of scale has both arguments in a register or on the stack.
      EXPECT_THAT(po->getString("location").value_or("").str(),
                  ::testing::MatchesRegex("R[A-Z0-9]+|[0-9]+\\(SP\\)"));
      EXPECT_FALSE(po->get("unavailable"));
    }
  }
  EXPECT_EQ(seen, (std::multiset<int64_t>{lines["scaleA"], lines["scaleB"], lines["scaleC"]}));
  // An inline-only function: described, no entry of its own.
  auto clamp = describe_json(bin, "main.clamp");
  ASSERT_TRUE(clamp);
  EXPECT_EQ(clamp->getInteger("address").value_or(-1), 0);
  ASSERT_NE(clamp->getArray("inline_sites"), nullptr);
  EXPECT_EQ(clamp->getArray("inline_sites")->size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(GoVersions, Inline, ::testing::ValuesIn(go_versions()),
                         [](const auto& info) { return go_version_test_name(info.param); });

// shop::Handle::Handle(long) is inlined into main at both of its call sites
// (main.cc: `Use(Handle(fd), 7)` and the truth line after it) by g++ and
// clang at -O2; its argument f is the fd the truth of shop::Use shows.
class InlineCpp : public ::testing::TestWithParam<std::string> {};

TEST_P(InlineCpp, InlinedConstructorSitesCarryTheirArgument) {
  auto built =
      run_command({source_root() + "/harness/build-cpp-fixture", GetParam(), "O2", "shop"});
  ASSERT_EQ(built.exit_code, 0) << built.err;
  std::string bin = built.out.substr(0, built.out.find('\n'));
  std::string main_cc = source_root() + "/fixtures/cpp/shop/main.cc";
  auto call_lines = lines_containing(main_cc, "Handle(fd)");
  ASSERT_EQ(call_lines.size(), 2u);

  auto d = describe_json(bin, "shop::Handle::Handle(long)");
  ASSERT_TRUE(d);
  const auto* sites = d->getArray("inline_sites");
  ASSERT_TRUE(sites && !sites->empty());
  for (const auto& s : *sites) {
    const auto* o = s.getAsObject();
    EXPECT_TRUE(call_lines.contains(o->getInteger("call_line").value_or(0)));
    EXPECT_EQ(o->getString("caller").value_or(""), "main");
  }

  auto run = trace_command(bin, {"shop::Handle::Handle(long)", "shop::Use"});
  ASSERT_EQ(run.command.exit_code, 0) << run.command.err;
  std::vector<int64_t> fds;
  for (const auto* t : of_probe(run.truth, "shop::Use(shop::Handle, long)"))
    fds.push_back(t->getObject("args")->getObject("h")->getInteger("fd").value_or(0));
  ASSERT_EQ(fds.size(), 2u);
  std::vector<int64_t> want, got;
  size_t out_of_line = 0;
  for (int64_t fd : fds)
    want.insert(want.end(), {fd, fd});  // Use(Handle(fd)) and the truth's Handle(fd)
  for (const auto& r : run.records) {
    if (!is_inlined(r)) {
      ++out_of_line;
      EXPECT_GT(r.getInteger("latency_ns").value_or(0), 0);
      continue;
    }
    EXPECT_TRUE(call_lines.contains(record_line(r))) << record_line(r);
    const auto* args = r.getObject("args");
    ASSERT_NE(args, nullptr);
    got.push_back(args->getInteger("f").value_or(INT64_MIN));
    if (auto m = harness::marker_of(*args->get("this")))
      EXPECT_THAT(m->detail, HasSubstr("optimized out"));
  }
  EXPECT_EQ(got, want);
  EXPECT_EQ(out_of_line, 2u) << "shop::Use, out of line, with latency";
}

INSTANTIATE_TEST_SUITE_P(Compilers, InlineCpp, ::testing::Values("g++", "clang++"),
                         [](const auto& info) {
                           return std::string(info.param == "g++" ? "gcc" : "clang");
                         });

}  // namespace
}  // namespace dynprobe::test

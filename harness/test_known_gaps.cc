// harness/known-gaps.json: loading, validation, matching.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>

#include "harness/known_gaps.h"

namespace dynprobe::harness {
namespace {

class GapFile {
 public:
  explicit GapFile(const std::string& text) {
    char tmpl[] = "/tmp/known-gaps-test-XXXXXX";
    int fd = mkstemp(tmpl);
    if (fd >= 0) close(fd);
    path_ = tmpl;
    std::ofstream(path_) << text;
  }
  ~GapFile() { unlink(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string rule(const std::string& go, const std::string& mode, const std::string& field,
                 const std::string& kind) {
  return R"({"go":")" + go + R"(","mode":")" + mode +
         R"(","fixture":"scalars","function":"main.Float*","field":")" + field + R"(","kind":")" +
         kind + R"(","reason":"r","issue":3})";
}

Result<KnownGaps> load(const std::string& rules) {
  GapFile f("{\"gaps\":[" + rules + "]}");
  return KnownGaps::load(f.path());
}

TEST(KnownGaps, VersionForms) {
  auto gaps = load(rule("register-abi", "*", "*", "unavailable") + "," +
                   rule("stack-abi", "*", "*", "unavailable") + "," +
                   rule("1.19..1.22", "*", "*", "unavailable") + "," +
                   rule(">=1.25", "*", "*", "unavailable") + "," + rule("1.15", "*", "*", "x"));
  ASSERT_TRUE(gaps) << gaps.error().message;
  const auto& r = gaps->rules();
  auto in = [&](size_t i, const char* go) { return r[i].in_scope(Cell{go, "default", "scalars"}); };
  EXPECT_FALSE(in(0, "1.15"));
  EXPECT_TRUE(in(0, "1.17"));
  EXPECT_TRUE(in(0, "1.27"));
  EXPECT_TRUE(in(1, "1.15"));
  EXPECT_FALSE(in(1, "1.19"));
  EXPECT_FALSE(in(2, "1.15"));
  EXPECT_TRUE(in(2, "1.21"));
  EXPECT_FALSE(in(2, "1.23"));
  EXPECT_FALSE(in(3, "1.24"));
  EXPECT_TRUE(in(3, "1.25"));
  EXPECT_TRUE(in(4, "1.15"));
  EXPECT_FALSE(in(4, "1.19"));
  EXPECT_FALSE(r[0].in_scope(Cell{"1.19", "default", "money"})) << "other fixture";
}

TEST(KnownGaps, ToolchainForms) {
  auto gaps = load(
      R"({"toolchain":"g++,clang++","mode":"O0","fixture":"cpp/*","function":"f","field":"*","kind":"x","reason":"r","issue":6},)"
      R"({"toolchain":"gccgo","mode":"*","fixture":"*","function":"f","field":"*","kind":"x","reason":"r","issue":6},)" +
      rule("*", "*", "*", "x"));
  ASSERT_TRUE(gaps) << gaps.error().message;
  const auto& r = gaps->rules();
  EXPECT_TRUE(r[0].in_scope(Cell{"g++", "O0", "cpp/shop"}));
  EXPECT_TRUE(r[0].in_scope(Cell{"clang++", "O0", "cpp/shop"}));
  EXPECT_FALSE(r[0].in_scope(Cell{"clang++", "O2", "cpp/shop"}));
  EXPECT_FALSE(r[0].in_scope(Cell{"1.19", "O0", "cpp/shop"})) << "gc is another toolchain";
  EXPECT_TRUE(r[1].in_scope(Cell{"gccgo", "O2", "money"}));
  EXPECT_FALSE(r[1].in_scope(Cell{"1.19", "O2", "money"}));
  // A rule that names no toolchain is for gc only: "go":"*" is every Go version, not gccgo.
  EXPECT_TRUE(r[2].in_scope(Cell{"1.19", "default", "scalars"}));
  EXPECT_FALSE(r[2].in_scope(Cell{"gccgo", "default", "scalars"}));
  EXPECT_FALSE(r[2].in_scope(Cell{"g++", "default", "scalars"}));
}

TEST(KnownGaps, MatchesFunctionFieldAndKindText) {
  auto gaps = load(rule("*", "default,stripped*", "args.f1[0-4],ret.$1", "unavailable:vector") +
                   "," + rule("*", "*", "*", "probe-error:only inlined"));
  ASSERT_TRUE(gaps) << gaps.error().message;
  Cell cell{"1.19", "stripped-build-id", "scalars"};
  Marker vec{"unavailable", "in X3, a vector register"};
  EXPECT_EQ(gaps->match(cell, "main.Float64", "args.f12", vec), 0u);
  EXPECT_EQ(gaps->match(cell, "main.Float64", "ret.$1", vec), 0u);
  EXPECT_FALSE(gaps->match(cell, "main.Float64", "args.f15", vec));
  EXPECT_FALSE(gaps->match(cell, "main.Int64", "args.f12", vec));
  EXPECT_FALSE(gaps->match(Cell{"1.19", "noopt", "scalars"}, "main.Float64", "args.f12", vec));
  EXPECT_FALSE(
      gaps->match(cell, "main.Float64", "args.f12", Marker{"unavailable", "optimized out"}));
  EXPECT_FALSE(gaps->match(cell, "main.Float64", "args.f12", Marker{"string", "vector"}));
  EXPECT_FALSE(gaps->match(cell, "main.Float64", "args.f12", Marker{"probe-error", "only inlined"}))
      << "a probe-error rule never accepts a value marker";

  EXPECT_EQ(gaps->probe_error_rules(cell, "main.Float32"), (std::vector<size_t>{1}));
  EXPECT_EQ(
      gaps->match_probe_error(cell, "main.Float32", "dynprobe: main.Float32 exists only inlined"),
      1u);
  EXPECT_FALSE(gaps->match_probe_error(cell, "main.Float32", "dynprobe: unknown function"));
}

TEST(KnownGaps, BadFilesGiveOneLineNamingTheRule) {
  auto missing = load(
      R"({"go":"*","mode":"*","fixture":"a","function":"f","field":"*","kind":"x","issue":3})");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("gap 0: missing string field \"reason\""),
            std::string::npos);
  auto version = load(rule("1.x", "*", "*", "x"));
  ASSERT_FALSE(version);
  EXPECT_NE(version.error().message.find("go \"1.x\""), std::string::npos);
  auto unknown = load(
      R"({"go":"*","mode":"*","fixture":"a","function":"f","field":"*","kind":"x","reason":"r","issue":3,"until":"never"})");
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("unknown field \"until\""), std::string::npos);
  auto no_issue = load(
      R"({"go":"*","mode":"*","fixture":"a","function":"f","field":"*","kind":"x","reason":"r"})");
  EXPECT_FALSE(no_issue);
  EXPECT_FALSE(KnownGaps::load("/nonexistent/known-gaps.json"));
}

TEST(KnownGaps, TheReviewedFileLoads) {
  const char* root = getenv("DYNPROBE_SOURCE_ROOT");
  auto gaps = KnownGaps::load(std::string(root ? root : ".") + "/harness/known-gaps.json");
  ASSERT_TRUE(gaps) << gaps.error().message;
  for (const auto& r : gaps->rules()) EXPECT_GT(r.reason.size(), 20u) << r.summary();
}

}  // namespace
}  // namespace dynprobe::harness

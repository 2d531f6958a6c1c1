#include <gtest/gtest.h>

#include "core/go_version.h"

namespace dynprobe {
namespace {

GoVersion v(int major, int minor, int patch) { return GoVersion{major, minor, patch}; }

TEST(GoVersionParse, ReleaseWithPatch) { EXPECT_EQ(parse_go_version("go1.19.8"), v(1, 19, 8)); }

TEST(GoVersionParse, ReleaseWithoutPatch) { EXPECT_EQ(parse_go_version("go1.21"), v(1, 21, 0)); }

TEST(GoVersionParse, MajorOnly) { EXPECT_EQ(parse_go_version("go1"), v(1, 0, 0)); }

TEST(GoVersionParse, ReleaseCandidateAndBeta) {
  EXPECT_EQ(parse_go_version("go1.22rc1"), v(1, 22, 0));
  EXPECT_EQ(parse_go_version("go1.9beta2"), v(1, 9, 0));
}

TEST(GoVersionParse, DevelBuild) {
  EXPECT_EQ(parse_go_version("devel go1.23-abcdef0123 Tue Jan 2 15:04:05 2024 +0000"), v(1, 23, 0));
}

TEST(GoVersionParse, ExperimentSuffix) {
  EXPECT_EQ(parse_go_version("go1.24.0 X:nocoverageredesign"), v(1, 24, 0));
}

TEST(GoVersionParse, MultiDigitParts) {
  EXPECT_EQ(parse_go_version("go1.100.123"), v(1, 100, 123));
}

TEST(GoVersionParse, TrailingDotIsNotAPart) { EXPECT_EQ(parse_go_version("go1.20."), v(1, 20, 0)); }

TEST(GoVersionParse, Rejects) {
  EXPECT_EQ(parse_go_version(""), std::nullopt);
  EXPECT_EQ(parse_go_version("go"), std::nullopt);
  EXPECT_EQ(parse_go_version("gox1.2"), std::nullopt);
  EXPECT_EQ(parse_go_version("1.19.8"), std::nullopt);
  EXPECT_EQ(parse_go_version("devel +7b7c2a1 Mon Feb 1 2021"), std::nullopt);
  EXPECT_EQ(parse_go_version("go1.99999999999999999999"), std::nullopt);
}

TEST(GoVersionOrder, ComparesNumerically) {
  EXPECT_LT(*parse_go_version("go1.9"), *parse_go_version("go1.10"));
  EXPECT_LT(*parse_go_version("go1.16.15"), *parse_go_version("go1.17"));
  EXPECT_GT(*parse_go_version("go1.21.1"), *parse_go_version("go1.21"));
}

TEST(GoVersionToString, AlwaysThreeParts) {
  EXPECT_EQ(v(1, 19, 8).to_string(), "go1.19.8");
  EXPECT_EQ(v(1, 21, 0).to_string(), "go1.21.0");
}

TEST(GoVersionToString, RoundTrips) {
  for (auto version : {v(1, 15, 15), v(1, 0, 0), v(1, 26, 3)}) {
    EXPECT_EQ(parse_go_version(version.to_string()), version);
  }
}

}  // namespace
}  // namespace dynprobe

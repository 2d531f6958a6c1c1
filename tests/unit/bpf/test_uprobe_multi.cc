#include <gtest/gtest.h>
#include <unistd.h>

#include <optional>
#include <vector>

#include "backends/bpf/map.h"
#include "backends/bpf/uprobe.h"
#include "tests/unit/bpf/programs.h"
#include "tests/unit/bpf/targets.h"

namespace dynprobe::bpf {
namespace {

using testing::kTargetFns;
using testing::kTargets;
using testing::target_sites;

Result<Map> per_cookie_counts() {
  return Map::create({.type = MapType::Array,
                      .name = "by_cookie",
                      .key_size = 4,
                      .value_size = 8,
                      .max_entries = kTargets});
}

std::vector<uint64_t> read_counts(const Map& m, int n) {
  std::vector<uint64_t> out;
  for (uint32_t i = 0; i < static_cast<uint32_t>(n); ++i) {
    auto v = m.get<uint64_t>(i);
    out.push_back(v && *v ? **v : ~uint64_t{0});
  }
  return out;
}

TEST(BpfUprobeMulti, OneLinkProbesManyOffsetsWithTheirCookies) {
  constexpr int kN = 10;
  auto counts = per_cookie_counts();
  ASSERT_TRUE(counts) << counts.error().message;
  auto prog =
      testing::count_by_cookie_program(*counts, {.expected_attach_type = kAttachTraceUprobeMulti});
  ASSERT_TRUE(prog) << prog.error().message;
  auto sites = target_sites(kN);
  ASSERT_TRUE(sites) << sites.error().message;

  UprobeMultiTarget t{.binary = sites->binary, .offsets = sites->offsets, .pid = getpid()};
  for (int i = 0; i < kN; ++i) t.cookies.push_back(kN - 1 - i);  // reversed: cookie != index
  std::optional<UprobeMultiLink> link;
  {
    auto l = UprobeMultiLink::attach(*prog, t);
    ASSERT_TRUE(l) << l.error().message;
    link.emplace(std::move(*l));
  }
  for (int i = 0; i < kN; ++i)
    for (int k = 0; k <= i; ++k) kTargetFns[i](k);

  std::vector<uint64_t> want;
  for (int cookie = 0; cookie < kN; ++cookie) want.push_back(kN - cookie);  // fn kN-1-cookie
  EXPECT_EQ(read_counts(*counts, kN), want);

  link.reset();
  for (int i = 0; i < kN; ++i) kTargetFns[i](0);
  EXPECT_EQ(read_counts(*counts, kN), want);
}

TEST(BpfUprobeMulti, MismatchedCookiesAreRefused) {
  auto counts = per_cookie_counts();
  ASSERT_TRUE(counts);
  auto prog =
      testing::count_by_cookie_program(*counts, {.expected_attach_type = kAttachTraceUprobeMulti});
  ASSERT_TRUE(prog) << prog.error().message;
  auto sites = target_sites(2);
  ASSERT_TRUE(sites);
  auto l = UprobeMultiLink::attach(
      *prog, {.binary = sites->binary, .offsets = sites->offsets, .cookies = {1}});
  ASSERT_FALSE(l);
  EXPECT_NE(l.error().message.find("one cookie per offset"), std::string::npos);
}

}  // namespace
}  // namespace dynprobe::bpf

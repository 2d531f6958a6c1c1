// Planning probes on inlined call sites, on this test binary's own DWARF:
// inl_mix exists only inlined, into two callers; one passes a constant.
#include <gtest/gtest.h>

#include <set>

#include "core/binary.h"
#include "core/plan/inline_plan.h"
#include "frontends/probe_spec.h"

namespace inltest {

__attribute__((always_inline)) inline long inl_mix(long a, long b) { return a * 3 + b; }

__attribute__((noinline)) long inl_caller_one(long x) {
  asm volatile("" ::: "memory");
  return inl_mix(x, x ^ 0x55);
}
constexpr uint32_t kLineOne = __LINE__ - 2;

__attribute__((noinline)) long inl_caller_two(long y) {
  asm volatile("" ::: "memory");
  return inl_mix(y, 7);
}
constexpr uint32_t kLineTwo = __LINE__ - 2;

}  // namespace inltest

namespace dynprobe {
namespace {

TEST(InlinePlan, OneEntryOnlyPlanPerInlinedSite) {
  // Keep the callers (and so the instances) in the binary.
  volatile long sink = inltest::inl_caller_one(1) + inltest::inl_caller_two(2);
  (void)sink;
  auto binary = Binary::open("/proc/self/exe");
  ASSERT_TRUE(binary) << binary.error().message;
  auto spec = parse_probe_spec("inltest::inl_mix");
  ASSERT_TRUE(spec);
  auto out = plan_inline_probes(*binary, *spec, 5);
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_TRUE(out->inlined_only);
  EXPECT_TRUE(out->skipped.empty());
  ASSERT_EQ(out->plans.size(), 2u);
  std::set<std::string> callers;
  for (size_t i = 0; i < out->plans.size(); ++i) {
    const ProbePlan& p = out->plans[i];
    EXPECT_EQ(p.id, 5 + i);
    ASSERT_TRUE(p.inlined);
    callers.insert(p.inlined->caller);
    EXPECT_TRUE(p.inlined->call_file.ends_with("test_inline_plan.cc")) << p.inlined->call_file;
    EXPECT_EQ(p.inlined->call_line, p.inlined->caller == "inltest::inl_caller_one"
                                        ? inltest::kLineOne
                                        : inltest::kLineTwo);
    EXPECT_FALSE(p.needs_return());
    EXPECT_TRUE(p.returns.empty());
    EXPECT_TRUE(p.return_ops.empty());
    EXPECT_EQ(p.context, ContextSource::Thread);
    ASSERT_EQ(p.values.size(), 2u) << "a and b; an inlined call has no result";
    EXPECT_EQ(p.values[0].key, "a");
    EXPECT_EQ(p.values[1].key, "b");
    // The site is inside its caller (at its first instruction here: the
    // empty asm emits nothing before the inlined body).
    const Symbol* caller = binary->symbol(p.inlined->caller == "inltest::inl_caller_one"
                                              ? "_ZN7inltest14inl_caller_oneEl"
                                              : "_ZN7inltest14inl_caller_twoEl");
    ASSERT_NE(caller, nullptr);
    EXPECT_GE(p.entry.address, caller->addr);
    EXPECT_LT(p.entry.address, caller->addr + caller->size);
    // g++ states both arguments only by location views at the entry ([A, A)
    // entries): a is the caller's own RDI; b is 7 at the second site and
    // a computed value (x ^ 0x55, nowhere in a register) at the first.
    EXPECT_EQ(p.values[0].location, "RDI");
    EXPECT_TRUE(p.values[0].available);
    if (p.inlined->caller == "inltest::inl_caller_two") {
      EXPECT_TRUE(p.values[1].available);
      EXPECT_EQ(p.values[1].location, "const 7");
    } else {
      EXPECT_FALSE(p.values[1].available);
      EXPECT_NE(p.values[1].unavailable_reason.find("optimized out"), std::string::npos);
    }
    size_t constants = 0;
    for (const CaptureOp& op : p.entry_ops)
      if (op.source == CaptureOp::Source::Constant) {
        ++constants;
        EXPECT_EQ(op.constant, 7u);
        EXPECT_EQ(op.record_offset, p.values[1].record_offset);
        EXPECT_EQ(op.size, 8u);
      }
    EXPECT_EQ(constants, p.inlined->caller == "inltest::inl_caller_two" ? 1u : 0u);
  }
  EXPECT_EQ(callers, (std::set<std::string>{"inltest::inl_caller_one", "inltest::inl_caller_two"}));
}

TEST(InlinePlan, FunctionNeverInlinedHasNoSites) {
  auto binary = Binary::open("/proc/self/exe");
  ASSERT_TRUE(binary) << binary.error().message;
  auto spec = parse_probe_spec("inltest::inl_caller_one");
  ASSERT_TRUE(spec);
  auto out = plan_inline_probes(*binary, *spec, 0);
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_FALSE(out->inlined_only);
  EXPECT_TRUE(out->plans.empty());
}

}  // namespace
}  // namespace dynprobe

// What an inlined-site probe writes, run against this process: an entry-only
// plan marked as inlined, with constant capture ops (DWARF's DW_OP_constu ...
// DW_OP_stack_value at an inlined call whose argument the compiler knew)
// beside a register op.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "backends/bpf/trace_session.h"
#include "core/plan/plan.h"
#include "tests/unit/bpf/self_probe.h"

namespace dynprobe::bpf {
namespace {

extern "C" __attribute__((noinline, noipa)) uint64_t inline_site_target(uint64_t x) {
  asm volatile("" ::: "memory");
  return x + 1;
}

constexpr uint32_t kHdr = sizeof(RecordHeader);
constexpr uint32_t kReg = kHdr;          // RDI
constexpr uint32_t kConst8 = kHdr + 8;   // an 8-byte constant
constexpr uint32_t kConst4 = kHdr + 16;  // a 4-byte constant, then a guard word
constexpr uint32_t kConst1 = kHdr + 24;  // a 1-byte constant
constexpr uint32_t kRecord = kHdr + 32;

ProbePlan inline_plan(const testing::ProbeSite& site) {
  ProbePlan p;
  p.id = 0;
  p.label = "inline_site_target";
  p.binary = site.binary;
  p.context = ContextSource::Thread;
  p.entry = {.address = site.offset, .file_offset = site.offset};
  p.want_latency = false;
  p.inlined = InlineCallSite{.caller = "caller", .call_file = "x.cc", .call_line = 7};
  p.entry_ops.push_back(
      {.source = CaptureOp::Source::Register, .reg = Reg::RDI, .size = 8, .record_offset = kReg});
  p.entry_ops.push_back({.source = CaptureOp::Source::Constant,
                         .constant = 0x1122334455667788ULL,
                         .size = 8,
                         .record_offset = kConst8,
                         .value_index = 1});
  p.entry_ops.push_back({.source = CaptureOp::Source::Register,
                         .reg = Reg::RDI,
                         .size = 8,
                         .record_offset = kConst4});  // overwritten below but for the top half
  p.entry_ops.push_back({.source = CaptureOp::Source::Constant,
                         .constant = 0xfffffffffffffffbULL,  // -5
                         .size = 4,
                         .record_offset = kConst4,
                         .value_index = 2});
  p.entry_ops.push_back({.source = CaptureOp::Source::Constant,
                         .constant = 0x1ff,
                         .size = 1,
                         .record_offset = kConst1,
                         .value_index = 3});
  p.record_size = kRecord;
  p.entry_size = kRecord;
  return p;
}

TEST(BpfInlineCapture, EntryOnlyRecordCarriesFlagAndConstants) {
  auto site = testing::site_of_function(&inline_site_target);
  ASSERT_TRUE(site) << site.error().message;
  ProbePlan plan = inline_plan(*site);
  ASSERT_FALSE(plan.needs_return());
  std::vector<std::vector<uint8_t>> records;
  auto session = TraceSession::start({plan}, {.pid = getpid()}, [&](std::span<const std::byte> r) {
    auto b = reinterpret_cast<const uint8_t*>(r.data());
    records.emplace_back(b, b + r.size());
  });
  ASSERT_TRUE(session) << session.error().message;
  const uint64_t x = 0xa5a5a5a5deadbeefULL;
  EXPECT_EQ(inline_site_target(x), x + 1);
  (void)session->consume();
  ASSERT_EQ(records.size(), 1u);
  const auto& r = records[0];
  ASSERT_GE(r.size(), kRecord);
  RecordHeader h;
  memcpy(&h, r.data(), sizeof h);
  EXPECT_EQ(h.flags, kRecordInlined) << "inlined, no latency";
  EXPECT_EQ(h.latency_ns, 0u);
  EXPECT_EQ(h.missing, 0u);
  uint64_t reg = 0, c8 = 0;
  uint32_t c4 = 0, above = 0;
  memcpy(&reg, r.data() + kReg, 8);
  memcpy(&c8, r.data() + kConst8, 8);
  memcpy(&c4, r.data() + kConst4, 4);
  memcpy(&above, r.data() + kConst4 + 4, 4);
  EXPECT_EQ(reg, x);
  EXPECT_EQ(c8, 0x1122334455667788ULL);
  EXPECT_EQ(static_cast<int32_t>(c4), -5);
  EXPECT_EQ(above, static_cast<uint32_t>(x >> 32)) << "a 4-byte constant wrote past its size";
  EXPECT_EQ(r[kConst1], 0xff);
}

}  // namespace
}  // namespace dynprobe::bpf

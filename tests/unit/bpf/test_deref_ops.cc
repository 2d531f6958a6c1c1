// Deref ops of the probe code generator run against this process: a hand-built
// plan follows a pointer argument the way the planner does for C++ values.
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cstring>
#include <vector>

#include "backends/bpf/trace_session.h"
#include "core/plan/plan.h"
#include "tests/unit/bpf/self_probe.h"

namespace dynprobe::bpf {
namespace {

extern "C" __attribute__((noinline, noipa)) uint64_t takes_vector(const std::vector<uint64_t>* v) {
  asm volatile("" ::: "memory");
  return v->size();
}

constexpr uint32_t kHdr = sizeof(RecordHeader);
constexpr uint32_t kArg = kHdr;          // the pointer in RDI
constexpr uint32_t kImage = kHdr + 8;    // the vector's three pointers
constexpr uint32_t kStatus = kHdr + 32;  // unreadable flags
constexpr uint32_t kCount = kHdr + 40;   // element count written by the BPF code
constexpr uint32_t kElems = kHdr + 48;   // up to 4 elements
constexpr uint32_t kRecord = kElems + 32;

// std::vector keeps {begin, end, end_of_storage}: a len_is_end op computes the
// count from two pointers, reads at most max_bytes and reports the count.
ProbePlan vector_plan(const testing::ProbeSite& site) {
  ProbePlan p;
  p.id = 1;
  p.label = "takes_vector";
  p.binary = site.binary;
  p.context = ContextSource::Thread;
  p.entry = {.address = site.offset, .file_offset = site.offset};
  p.want_latency = false;
  p.want_goid = false;
  p.entry_ops.push_back(
      {.source = CaptureOp::Source::Register, .reg = Reg::RDI, .size = 8, .record_offset = kArg});
  p.entry_derefs.push_back(
      {.addr_offset = kArg, .max_bytes = 24, .dest = kImage, .status = kStatus});
  p.entry_derefs.push_back({.addr_offset = kImage,
                            .len_offset = kImage + 8,
                            .len_is_end = true,
                            .count_out = kCount,
                            .elem_size = 8,
                            .max_bytes = 32,
                            .dest = kElems,
                            .status = kStatus + 1});
  p.record_size = kRecord;
  p.entry_size = kRecord;
  return p;
}

std::vector<std::vector<uint8_t>> run(const std::vector<uint64_t>& v) {
  auto site = testing::site_of_function(&takes_vector);
  EXPECT_TRUE(site) << site.error().message;
  std::vector<std::vector<uint8_t>> records;
  auto session = TraceSession::start({vector_plan(*site)}, {.pid = getpid()},
                                     [&](std::span<const std::byte> r) {
                                       auto b = reinterpret_cast<const uint8_t*>(r.data());
                                       records.emplace_back(b, b + r.size());
                                     });
  EXPECT_TRUE(session) << session.error().message;
  if (!session) return records;
  takes_vector(&v);
  (void)session->consume();
  return records;
}

uint64_t word_at(const std::vector<uint8_t>& r, uint32_t at) {
  uint64_t w = 0;
  memcpy(&w, r.data() + at, 8);
  return w;
}

TEST(BpfDerefOps, EndPointerGivesTheCountAndBoundsTheRead) {
  std::vector<uint64_t> three{11, 22, 33};
  auto records = run(three);
  ASSERT_EQ(records.size(), 1u);
  const auto& r = records[0];
  ASSERT_GE(r.size(), kRecord);
  EXPECT_EQ(word_at(r, kCount), 3u);
  EXPECT_EQ(word_at(r, kElems), 11u);
  EXPECT_EQ(word_at(r, kElems + 16), 33u);
  EXPECT_EQ(word_at(r, kElems + 24), 0u) << "read past the vector's end";
  EXPECT_EQ(r[kStatus + 1], 0);
}

TEST(BpfDerefOps, LongVectorIsReadUpToMaxBytesButCountedWhole) {
  std::vector<uint64_t> many(100);
  for (size_t i = 0; i < many.size(); ++i) many[i] = i * 7;
  auto records = run(many);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(word_at(records[0], kCount), 100u);
  EXPECT_EQ(word_at(records[0], kElems + 24), 21u);
}

TEST(BpfDerefOps, EmptyVectorReadsNothing) {
  std::vector<uint64_t> none;
  auto records = run(none);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(word_at(records[0], kCount), 0u);
  EXPECT_EQ(word_at(records[0], kElems), 0u);
  EXPECT_EQ(records[0][kStatus + 1], 0);
}

extern "C" __attribute__((noinline, noipa)) uint64_t takes_bytes(const uint8_t* p) {
  asm volatile("" ::: "memory");
  return p[0];
}

constexpr uint32_t kBlock = kHdr + 16;  // a 208-byte read (a Go map bucket's size)
constexpr uint32_t kBlockSize = 208;

std::vector<std::vector<uint8_t>> read_block(const uint8_t* p, bool split) {
  auto site = testing::site_of_function(&takes_bytes);
  EXPECT_TRUE(site) << site.error().message;
  std::vector<std::vector<uint8_t>> records;
  if (!site) return records;
  ProbePlan plan;
  plan.id = 1;
  plan.label = "takes_bytes";
  plan.binary = site->binary;
  plan.context = ContextSource::Thread;
  plan.entry = {.address = site->offset, .file_offset = site->offset};
  plan.want_latency = false;
  plan.want_goid = false;
  plan.entry_ops.push_back(
      {.source = CaptureOp::Source::Register, .reg = Reg::RDI, .size = 8, .record_offset = kArg});
  plan.entry_derefs.push_back({.addr_offset = kArg,
                               .max_bytes = kBlockSize,
                               .dest = kBlock,
                               .status = kArg + 8,
                               .split_at_page = split});
  plan.record_size = plan.entry_size = kBlock + kBlockSize;
  auto session = TraceSession::start({plan}, {.pid = getpid()}, [&](std::span<const std::byte> r) {
    auto b = reinterpret_cast<const uint8_t*>(r.data());
    records.emplace_back(b, b + r.size());
  });
  EXPECT_TRUE(session) << session.error().message;
  if (!session) return records;
  takes_bytes(p);
  (void)session->consume();
  return records;
}

// Two pages of fresh anonymous memory; the second is never touched, so it
// is not present and bpf_probe_read_user cannot fault it in.
struct TwoPages {
  TwoPages()
      : base(mmap(nullptr, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) {}
  ~TwoPages() {
    if (base != MAP_FAILED) munmap(base, 8192);
  }
  void* base;
};

TEST(BpfDerefOps, AReadSplitAtAnUntouchedPageKeepsTheTouchedPart) {
  TwoPages pages;
  ASSERT_NE(pages.base, MAP_FAILED);
  uint8_t* p = static_cast<uint8_t*>(pages.base) + 4096 - 150;
  memset(p, 0xab, 150);
  auto whole = read_block(p, false);
  ASSERT_EQ(whole.size(), 1u);
  EXPECT_EQ(whole[0][kArg + 8], 1) << "a read into an untouched page fails";
  auto split = read_block(p, true);
  ASSERT_EQ(split.size(), 1u);
  EXPECT_EQ(split[0][kArg + 8], 0);
  for (uint32_t i = 0; i < kBlockSize; ++i)
    ASSERT_EQ(split[0][kBlock + i], i < 150 ? 0xab : 0) << "byte " << i;
}

}  // namespace
}  // namespace dynprobe::bpf

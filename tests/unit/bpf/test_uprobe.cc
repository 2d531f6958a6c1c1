#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <thread>
#include <vector>

#include "backends/bpf/assembler.h"
#include "backends/bpf/map.h"
#include "backends/bpf/pt_regs.h"
#include "backends/bpf/ringbuf.h"
#include "backends/bpf/uprobe.h"
#include "tests/unit/bpf/programs.h"
#include "tests/unit/bpf/self_probe.h"

namespace dynprobe::bpf {
namespace {

using testing::ArgRecord;

extern "C" __attribute__((noinline, noipa)) uint64_t probed_call(uint64_t x) {
  asm volatile("" ::: "memory");
  return x * 3 + 1;
}

extern "C" __attribute__((noinline, noipa)) uint64_t counted_call(uint64_t x) {
  asm volatile("" ::: "memory");
  return x + 11;
}

struct Collected {
  std::vector<ArgRecord> records;
  size_t bad_sizes = 0;
};

RingBufferReader::Callback collect_into(Collected& c) {
  return [&c](std::span<const std::byte> raw) {
    if (raw.size() != sizeof(ArgRecord)) {
      ++c.bad_sizes;
      return;
    }
    ArgRecord r;
    std::memcpy(&r, raw.data(), sizeof r);
    c.records.push_back(r);
  };
}

Result<Map> counter_map() {
  return Map::create(
      {.type = MapType::Array, .name = "counts", .key_size = 4, .value_size = 8, .max_entries = 1});
}

uint64_t count_of(const Map& counts) {
  auto v = counts.get<uint64_t>(uint32_t{0});
  return v && *v ? **v : ~uint64_t{0};
}

TEST(BpfUprobe, RecordsEveryCallWithItsArgumentAndCookie) {
  auto ring = Map::create({.type = MapType::RingBuf, .name = "events", .max_entries = 1 << 20});
  ASSERT_TRUE(ring) << ring.error().message;
  auto prog = testing::record_args_program(*ring);
  ASSERT_TRUE(prog) << prog.error().message;
  auto site = testing::site_of_function(&probed_call);
  ASSERT_TRUE(site) << site.error().message;

  Collected got;
  auto reader = RingBufferReader::open(*ring, collect_into(got));
  ASSERT_TRUE(reader) << reader.error().message;

  constexpr uint64_t kCookie = 0xC0FFEE0012345678ull;
  std::optional<UprobeLink> link;
  {
    auto l = UprobeLink::attach(
        *prog,
        {.binary = site->binary, .offset = site->offset, .pid = getpid(), .cookie = kCookie});
    ASSERT_TRUE(l) << l.error().message;
    EXPECT_TRUE(l->has_link());
    link.emplace(std::move(*l));
  }

  constexpr int kCalls = 500;
  uint64_t sum = 0;
  for (int i = 0; i < kCalls; ++i) sum += probed_call(1000 + 7 * i);
  EXPECT_EQ(sum, 3u * (1000u * kCalls + 7u * (kCalls - 1) * kCalls / 2) + kCalls);

  auto n = reader->consume();
  ASSERT_TRUE(n) << n.error().message;
  EXPECT_EQ(*n, kCalls);
  ASSERT_EQ(got.records.size(), static_cast<size_t>(kCalls));
  EXPECT_EQ(got.bad_sizes, 0u);
  for (int i = 0; i < kCalls; ++i) {
    const ArgRecord& r = got.records[i];
    EXPECT_EQ(r.rdi, 1000u + 7u * i) << i;
    EXPECT_EQ(r.cookie, kCookie) << i;
    // The program runs before the kernel steps over the probed instruction.
    EXPECT_EQ(r.rip, reinterpret_cast<uintptr_t>(&probed_call)) << i;
    EXPECT_EQ(r.pid_tgid >> 32, static_cast<uint64_t>(getpid())) << i;
    EXPECT_EQ(r.pid_tgid & 0xffffffff, static_cast<uint64_t>(gettid())) << i;
  }

  link.reset();  // detaches
  for (int i = 0; i < 100; ++i) probed_call(i);
  auto after = reader->poll(std::chrono::milliseconds(50));
  ASSERT_TRUE(after);
  EXPECT_EQ(*after, 0);
  EXPECT_EQ(got.records.size(), static_cast<size_t>(kCalls));
}

TEST(BpfUprobe, PollWakesForRecordsFromAnotherThread) {
  auto ring = Map::create({.type = MapType::RingBuf, .name = "events", .max_entries = 1 << 16});
  ASSERT_TRUE(ring);
  auto prog = testing::record_args_program(*ring);
  ASSERT_TRUE(prog) << prog.error().message;
  auto site = testing::site_of_function(&probed_call);
  ASSERT_TRUE(site);
  Collected got;
  auto reader = RingBufferReader::open(*ring, collect_into(got));
  ASSERT_TRUE(reader);
  auto link =
      UprobeLink::attach(*prog, {.binary = site->binary, .offset = site->offset, .pid = getpid()});
  ASSERT_TRUE(link) << link.error().message;

  std::thread caller([] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    probed_call(4242);
  });
  int delivered = 0;
  for (int tries = 0; tries < 50 && delivered == 0; ++tries) {
    auto n = reader->poll(std::chrono::milliseconds(100));
    ASSERT_TRUE(n) << n.error().message;
    delivered += *n;
  }
  caller.join();
  ASSERT_EQ(delivered, 1);
  EXPECT_EQ(got.records.at(0).rdi, 4242u);
  EXPECT_NE(got.records.at(0).pid_tgid & 0xffffffff, static_cast<uint64_t>(gettid()));
}

TEST(BpfUprobe, CountsOnlyTheProcessItFilters) {
  auto counts = counter_map();
  ASSERT_TRUE(counts) << counts.error().message;
  auto prog = testing::count_program(*counts);
  ASSERT_TRUE(prog) << prog.error().message;
  auto site = testing::site_of_function(&counted_call);
  ASSERT_TRUE(site);

  int go[2];
  ASSERT_EQ(pipe(go), 0);
  constexpr int kChildCalls = 37;
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    char c;
    close(go[1]);
    if (read(go[0], &c, 1) != 1) _exit(2);
    for (int i = 0; i < kChildCalls; ++i) counted_call(i);
    _exit(0);
  }
  close(go[0]);
  {
    auto link =
        UprobeLink::attach(*prog, {.binary = site->binary, .offset = site->offset, .pid = child});
    ASSERT_TRUE(link) << link.error().message;
    for (int i = 0; i < 50; ++i) counted_call(i);  // this process: not counted
    ASSERT_EQ(write(go[1], "x", 1), 1);
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    EXPECT_EQ(count_of(*counts), static_cast<uint64_t>(kChildCalls));
  }
  close(go[1]);
}

TEST(BpfUprobe, ProcessFilterCoversEveryThreadOfTheProcess) {
  auto counts = counter_map();
  ASSERT_TRUE(counts);
  auto prog = testing::count_program(*counts);
  ASSERT_TRUE(prog) << prog.error().message;
  auto site = testing::site_of_function(&counted_call);
  ASSERT_TRUE(site);
  auto link =
      UprobeLink::attach(*prog, {.binary = site->binary, .offset = site->offset, .pid = getpid()});
  ASSERT_TRUE(link) << link.error().message;

  constexpr int kThreads = 4, kCalls = 25;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([] {
      for (int i = 0; i < kCalls; ++i) counted_call(i);
    });
  for (auto& t : threads) t.join();
  counted_call(0);
  EXPECT_EQ(count_of(*counts), static_cast<uint64_t>(kThreads * kCalls + 1));
}

TEST(BpfUprobe, WithoutAProcessFilterEveryProcessCounts) {
  auto counts = counter_map();
  ASSERT_TRUE(counts);
  auto prog = testing::count_program(*counts);
  ASSERT_TRUE(prog) << prog.error().message;
  auto site = testing::site_of_function(&counted_call);
  ASSERT_TRUE(site);
  auto link = UprobeLink::attach(*prog, {.binary = site->binary, .offset = site->offset});
  ASSERT_TRUE(link) << link.error().message;
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    for (int i = 0; i < 5; ++i) counted_call(i);
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  for (int i = 0; i < 3; ++i) counted_call(i);
  EXPECT_EQ(count_of(*counts), 8u);
}

extern "C" __attribute__((noinline, noipa)) uint64_t six_args(uint64_t a, uint64_t b, uint64_t c,
                                                              uint64_t d, uint64_t e, uint64_t f) {
  asm volatile("" ::: "memory");
  return a ^ b ^ c ^ d ^ e ^ f;
}

TEST(BpfUprobe, PtRegsOffsetsMatchTheSysVArgumentRegisters) {
  const Reg order[] = {Reg::RDI, Reg::RSI, Reg::RDX, Reg::RCX, Reg::R8, Reg::R9};
  auto out = Map::create({.type = MapType::Array,
                          .name = "regs",
                          .key_size = 4,
                          .value_size = sizeof(uint64_t) * 6,
                          .max_entries = 1});
  ASSERT_TRUE(out);
  Assembler a;
  Label done = a.new_label();
  a.mov64(r6, r1);
  a.st(Size::W, r10, -4, 0);
  a.ld_map_fd(r1, out->fd());
  a.mov64(r2, r10);
  a.add64(r2, -4);
  a.call(Helper::MapLookupElem);
  a.jmp(JmpOp::Jeq, r0, 0, done);
  for (int i = 0; i < 6; ++i) {
    auto off = pt_regs_offset(order[i]);
    ASSERT_TRUE(off);
    a.ldx(Size::DW, r1, r6, *off);
    a.stx(Size::DW, r0, static_cast<int16_t>(8 * i), r1);
  }
  a.bind(done);
  a.mov64(r0, 0);
  a.exit();
  auto insns = a.finish();
  ASSERT_TRUE(insns);
  auto prog = Program::load("six_args", *insns);
  ASSERT_TRUE(prog) << prog.error().message;
  auto site = testing::site_of_function(&six_args);
  ASSERT_TRUE(site);
  auto link =
      UprobeLink::attach(*prog, {.binary = site->binary, .offset = site->offset, .pid = getpid()});
  ASSERT_TRUE(link) << link.error().message;
  six_args(0x1111, 0x2222, 0x3333, 0x4444, 0x5555, 0x6666);
  struct Six {
    uint64_t v[6];
  };
  auto got = out->get<Six>(uint32_t{0});
  ASSERT_TRUE(got && *got);
  for (int i = 0; i < 6; ++i) EXPECT_EQ((*got)->v[i], 0x1111u * (i + 1)) << reg_name(order[i]);
  EXPECT_FALSE(pt_regs_offset(Reg::XMM0));
}

TEST(BpfUprobe, ClearErrorsForMissingBinaryAndProcess) {
  auto counts = counter_map();
  ASSERT_TRUE(counts);
  auto prog = testing::count_program(*counts);
  ASSERT_TRUE(prog);
  auto missing = UprobeLink::attach(*prog, {.binary = "/nonexistent/app", .offset = 0x1000});
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("/nonexistent/app:0x1000"), std::string::npos)
      << missing.error().message;
  EXPECT_NE(missing.error().message.find("no such file"), std::string::npos)
      << missing.error().message;

  pid_t gone = fork();
  ASSERT_GE(gone, 0);
  if (gone == 0) _exit(0);
  ASSERT_EQ(waitpid(gone, nullptr, 0), gone);
  auto site = testing::site_of_function(&counted_call);
  ASSERT_TRUE(site);
  auto no_proc =
      UprobeLink::attach(*prog, {.binary = site->binary, .offset = site->offset, .pid = gone});
  ASSERT_FALSE(no_proc);
  EXPECT_NE(no_proc.error().message.find("no process " + std::to_string(gone)), std::string::npos)
      << no_proc.error().message;
}

}  // namespace
}  // namespace dynprobe::bpf

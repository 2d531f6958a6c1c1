// Research test: can a uprobe program read the probed thread's XMM registers?
// pt_regs has none; the only copy the kernel keeps is the task's saved FPU
// image (fpu->fpstate->regs), and that copy is current only when the kernel
// has saved the live registers there. See docs/bpf-backend.md.
#include <gtest/gtest.h>
#include <pthread.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

#include "backends/bpf/assembler.h"
#include "backends/bpf/kernel_offsets.h"
#include "backends/bpf/map.h"
#include "backends/bpf/program.h"
#include "backends/bpf/ringbuf.h"
#include "backends/bpf/uprobe.h"
#include "tests/unit/bpf/self_probe.h"

namespace dynprobe::bpf {
namespace {

extern "C" __attribute__((noinline, noipa)) double xmm_target(double a0, double a1, double a2,
                                                              double a3, double a4, double a5,
                                                              double a6, double a7) {
  asm volatile("" ::: "memory");
  return a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
}

struct XmmRecord {
  uint64_t ti_flags;
  uint64_t xfeatures;
  uint64_t fpstate;
  uint64_t fpu;
  uint32_t last_cpu;
  uint32_t cpu;
  double xmm[8][2];  // low and high lane of X0-X7
};

Result<Program> xmm_program(const Map& ring, const TaskOffsets& o, uint32_t last_cpu_off) {
  constexpr int16_t base = -static_cast<int16_t>(sizeof(XmmRecord));
  auto at = [](size_t field) { return static_cast<int16_t>(base + static_cast<int16_t>(field)); };
  Assembler a;
  for (int16_t off = base; off < 0; off += 8) a.st(Size::DW, r10, off, 0);
  a.call(Helper::GetCurrentTask);
  a.mov64(r7, r0);  // task
  // flags
  a.mov64(r1, r10);
  a.add64(r1, at(offsetof(XmmRecord, ti_flags)));
  a.mov64(r2, 8);
  a.mov64(r3, r7);
  a.add64(r3, static_cast<int32_t>(o.thread_info_flags));
  a.call(Helper::ProbeReadKernel);
  // fpu = task + o.fpu
  a.mov64(r8, r7);
  a.add64(r8, static_cast<int32_t>(o.fpu));
  a.stx(Size::DW, r10, at(offsetof(XmmRecord, fpu)), r8);
  a.mov64(r1, r10);
  a.add64(r1, at(offsetof(XmmRecord, last_cpu)));
  a.mov64(r2, 4);
  a.mov64(r3, r8);
  a.add64(r3, static_cast<int32_t>(last_cpu_off));
  a.call(Helper::ProbeReadKernel);
  // fpstate = fpu->fpstate
  a.mov64(r1, r10);
  a.add64(r1, at(offsetof(XmmRecord, fpstate)));
  a.mov64(r2, 8);
  a.mov64(r3, r8);
  a.add64(r3, static_cast<int32_t>(o.fpu_fpstate));
  a.call(Helper::ProbeReadKernel);
  a.ldx(Size::DW, r9, r10, at(offsetof(XmmRecord, fpstate)));
  a.add64(r9, static_cast<int32_t>(o.fpstate_regs));  // the XSAVE image
  a.mov64(r1, r10);
  a.add64(r1, at(offsetof(XmmRecord, xfeatures)));
  a.mov64(r2, 8);
  a.mov64(r3, r9);
  a.add64(r3, static_cast<int32_t>(o.regs_xfeatures));
  a.call(Helper::ProbeReadKernel);
  a.mov64(r1, r10);
  a.add64(r1, at(offsetof(XmmRecord, xmm)));
  a.mov64(r2, static_cast<int32_t>(sizeof(XmmRecord::xmm)));
  a.mov64(r3, r9);
  a.add64(r3, static_cast<int32_t>(o.regs_xmm));
  a.call(Helper::ProbeReadKernel);
  a.call(Helper::GetSmpProcessorId);
  a.stx(Size::W, r10, at(offsetof(XmmRecord, cpu)), r0);
  a.ld_map_fd(r1, ring.fd());
  a.mov64(r2, r10);
  a.add64(r2, base);
  a.mov64(r3, static_cast<int32_t>(sizeof(XmmRecord)));
  a.mov64(r4, 0);
  a.call(Helper::RingbufOutput);
  a.mov64(r0, 0);
  a.exit();
  auto insns = a.finish();
  if (!insns) return std::unexpected(insns.error());
  return Program::load("xmm_state", *insns);
}

struct Tally {
  int total = 0;
  int bit_set = 0, bit_set_match = 0;
  int bit_clear = 0, bit_clear_match = 0;
};

void pin_to_cpu(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

TEST(BpfXmmResearch, SavedFpuImageHoldsTheArgumentsOnlyWhenTheKernelSavedIt) {
  auto btf = KernelBtf::load_vmlinux();
  ASSERT_TRUE(btf);
  auto o = task_offsets(*btf);
  ASSERT_TRUE(o) << o.error().message;
  auto last_cpu = btf->member("fpu", "last_cpu");
  auto inner = btf->member("fpu", "__fpstate");
  ASSERT_TRUE(last_cpu && inner);
  auto ring = Map::create({.type = MapType::RingBuf, .name = "xmm", .max_entries = 1 << 24});
  ASSERT_TRUE(ring);
  auto prog = xmm_program(*ring, *o, last_cpu->offset);
  ASSERT_TRUE(prog) << prog.error().message;
  auto site = testing::site_of_function(&xmm_target);
  ASSERT_TRUE(site);

  std::vector<XmmRecord> recs;
  auto reader = RingBufferReader::open(*ring, [&](std::span<const std::byte> raw) {
    XmmRecord r;
    std::memcpy(&r, raw.data(), sizeof r);
    recs.push_back(r);
  });
  ASSERT_TRUE(reader);
  auto link =
      UprobeLink::attach(*prog, {.binary = site->binary, .offset = site->offset, .pid = getpid()});
  ASSERT_TRUE(link) << link.error().message;

  auto run = [&](int calls) {
    recs.clear();
    double sink = 0;
    for (int i = 0; i < calls; ++i) {
      double b = i * 8.0 + 0.5;
      sink += xmm_target(b, b + 1, b + 2, b + 3, b + 4, b + 5, b + 6, b + 7);
      if (i % 1000 == 999) (void)reader->consume();
    }
    (void)reader->consume();
    EXPECT_GT(sink, 0);
    return calls;
  };
  auto tally = [&](int flag_bit) {
    Tally t;
    for (size_t i = 0; i < recs.size(); ++i) {
      const XmmRecord& r = recs[i];
      double b = i * 8.0 + 0.5;
      bool match = true;
      for (int k = 0; k < 8; ++k) match &= r.xmm[k][0] == b + k;
      bool set = (r.ti_flags >> flag_bit) & 1;
      ++t.total;
      if (set) {
        ++t.bit_set;
        t.bit_set_match += match;
      } else {
        ++t.bit_clear;
        t.bit_clear_match += match;
      }
    }
    return t;
  };
  const int bit = static_cast<int>(o->tif_need_fpu_load_bit);
  auto report = [&](const char* phase) {
    Tally t = tally(bit);
    std::printf(
        "[ xmm    ] %-9s %6d hits | TIF_NEED_FPU_LOAD (bit %d) set %5d, image matched %5d | "
        "clear %6d, image matched %5d\n",
        phase, t.total, bit, t.bit_set, t.bit_set_match, t.bit_clear, t.bit_clear_match);
    return t;
  };

  // 1: a quiet loop. The registers stay live in the CPU from the trap to the
  // program, so the saved image is whatever the last context switch left.
  constexpr int kQuiet = 5000, kContended = 50000;
  ASSERT_EQ(run(kQuiet), kQuiet);
  ASSERT_EQ(recs.size(), static_cast<size_t>(kQuiet));
  EXPECT_EQ(recs[0].fpstate, recs[0].fpu + inner->offset)
      << "fpu->fpstate should point at fpu->__fpstate";
  Tally quiet = report("quiet");
  // When the flag is set the image is the truth; when clear it is stale.
  EXPECT_EQ(quiet.bit_set_match, quiet.bit_set);
  EXPECT_LT(quiet.bit_clear_match * 2, quiet.bit_clear);

  // 2: provoke the one case where the image is current. A real-time thread
  // on this CPU is woken from the other CPU, which sets NEED_RESCHED on the
  // probed thread at once, even while it is in the trap with interrupts off;
  // exit_to_user_mode_loop() then calls schedule() before
  // uprobe_notify_resume(), and the switch saves the registers.
  std::atomic<bool> stop{false};
  cpu_set_t before;
  pthread_getaffinity_np(pthread_self(), sizeof before, &before);
  int wake = eventfd(0, 0);
  ASSERT_GE(wake, 0);
  pin_to_cpu(0);
  std::thread sleeper([&] {
    pin_to_cpu(0);
    sched_param p{.sched_priority = 10};
    pthread_setschedparam(pthread_self(), SCHED_FIFO, &p);
    uint64_t v;
    while (!stop.load(std::memory_order_relaxed) && read(wake, &v, sizeof v) == sizeof v) {
    }
  });
  std::thread waker([&] {
    pin_to_cpu(1);
    uint64_t one = 1;
    while (!stop.load(std::memory_order_relaxed)) {
      if (write(wake, &one, sizeof one) != sizeof one) break;
      for (volatile int spin = 0; spin < 2000; ++spin) {
      }
    }
  });
  ASSERT_EQ(run(kContended), kContended);
  stop = true;
  waker.join();
  uint64_t one = 1;
  (void)!write(wake, &one, sizeof one);
  sleeper.join();
  close(wake);
  pthread_setaffinity_np(pthread_self(), sizeof before, &before);
  ASSERT_EQ(recs.size(), static_cast<size_t>(kContended));
  Tally contended = report("contended");
  EXPECT_EQ(contended.bit_set_match, contended.bit_set);
  EXPECT_LT(contended.bit_clear_match * 2, contended.bit_clear);
}

}  // namespace
}  // namespace dynprobe::bpf

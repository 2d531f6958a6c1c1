#include <asm/prctl.h>
#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <thread>

#include "backends/bpf/assembler.h"
#include "backends/bpf/kernel_offsets.h"
#include "backends/bpf/map.h"
#include "backends/bpf/program.h"
#include "backends/bpf/uprobe.h"
#include "tests/unit/bpf/self_probe.h"

namespace dynprobe::bpf {
namespace {

TEST(BpfKernelOffsets, ResolvesNestedMembersThroughTheirParents) {
  auto btf = KernelBtf::load_vmlinux();
  ASSERT_TRUE(btf) << btf.error().message;
  auto thread = btf->member("task_struct", "thread");
  auto fsbase_in_thread = btf->member("thread_struct", "fsbase");
  auto fsbase = btf->member("task_struct", "thread.fsbase");
  ASSERT_TRUE(thread && fsbase_in_thread && fsbase);
  EXPECT_EQ(fsbase->offset, thread->offset + fsbase_in_thread->offset);
  EXPECT_EQ(fsbase->size, 8u);
}

TEST(BpfKernelOffsets, FindsMembersOfAnonymousUnions) {
  auto btf = KernelBtf::load_vmlinux();
  ASSERT_TRUE(btf);
  // struct fxregs_state { u16 cwd, swd, twd, fop; union { struct { u64 rip, rdp; }; ... }; ...}
  // is the FXSAVE image, whose layout the CPU fixes.
  auto rip = btf->member("fxregs_state", "rip");
  ASSERT_TRUE(rip) << rip.error().message;
  EXPECT_EQ(rip->offset, 8u);
  auto xmm = btf->member("fxregs_state", "xmm_space");
  ASSERT_TRUE(xmm);
  EXPECT_EQ(xmm->offset, 160u);
  EXPECT_EQ(xmm->size, 256u);
}

TEST(BpfKernelOffsets, MissingMembersAreNamedInTheError) {
  auto btf = KernelBtf::load_vmlinux();
  ASSERT_TRUE(btf);
  auto nope = btf->member("task_struct", "thread.no_such_field");
  ASSERT_FALSE(nope);
  EXPECT_NE(nope.error().message.find("task_struct.thread.no_such_field"), std::string::npos)
      << nope.error().message;
  auto no_struct = btf->struct_size("no_such_struct_anywhere");
  ASSERT_FALSE(no_struct);
  EXPECT_NE(no_struct.error().message.find("no_such_struct_anywhere"), std::string::npos);
}

TEST(BpfKernelOffsets, TaskOffsetsResolveOnThisKernel) {
  auto btf = KernelBtf::load_vmlinux();
  ASSERT_TRUE(btf);
  auto t = task_offsets(*btf);
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->regs_xmm, 160u);
  EXPECT_EQ(t->regs_xfeatures, 512u);  // the XSAVE header follows the 512-byte legacy area
}

TEST(BpfKernelOffsets, NeedFpuLoadBitFollowsTheGenericTifRenumbering) {
  EXPECT_EQ(tif_need_fpu_load_bit("6.18.44-fc-v669"), 19u);
  EXPECT_EQ(tif_need_fpu_load_bit("7.0.0"), 19u);
  EXPECT_EQ(tif_need_fpu_load_bit("6.17.9-arch1"), 14u);
  EXPECT_EQ(tif_need_fpu_load_bit("5.15.0-91-generic"), 14u);
}

// What a probe on tls_target reads through the task struct.
struct TaskView {
  uint64_t fsbase;     // task->thread.fsbase
  uint64_t tls_value;  // *(fsbase + tls_offset), read from user memory
  uint64_t tid;
};

thread_local uint64_t tls_marker = 0;

extern "C" __attribute__((noinline, noipa)) void tls_target(int64_t tls_offset) {
  asm volatile("" ::: "memory");
}

uint64_t fs_base_of_this_thread() {
  unsigned long base = 0;
  if (syscall(SYS_arch_prctl, ARCH_GET_FS, &base) != 0) return 0;
  return base;
}

// Builds: task = bpf_get_current_task(); fsbase = task->thread.fsbase;
// value = *(u64 *)(fsbase + RDI) from user memory; store all three.
Result<Program> task_view_program(const Map& out, const TaskOffsets& o) {
  Assembler a;
  a.mov64(r6, r1);
  a.st(Size::DW, r10, -32, 0);
  a.st(Size::DW, r10, -24, 0);
  a.st(Size::DW, r10, -16, 0);
  a.call(Helper::GetCurrentTask);
  a.mov64(r3, r0);
  a.add64(r3, static_cast<int32_t>(o.thread_fsbase));
  a.mov64(r1, r10);
  a.add64(r1, -32);
  a.mov64(r2, 8);
  a.call(Helper::ProbeReadKernel);
  a.ldx(Size::DW, r3, r10, -32);
  a.ldx(Size::DW, r1, r6, 112);  // RDI: the offset of the TLS variable from fsbase
  a.alu64(AluOp::Add, r3, r1);
  a.mov64(r1, r10);
  a.add64(r1, -24);
  a.mov64(r2, 8);
  a.call(Helper::ProbeReadUser);
  a.call(Helper::GetCurrentPidTgid);
  a.stx(Size::DW, r10, -16, r0);
  a.st(Size::W, r10, -4, 0);
  a.ld_map_fd(r1, out.fd());
  a.mov64(r2, r10);
  a.add64(r2, -4);
  a.mov64(r3, r10);
  a.add64(r3, -32);
  a.mov64(r4, 0);
  a.call(Helper::MapUpdateElem);
  a.mov64(r0, 0);
  a.exit();
  auto insns = a.finish();
  if (!insns) return std::unexpected(insns.error());
  return Program::load("task_view", *insns);
}

TEST(BpfKernelOffsets, ProbeReadsTheThreadsFsBaseAndItsTls) {
  auto btf = KernelBtf::load_vmlinux();
  ASSERT_TRUE(btf);
  auto offsets = task_offsets(*btf);
  ASSERT_TRUE(offsets) << offsets.error().message;
  auto out = Map::create({.type = MapType::Array,
                          .name = "task_view",
                          .key_size = 4,
                          .value_size = sizeof(TaskView),
                          .max_entries = 1});
  ASSERT_TRUE(out);
  auto prog = task_view_program(*out, *offsets);
  ASSERT_TRUE(prog) << prog.error().message;
  auto site = testing::site_of_function(&tls_target);
  ASSERT_TRUE(site);
  auto link =
      UprobeLink::attach(*prog, {.binary = site->binary, .offset = site->offset, .pid = getpid()});
  ASSERT_TRUE(link) << link.error().message;

  // Each thread has its own fs base and its own copy of tls_marker; the probe
  // must see the calling thread's.
  auto check_on_this_thread = [&](uint64_t marker) {
    tls_marker = marker;
    uint64_t base = fs_base_of_this_thread();
    ASSERT_NE(base, 0u);
    int64_t off = static_cast<int64_t>(reinterpret_cast<uintptr_t>(&tls_marker) - base);
    tls_target(off);
    auto v = out->get<TaskView>(uint32_t{0});
    ASSERT_TRUE(v && *v);
    EXPECT_EQ((*v)->fsbase, base);
    EXPECT_EQ((*v)->tls_value, marker);
    EXPECT_EQ((*v)->tid & 0xffffffff, static_cast<uint64_t>(gettid()));
  };
  check_on_this_thread(0x1111222233334444ull);
  std::thread other([&] { check_on_this_thread(0x5555666677778888ull); });
  other.join();
}

}  // namespace
}  // namespace dynprobe::bpf

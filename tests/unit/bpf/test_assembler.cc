#include <gtest/gtest.h>

#include <cstring>

#include "backends/bpf/assembler.h"
#include "backends/bpf/map.h"
#include "backends/bpf/program.h"
#include "backends/bpf/pt_regs.h"
#include "backends/bpf/uprobe.h"
#include "tests/unit/bpf/self_probe.h"

namespace dynprobe::bpf {
namespace {

std::vector<uint8_t> bytes_of(const std::vector<bpf_insn>& insns) {
  std::vector<uint8_t> out(insns.size() * sizeof(bpf_insn));
  std::memcpy(out.data(), insns.data(), out.size());
  return out;
}

TEST(BpfAssembler, EncodesAsTheInstructionSetSpecifies) {
  // "r0 = 0; exit" and "r1 = *(u32 *)(r2 + 8)" as the eBPF ISA document spells them.
  Assembler a;
  a.mov64(r0, 0);
  a.ldx(Size::W, r1, r2, 8);
  a.exit();
  auto insns = a.finish();
  ASSERT_TRUE(insns) << insns.error().message;
  std::vector<uint8_t> want = {0xb7, 0x00, 0, 0, 0, 0, 0, 0,  //
                               0x61, 0x21, 8, 0, 0, 0, 0, 0,  //
                               0x95, 0x00, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(bytes_of(*insns), want);
}

TEST(BpfAssembler, LdImm64TakesTwoSlots) {
  Assembler a;
  a.ld_imm64(r3, 0x1122334455667788ull);
  a.ld_map_fd(r1, 42);
  ASSERT_EQ(a.size(), 4u);
  auto insns = a.finish();
  ASSERT_TRUE(insns);
  EXPECT_EQ((*insns)[0].code, BPF_LD | BPF_DW | BPF_IMM);
  EXPECT_EQ((*insns)[0].dst_reg, 3);
  EXPECT_EQ(static_cast<uint32_t>((*insns)[0].imm), 0x55667788u);
  EXPECT_EQ(static_cast<uint32_t>((*insns)[1].imm), 0x11223344u);
  EXPECT_EQ((*insns)[2].src_reg, BPF_PSEUDO_MAP_FD);
  EXPECT_EQ((*insns)[2].imm, 42);
}

TEST(BpfAssembler, ResolvesForwardAndBackwardLabels) {
  Assembler a;
  Label top = a.new_label(), done = a.new_label();
  a.mov64(r0, 0);  // slot 0
  a.bind(top);
  a.jmp(JmpOp::Jge, r0, 3, done);  // slot 1, to slot 6
  a.add64(r0, 1);                  // slot 2
  a.ld_imm64(r1, 1);               // slots 3 and 4
  a.ja(top);                       // slot 5, to slot 1
  a.bind(done);
  a.exit();  // slot 6
  auto insns = a.finish();
  ASSERT_TRUE(insns) << insns.error().message;
  EXPECT_EQ((*insns)[1].off, 6 - 1 - 1);
  EXPECT_EQ((*insns)[5].off, 1 - 5 - 1);
}

TEST(BpfAssembler, UnboundLabelIsAnError) {
  Assembler a;
  Label nowhere = a.new_label();
  a.jmp(JmpOp::Jeq, r1, 0, nowhere);
  a.exit();
  auto insns = a.finish();
  ASSERT_FALSE(insns);
  EXPECT_NE(insns.error().message.find("never bound"), std::string::npos);
}

TEST(BpfAssembler, LabelBoundTwiceIsAnError) {
  Assembler a;
  Label l = a.new_label();
  a.bind(l);
  a.exit();
  a.bind(l);
  EXPECT_FALSE(a.finish());
}

TEST(BpfAssembler, TrivialProgramLoads) {
  Assembler a;
  a.mov64(r0, 0);
  a.exit();
  auto insns = a.finish();
  ASSERT_TRUE(insns);
  auto prog = Program::load("trivial", *insns);
  ASSERT_TRUE(prog) << prog.error().message;
  EXPECT_GE(prog->fd(), 0);
}

// Every value below is computed twice: by a BPF program at a uprobe on
// alu_target(x), and by C++ from the same x. A wrong encoding of any
// operation, size or jump shows up as a mismatch.
extern "C" __attribute__((noinline, noipa)) uint64_t alu_target(uint64_t x) {
  asm volatile("" ::: "memory");
  return x ^ 0x5a;
}

constexpr int kSlots = 16;

struct Expected {
  uint64_t v[kSlots];
};

Expected compute(uint64_t x) {
  Expected e{};
  e.v[0] = (x + 7) * 3;
  e.v[1] = x >> 4;
  e.v[2] = static_cast<uint64_t>(static_cast<int64_t>(x) >> 4);
  e.v[3] = static_cast<uint32_t>(static_cast<uint32_t>(x) + 0xFFFFFFFFu);  // ALU32 zero-extends
  e.v[4] = x > 1000 ? 1 : 2;
  e.v[5] = static_cast<uint32_t>(x) == 0x89abcdefu ? 3 : 4;  // JMP32 sees the low half only
  e.v[6] = x & 0xff;                                         // byte load (little endian)
  e.v[7] = (x >> 16) & 0xffff;                               // half load at +2
  e.v[8] = 0x1122334455667788ull;
  e.v[9] = -x;
  e.v[10] = ((x ^ 0xf0f0) | 0x1) & 0xffffff;
  e.v[11] = x / 10;
  e.v[12] = x % 10;
  e.v[13] = x << 3;
  e.v[14] = static_cast<int64_t>(x) < -5 ? 5 : 6;  // signed compare
  e.v[15] = 0xdead;                                // ST of an immediate
  return e;
}

TEST(BpfAssembler, OperationsComputeWhatTheyNameInTheKernel) {
  auto values = Map::create({.type = MapType::Array,
                             .name = "alu_out",
                             .key_size = 4,
                             .value_size = sizeof(Expected),
                             .max_entries = 1});
  ASSERT_TRUE(values) << values.error().message;

  Assembler a;
  Label out = a.new_label();
  a.mov64(r6, r1);
  a.st(Size::W, r10, -4, 0);
  a.ld_map_fd(r1, values->fd());
  a.mov64(r2, r10);
  a.add64(r2, -4);
  a.call(Helper::MapLookupElem);
  a.jmp(JmpOp::Jeq, r0, 0, out);
  a.mov64(r7, r0);
  a.ldx(Size::DW, r8, r6, *pt_regs_offset(Reg::RDI));  // x
  auto slot = [](int i) { return static_cast<int16_t>(8 * i); };

  a.mov64(r1, r8);  // 0
  a.add64(r1, 7);
  a.alu64(AluOp::Mul, r1, 3);
  a.stx(Size::DW, r7, slot(0), r1);
  a.mov64(r1, r8);  // 1
  a.alu64(AluOp::Rsh, r1, 4);
  a.stx(Size::DW, r7, slot(1), r1);
  a.mov64(r1, r8);  // 2
  a.alu64(AluOp::Arsh, r1, 4);
  a.stx(Size::DW, r7, slot(2), r1);
  a.mov64(r1, r8);  // 3
  a.alu32(AluOp::Add, r1, -1);
  a.stx(Size::DW, r7, slot(3), r1);
  {  // 4
    Label big = a.new_label(), next = a.new_label();
    a.mov64(r2, 1000);
    a.jmp(JmpOp::Jgt, r8, r2, big);
    a.st(Size::DW, r7, slot(4), 2);
    a.ja(next);
    a.bind(big);
    a.st(Size::DW, r7, slot(4), 1);
    a.bind(next);
  }
  {  // 5
    Label eq = a.new_label(), next = a.new_label();
    a.jmp32(JmpOp::Jeq, r8, static_cast<int32_t>(0x89abcdefu), eq);
    a.st(Size::DW, r7, slot(5), 4);
    a.ja(next);
    a.bind(eq);
    a.st(Size::DW, r7, slot(5), 3);
    a.bind(next);
  }
  a.stx(Size::DW, r10, -16, r8);  // 6, 7: narrow loads of x spilled to the stack
  a.ldx(Size::B, r1, r10, -16);
  a.stx(Size::DW, r7, slot(6), r1);
  a.ldx(Size::H, r1, r10, -14);
  a.stx(Size::DW, r7, slot(7), r1);
  a.ld_imm64(r1, 0x1122334455667788ull);  // 8
  a.stx(Size::DW, r7, slot(8), r1);
  a.mov64(r1, r8);  // 9
  a.neg64(r1);
  a.stx(Size::DW, r7, slot(9), r1);
  a.mov64(r1, r8);  // 10
  a.alu64(AluOp::Xor, r1, 0xf0f0);
  a.alu64(AluOp::Or, r1, 1);
  a.alu64(AluOp::And, r1, 0xffffff);
  a.stx(Size::DW, r7, slot(10), r1);
  a.mov64(r1, r8);  // 11
  a.alu64(AluOp::Div, r1, 10);
  a.stx(Size::DW, r7, slot(11), r1);
  a.mov64(r1, r8);  // 12
  a.mov64(r2, 10);
  a.alu64(AluOp::Mod, r1, r2);
  a.stx(Size::DW, r7, slot(12), r1);
  a.mov64(r1, r8);  // 13
  a.alu64(AluOp::Lsh, r1, 3);
  a.stx(Size::DW, r7, slot(13), r1);
  {  // 14
    Label lt = a.new_label(), next = a.new_label();
    a.jmp(JmpOp::Jslt, r8, -5, lt);
    a.st(Size::DW, r7, slot(14), 6);
    a.ja(next);
    a.bind(lt);
    a.st(Size::DW, r7, slot(14), 5);
    a.bind(next);
  }
  a.st(Size::DW, r7, slot(15), 0xdead);  // 15
  a.bind(out);
  a.mov64(r0, 0);
  a.exit();
  auto insns = a.finish();
  ASSERT_TRUE(insns) << insns.error().message;
  auto prog = Program::load("alu", *insns);
  ASSERT_TRUE(prog) << prog.error().message;
  auto site = testing::site_of_function(&alu_target);
  ASSERT_TRUE(site) << site.error().message;
  auto link =
      UprobeLink::attach(*prog, {.binary = site->binary, .offset = site->offset, .pid = getpid()});
  ASSERT_TRUE(link) << link.error().message;

  for (uint64_t x : {uint64_t{0}, uint64_t{5}, uint64_t{1001}, uint64_t{0x0123456789abcdefull},
                     static_cast<uint64_t>(-6), static_cast<uint64_t>(-1), uint64_t{0x89abcdef}}) {
    alu_target(x);
    auto got = values->get<Expected>(uint32_t{0});
    ASSERT_TRUE(got && *got);
    Expected want = compute(x);
    for (int i = 0; i < kSlots; ++i)
      EXPECT_EQ((**got).v[i], want.v[i]) << "slot " << i << " for x=" << std::hex << x;
  }
}

}  // namespace
}  // namespace dynprobe::bpf

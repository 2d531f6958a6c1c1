#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "core/elf_file.h"
#include "core/frame_cfa.h"

// A function whose CFA rule is known instruction by instruction: the
// assembler writes its .eh_frame from these directives (PC-relative
// pointers, as in every GCC/clang binary).
asm(R"(
  .text
  .globl dynprobe_cfa_test_fn
  .type dynprobe_cfa_test_fn, @function
dynprobe_cfa_test_fn:
  .cfi_startproc
  push %rbp
  .cfi_def_cfa_offset 16
  sub $40, %rsp
  .cfi_def_cfa_offset 56
  add $40, %rsp
  .cfi_def_cfa_offset 16
  pop %rbp
  .cfi_def_cfa_offset 8
  ret
  .cfi_endproc
  .size dynprobe_cfa_test_fn, .-dynprobe_cfa_test_fn
)");

namespace dynprobe {
namespace {

void put32(std::vector<uint8_t>& b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void put64(std::vector<uint8_t>& b, uint64_t v) {
  for (int i = 0; i < 8; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void set_length(std::vector<uint8_t>& b, size_t start) {
  auto len = static_cast<uint32_t>(b.size() - start - 4);
  for (int i = 0; i < 4; ++i) b[start + i] = static_cast<uint8_t>(len >> (8 * i));
}

// A .debug_frame the way Go writes it: one CIE (CFA = RSP+8, RA at CFA-8),
// FDEs that move the CFA offset as the prologue moves SP.
std::vector<uint8_t> go_like_debug_frame() {
  std::vector<uint8_t> b;
  put32(b, 0);                                // length, set below
  put32(b, 0xffffffff);                       // CIE id
  b.insert(b.end(), {1, 0, 1, 0x78, 16});     // version 1, "", code align 1, data align -8, RA r16
  b.insert(b.end(), {0x0c, 7, 8});            // DW_CFA_def_cfa RSP+8
  b.insert(b.end(), {0x90, 1});               // DW_CFA_offset r16 at CFA-8
  while ((b.size() - 4) % 8) b.push_back(0);  // DW_CFA_nop padding
  set_length(b, 0);

  size_t fde = b.size();
  put32(b, 0);
  put32(b, 0);  // CIE pointer: the CIE at offset 0
  put64(b, 0x401000);
  put64(b, 0x40);
  b.insert(b.end(), {0x44, 0x0e, 16});  // +4: CFA = RSP+16 (push)
  b.insert(b.end(), {0x44, 0x0e, 96});  // +4: CFA = RSP+96 (sub $80)
  b.insert(b.end(), {0x60, 0x0d, 6});   // +32: CFA = RBP+96 (frame pointer)
  while ((b.size() - fde - 4) % 8) b.push_back(0);
  set_length(b, fde);

  // A frameless leaf: the CIE's rule holds throughout.
  fde = b.size();
  put32(b, 0);
  put32(b, 0);
  put64(b, 0x402000);
  put64(b, 0x10);
  set_length(b, fde);
  return b;
}

TEST(FrameTable, CfaOffsetFollowsThePrologue) {
  auto bytes = go_like_debug_frame();
  auto t = FrameTable::parse(bytes, /*eh=*/false, 0);
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->fde_count(), 2u);
  auto at = [&](uint64_t pc) { return t->cfa_sp_offset(pc); };
  EXPECT_EQ(at(0x401000).value_or(-1), 8);
  EXPECT_EQ(at(0x401003).value_or(-1), 8);
  EXPECT_EQ(at(0x401004).value_or(-1), 16);
  EXPECT_EQ(at(0x401008).value_or(-1), 96);
  EXPECT_EQ(at(0x401027).value_or(-1), 96);
  EXPECT_EQ(at(0x402000).value_or(-1), 8);
  EXPECT_EQ(at(0x40200f).value_or(-1), 8);
}

TEST(FrameTable, FramePointerRuleAndUncoveredPcsAreErrors) {
  auto bytes = go_like_debug_frame();
  auto t = FrameTable::parse(bytes, false, 0);
  ASSERT_TRUE(t);
  auto rbp = t->cfa_sp_offset(0x401028);
  ASSERT_FALSE(rbp);
  EXPECT_NE(rbp.error().message.find("RBP+96"), std::string::npos) << rbp.error().message;
  EXPECT_NE(rbp.error().message.find("not SP-relative"), std::string::npos);
  for (uint64_t pc : {0x400fffULL, 0x401040ULL, 0x401fffULL, 0x402010ULL, 0ULL}) {
    auto r = t->cfa_sp_offset(pc);
    ASSERT_FALSE(r) << std::hex << pc;
    EXPECT_NE(r.error().message.find("no call frame information covers"), std::string::npos);
  }
}

TEST(FrameTable, EmptyAndMalformedSections) {
  auto empty = FrameTable::parse({}, false, 0);
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->fde_count(), 0u);
  EXPECT_FALSE(empty->cfa_sp_offset(0x1000));

  // A CIE whose length runs past the section.
  std::vector<uint8_t> bad = {0x40, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 1, 0};
  auto t = FrameTable::parse(bad, false, 0);
  EXPECT_FALSE(t);
}

TEST(FrameTable, ReadsThisBinarysEhFrame) {
  auto elf = ElfFile::open("/proc/self/exe");
  ASSERT_TRUE(elf) << elf.error().message;
  const Symbol* fn = elf->symbol("dynprobe_cfa_test_fn");
  ASSERT_NE(fn, nullptr);
  auto t = FrameTable::load(*elf, nullptr);
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_GT(t->fde_count(), 100u);
  // push %rbp (1 byte), sub $40,%rsp (4), add $40,%rsp (4), pop %rbp (1), ret.
  const uint64_t a = fn->addr;
  EXPECT_EQ(t->cfa_sp_offset(a).value_or(-1), 8);
  EXPECT_EQ(t->cfa_sp_offset(a + 1).value_or(-1), 16);
  EXPECT_EQ(t->cfa_sp_offset(a + 5).value_or(-1), 56);
  EXPECT_EQ(t->cfa_sp_offset(a + 9).value_or(-1), 16);
  EXPECT_EQ(t->cfa_sp_offset(a + 10).value_or(-1), 8);
}

}  // namespace
}  // namespace dynprobe

// DWARF location expressions, hand-assembled, evaluated into Locations.
#include <gtest/gtest.h>
#include <llvm/BinaryFormat/Dwarf.h>

#include <cstdint>
#include <vector>

#include "core/dwarf_location.h"

namespace dynprobe {
namespace {

namespace dw = llvm::dwarf;

using Bytes = std::vector<uint8_t>;

Location eval(const Bytes& b, uint32_t size, const FrameBase& fb = {}) {
  return evaluate_location(b, size, fb);
}

TEST(DwarfLocation, RegisterPiecesInValueOrder) {
  // A Go string in RAX (ptr) and RBX (len): DW_OP_reg0 piece 8, DW_OP_reg3 piece 8.
  Location loc = eval({dw::DW_OP_reg0, dw::DW_OP_piece, 8, dw::DW_OP_reg3, dw::DW_OP_piece, 8}, 16);
  ASSERT_EQ(loc.pieces.size(), 2u);
  EXPECT_EQ(loc.pieces[0], Piece::in_register(Reg::RAX, 8, 0));
  EXPECT_EQ(loc.pieces[1], Piece::in_register(Reg::RBX, 8, 8));
  EXPECT_EQ(to_string(loc), "RAX,RBX");
  EXPECT_TRUE(loc.fully_available());
}

TEST(DwarfLocation, WholeValueInRegisterTakesValueSize) {
  Location loc = eval({dw::DW_OP_reg5}, 8);
  ASSERT_EQ(loc.pieces.size(), 1u);
  EXPECT_EQ(loc.pieces[0], Piece::in_register(Reg::RDI, 8, 0));
}

TEST(DwarfLocation, RegxAndVectorRegisters) {
  // DWARF register 17 is XMM0 on x86-64.
  Location loc = eval({dw::DW_OP_regx, 17}, 8);
  ASSERT_EQ(loc.pieces.size(), 1u);
  EXPECT_EQ(loc.pieces[0].kind, PieceKind::Register);
  EXPECT_EQ(loc.pieces[0].reg, Reg::XMM0);
  // A register number outside the x86-64 set cannot be read.
  Location bad = eval({dw::DW_OP_regx, 0x70}, 8);
  ASSERT_EQ(bad.pieces.size(), 1u);
  EXPECT_EQ(bad.pieces[0].kind, PieceKind::Unavailable);
}

TEST(DwarfLocation, CallFrameCfa) {
  Location loc = eval({dw::DW_OP_call_frame_cfa}, 8);
  ASSERT_EQ(loc.pieces.size(), 1u);
  EXPECT_EQ(loc.pieces[0], Piece::at_cfa(0, 8, 0));
  EXPECT_EQ(to_string(loc), "CFA+0");

  // CFA + consts 16 + plus, and CFA + plus_uconst 24.
  Location plus = eval({dw::DW_OP_call_frame_cfa, dw::DW_OP_consts, 16, dw::DW_OP_plus}, 8);
  ASSERT_EQ(plus.pieces.size(), 1u);
  EXPECT_EQ(plus.pieces[0], Piece::at_cfa(16, 8, 0));
  Location uconst = eval({dw::DW_OP_call_frame_cfa, dw::DW_OP_plus_uconst, 24}, 8);
  ASSERT_EQ(uconst.pieces.size(), 1u);
  EXPECT_EQ(uconst.pieces[0], Piece::at_cfa(24, 8, 0));
}

TEST(DwarfLocation, FbregAgainstCfaFrameBase) {
  // DW_OP_fbreg -24 (SLEB128 0x68) with Go's frame base DW_OP_call_frame_cfa.
  FrameBase cfa = evaluate_frame_base(Bytes{dw::DW_OP_call_frame_cfa});
  EXPECT_EQ(cfa.kind, FrameBase::Kind::CFA);
  Location loc = eval({dw::DW_OP_fbreg, 0x68}, 8, cfa);
  ASSERT_EQ(loc.pieces.size(), 1u);
  EXPECT_EQ(loc.pieces[0], Piece::at_cfa(-24, 8, 0));
  EXPECT_EQ(to_string(loc), "CFA-24");
}

TEST(DwarfLocation, FbregAgainstRegisterFrameBase) {
  // clang's frame base DW_OP_reg6 (RBP): fbreg -8 is 8 bytes below RBP.
  FrameBase rbp = evaluate_frame_base(Bytes{dw::DW_OP_reg6});
  EXPECT_EQ(rbp.kind, FrameBase::Kind::Register);
  EXPECT_EQ(rbp.reg, Reg::RBP);
  Location loc = eval({dw::DW_OP_fbreg, 0x78}, 4, rbp);
  ASSERT_EQ(loc.pieces.size(), 1u);
  EXPECT_EQ(loc.pieces[0].kind, PieceKind::Memory);
  EXPECT_EQ(loc.pieces[0].base, MemBase::Register);
  EXPECT_EQ(loc.pieces[0].reg, Reg::RBP);
  EXPECT_EQ(loc.pieces[0].offset, -8);

  // Frame base DW_OP_breg7 +16: fbreg 8 is RSP+24.
  FrameBase rsp = evaluate_frame_base(Bytes{dw::DW_OP_breg7, 16});
  EXPECT_EQ(rsp.kind, FrameBase::Kind::Register);
  EXPECT_EQ(rsp.reg, Reg::RSP);
  EXPECT_EQ(rsp.offset, 16);
  Location sp = eval({dw::DW_OP_fbreg, 8}, 8, rsp);
  ASSERT_EQ(sp.pieces.size(), 1u);
  EXPECT_EQ(sp.pieces[0], Piece::at_stack(24, 8, 0));
}

TEST(DwarfLocation, FbregWithUnknownFrameBaseIsUnavailable) {
  Location loc = eval({dw::DW_OP_fbreg, 8}, 8, FrameBase{.kind = FrameBase::Kind::Unknown});
  ASSERT_EQ(loc.pieces.size(), 1u);
  EXPECT_EQ(loc.pieces[0].kind, PieceKind::Unavailable);
}

TEST(DwarfLocation, BregRspIsStackSlotOtherBregIsMemoryViaRegister) {
  Location sp = eval({dw::DW_OP_breg7, 8}, 8);
  ASSERT_EQ(sp.pieces.size(), 1u);
  EXPECT_EQ(sp.pieces[0], Piece::at_stack(8, 8, 0));
  EXPECT_EQ(to_string(sp), "8(SP)");

  // DW_OP_breg3 -16 (SLEB128 0x70): memory at RBX-16.
  Location rbx = eval({dw::DW_OP_breg3, 0x70}, 8);
  ASSERT_EQ(rbx.pieces.size(), 1u);
  EXPECT_EQ(rbx.pieces[0].kind, PieceKind::Memory);
  EXPECT_EQ(rbx.pieces[0].base, MemBase::Register);
  EXPECT_EQ(rbx.pieces[0].reg, Reg::RBX);
  EXPECT_EQ(rbx.pieces[0].offset, -16);

  // DW_OP_bregx 4 (RSI) +32.
  Location rsi = eval({dw::DW_OP_bregx, 4, 32}, 8);
  ASSERT_EQ(rsi.pieces.size(), 1u);
  EXPECT_EQ(rsi.pieces[0].reg, Reg::RSI);
  EXPECT_EQ(rsi.pieces[0].offset, 32);
}

TEST(DwarfLocation, StaticAddress) {
  Location loc = eval({dw::DW_OP_addr, 0x00, 0x10, 0x4c, 0x00, 0x00, 0x00, 0x00, 0x00}, 16);
  ASSERT_EQ(loc.pieces.size(), 1u);
  EXPECT_EQ(loc.pieces[0].kind, PieceKind::Memory);
  EXPECT_EQ(loc.pieces[0].base, MemBase::Absolute);
  EXPECT_EQ(loc.pieces[0].offset, 0x4c1000);
  EXPECT_EQ(loc.pieces[0].size, 16u);
}

TEST(DwarfLocation, ConstantsWithStackValue) {
  Location lit = eval({dw::DW_OP_lit5, dw::DW_OP_stack_value}, 8);
  ASSERT_EQ(lit.pieces.size(), 1u);
  EXPECT_EQ(lit.pieces[0].kind, PieceKind::Constant);
  EXPECT_EQ(lit.pieces[0].constant, 5u);

  Location c2 = eval({dw::DW_OP_const2u, 0x34, 0x12, dw::DW_OP_stack_value}, 2);
  ASSERT_EQ(c2.pieces.size(), 1u);
  EXPECT_EQ(c2.pieces[0].constant, 0x1234u);

  // consts -1 (SLEB128 0x7f).
  Location neg = eval({dw::DW_OP_consts, 0x7f, dw::DW_OP_stack_value}, 8);
  ASSERT_EQ(neg.pieces.size(), 1u);
  EXPECT_EQ(neg.pieces[0].constant, UINT64_MAX);

  // lit2 lit3 plus: 5.
  Location sum = eval({dw::DW_OP_lit2, dw::DW_OP_lit3, dw::DW_OP_plus, dw::DW_OP_stack_value}, 8);
  ASSERT_EQ(sum.pieces.size(), 1u);
  EXPECT_EQ(sum.pieces[0].constant, 5u);
}

TEST(DwarfLocation, ComputedRegisterValueIsUnavailable) {
  // breg0 +8, stack_value: the value RAX+8 is not stored anywhere we can read.
  Location loc = eval({dw::DW_OP_breg0, 8, dw::DW_OP_stack_value}, 8);
  ASSERT_EQ(loc.pieces.size(), 1u);
  EXPECT_EQ(loc.pieces[0].kind, PieceKind::Unavailable);
}

TEST(DwarfLocation, ImplicitValue) {
  Location loc = eval({dw::DW_OP_implicit_value, 4, 0x78, 0x56, 0x34, 0x12}, 4);
  ASSERT_EQ(loc.pieces.size(), 1u);
  EXPECT_EQ(loc.pieces[0].kind, PieceKind::Constant);
  EXPECT_EQ(loc.pieces[0].constant, 0x12345678u);

  Bytes wide = {dw::DW_OP_implicit_value, 16};
  wide.resize(wide.size() + 16, 0xaa);
  Location big = eval(wide, 16);
  ASSERT_EQ(big.pieces.size(), 1u);
  EXPECT_EQ(big.pieces[0].kind, PieceKind::Unavailable);
}

TEST(DwarfLocation, EmptyPieceIsUnavailable) {
  // Go: first word optimized out, second in RBX.
  Location loc = eval({dw::DW_OP_piece, 8, dw::DW_OP_reg3, dw::DW_OP_piece, 8}, 16);
  ASSERT_EQ(loc.pieces.size(), 2u);
  EXPECT_EQ(loc.pieces[0], Piece::unavailable(8, 0));
  EXPECT_EQ(loc.pieces[1], Piece::in_register(Reg::RBX, 8, 8));
  EXPECT_TRUE(loc.available());
  EXPECT_FALSE(loc.fully_available());
}

TEST(DwarfLocation, MixedPiecesKeepOffsets) {
  // Go struct {string; int64; int32} split over two registers and two CFA slots.
  Location loc =
      eval({dw::DW_OP_reg0, dw::DW_OP_piece, 8, dw::DW_OP_reg3, dw::DW_OP_piece, 8, dw::DW_OP_fbreg,
            0x50, dw::DW_OP_piece, 8, dw::DW_OP_fbreg, 0x48, dw::DW_OP_piece, 4},
           32);
  ASSERT_EQ(loc.pieces.size(), 4u);
  EXPECT_EQ(loc.pieces[2], Piece::at_cfa(-48, 8, 16));
  EXPECT_EQ(loc.pieces[3], Piece::at_cfa(-56, 4, 24));
}

TEST(DwarfLocation, UnsupportedOpMakesOnlyItsPieceUnavailable) {
  // DW_OP_breg0 0 DW_OP_deref: the value behind a pointer; no model for it.
  Location loc = eval(
      {dw::DW_OP_breg0, 0, dw::DW_OP_deref, dw::DW_OP_piece, 8, dw::DW_OP_reg1, dw::DW_OP_piece, 8},
      16);
  ASSERT_EQ(loc.pieces.size(), 2u);
  EXPECT_EQ(loc.pieces[0].kind, PieceKind::Unavailable);
  EXPECT_EQ(loc.pieces[1], Piece::in_register(Reg::RDX, 8, 8));

  Location entry = eval({dw::DW_OP_entry_value, 1, dw::DW_OP_reg5, dw::DW_OP_stack_value}, 8);
  ASSERT_EQ(entry.pieces.size(), 1u);
  EXPECT_EQ(entry.pieces[0].kind, PieceKind::Unavailable);
}

TEST(DwarfLocation, MalformedInputDoesNotCrash) {
  // Truncated DW_OP_addr, an undefined opcode, and an empty expression.
  Location cut = eval({dw::DW_OP_addr, 0x10, 0x20}, 8);
  ASSERT_EQ(cut.pieces.size(), 1u);
  EXPECT_EQ(cut.pieces[0].kind, PieceKind::Unavailable);
  Location junk = eval({0xff, 0x01}, 8);
  ASSERT_EQ(junk.pieces.size(), 1u);
  EXPECT_EQ(junk.pieces[0].kind, PieceKind::Unavailable);
  Location empty = eval({}, 8);
  ASSERT_EQ(empty.pieces.size(), 1u);
  EXPECT_EQ(empty.pieces[0], Piece::unavailable(8, 0));
  EXPECT_EQ(to_string(empty), "<optimized out>");
}

}  // namespace
}  // namespace dynprobe

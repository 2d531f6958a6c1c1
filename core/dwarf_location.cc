#include "core/dwarf_location.h"

#include <llvm/BinaryFormat/Dwarf.h>
#include <llvm/DebugInfo/DWARF/DWARFDie.h>
#include <llvm/DebugInfo/DWARF/DWARFExpression.h>
#include <llvm/DebugInfo/DWARF/DWARFLocationExpression.h>
#include <llvm/DebugInfo/DWARF/DWARFUnit.h>
#include <llvm/Support/DataExtractor.h>

#include <limits>
#include <optional>

namespace dynprobe {

namespace {

using Op = llvm::DWARFExpression::Operation;

// One entry of the DWARF expression stack, kept symbolic: the model can only
// express addresses of the form base + constant.
struct StackEntry {
  enum class Kind : uint8_t { Const, RegPlus, CfaPlus, Addr };
  Kind kind = Kind::Const;
  Reg reg = Reg::RAX;
  int64_t value = 0;
};

// State of the piece being described; reset after each DW_OP_piece.
struct PieceState {
  std::vector<StackEntry> stack;
  std::optional<Reg> reg;            // DW_OP_reg*: the value is in a register
  std::optional<uint64_t> implicit;  // DW_OP_implicit_value
  bool stack_value = false;          // DW_OP_stack_value: the top is the value itself
  bool unsupported = false;          // an op the model cannot follow

  bool empty() const { return stack.empty() && !reg && !implicit && !unsupported; }
};

Piece constant_piece(uint64_t v, uint32_t size, uint32_t value_offset) {
  Piece p;
  p.kind = PieceKind::Constant;
  p.size = size;
  p.constant = v;
  p.value_offset = value_offset;
  return p;
}

Piece memory_piece(const StackEntry& e, uint32_t size, uint32_t value_offset) {
  switch (e.kind) {
    case StackEntry::Kind::CfaPlus:
      return Piece::at_cfa(e.value, size, value_offset);
    case StackEntry::Kind::RegPlus:
      if (e.reg == Reg::RSP) return Piece::at_stack(e.value, size, value_offset);
      return Piece{.kind = PieceKind::Memory,
                   .size = size,
                   .reg = e.reg,
                   .base = MemBase::Register,
                   .offset = e.value,
                   .value_offset = value_offset};
    case StackEntry::Kind::Const:
    case StackEntry::Kind::Addr:
      return Piece{.kind = PieceKind::Memory,
                   .size = size,
                   .base = MemBase::Absolute,
                   .offset = e.value,
                   .value_offset = value_offset};
  }
  return Piece::unavailable(size, value_offset);
}

Piece finish_piece(const PieceState& st, uint32_t size, uint32_t value_offset) {
  if (st.unsupported) return Piece::unavailable(size, value_offset);
  if (st.reg) return Piece::in_register(*st.reg, size, value_offset);
  if (st.implicit) return constant_piece(*st.implicit, size, value_offset);
  if (st.stack.empty()) return Piece::unavailable(size, value_offset);  // DW_OP_piece alone
  const StackEntry& top = st.stack.back();
  if (st.stack_value) {
    // A value computed from registers (e.g. RAX+8) has no place to read it from.
    if (top.kind == StackEntry::Kind::Const)
      return constant_piece(static_cast<uint64_t>(top.value), size, value_offset);
    return Piece::unavailable(size, value_offset);
  }
  return memory_piece(top, size, value_offset);
}

std::optional<Reg> dwarf_reg(uint64_t n) { return reg_from_dwarf(n); }

// Applies one operation to the piece state. Returns false when the op ends the
// piece (DW_OP_piece), with its size in *piece_size.
bool apply(const Op& op, std::span<const uint8_t> expr, const FrameBase& fb, PieceState& st,
           uint64_t* piece_size) {
  namespace dw = llvm::dwarf;
  const uint8_t code = op.getCode();
  auto push = [&](StackEntry e) { st.stack.push_back(e); };
  auto push_reg = [&](uint64_t regno, int64_t off) {
    auto r = dwarf_reg(regno);
    if (!r) {
      st.unsupported = true;
      return;
    }
    push({StackEntry::Kind::RegPlus, *r, off});
  };
  auto operand = [&](unsigned i) { return op.getRawOperand(i); };
  auto soperand = [&](unsigned i) { return static_cast<int64_t>(op.getRawOperand(i)); };

  if (code >= dw::DW_OP_lit0 && code <= dw::DW_OP_lit31) {
    push({StackEntry::Kind::Const, Reg::RAX, code - dw::DW_OP_lit0});
    return true;
  }
  if (code >= dw::DW_OP_reg0 && code <= dw::DW_OP_reg31) {
    st.reg = dwarf_reg(code - dw::DW_OP_reg0);
    if (!st.reg) st.unsupported = true;
    return true;
  }
  if (code >= dw::DW_OP_breg0 && code <= dw::DW_OP_breg31) {
    push_reg(code - dw::DW_OP_breg0, soperand(0));
    return true;
  }
  switch (code) {
    case dw::DW_OP_piece:
      *piece_size = operand(0);
      return false;
    case dw::DW_OP_regx:
      st.reg = dwarf_reg(operand(0));
      if (!st.reg) st.unsupported = true;
      return true;
    case dw::DW_OP_bregx:
      push_reg(operand(0), soperand(1));
      return true;
    case dw::DW_OP_const1u:
    case dw::DW_OP_const2u:
    case dw::DW_OP_const4u:
    case dw::DW_OP_const8u:
    case dw::DW_OP_constu:
    case dw::DW_OP_const1s:
    case dw::DW_OP_const2s:
    case dw::DW_OP_const4s:
    case dw::DW_OP_const8s:
    case dw::DW_OP_consts:
      // LLVM stores signed operands sign-extended, so one cast serves both.
      push({StackEntry::Kind::Const, Reg::RAX, soperand(0)});
      return true;
    case dw::DW_OP_addr:
      push({StackEntry::Kind::Addr, Reg::RAX, soperand(0)});
      return true;
    case dw::DW_OP_call_frame_cfa:
      push({StackEntry::Kind::CfaPlus, Reg::RAX, 0});
      return true;
    case dw::DW_OP_fbreg:
      switch (fb.kind) {
        case FrameBase::Kind::CFA:
          push({StackEntry::Kind::CfaPlus, Reg::RAX, fb.offset + soperand(0)});
          return true;
        case FrameBase::Kind::Register:
          push({StackEntry::Kind::RegPlus, fb.reg, fb.offset + soperand(0)});
          return true;
        case FrameBase::Kind::Unknown:
          st.unsupported = true;
          return true;
      }
      return true;
    case dw::DW_OP_plus_uconst:
      if (st.stack.empty()) {
        st.unsupported = true;
      } else {
        st.stack.back().value += soperand(0);
      }
      return true;
    case dw::DW_OP_plus:
    case dw::DW_OP_minus: {
      if (st.stack.size() < 2) {
        st.unsupported = true;
        return true;
      }
      StackEntry b = st.stack.back();
      st.stack.pop_back();
      StackEntry& a = st.stack.back();
      if (b.kind == StackEntry::Kind::Const) {
        a.value = code == dw::DW_OP_plus ? a.value + b.value : a.value - b.value;
      } else if (code == dw::DW_OP_plus && a.kind == StackEntry::Kind::Const) {
        b.value += a.value;
        a = b;
      } else {
        st.unsupported = true;
      }
      return true;
    }
    case dw::DW_OP_stack_value:
      st.stack_value = true;
      return true;
    case dw::DW_OP_implicit_value: {
      uint64_t size = operand(0);
      uint64_t at = operand(1);  // LLVM records the block's offset
      if (size == 0 || size > 8 || at + size > expr.size()) {
        st.unsupported = true;
        return true;
      }
      uint64_t v = 0;
      for (uint64_t i = 0; i < size; ++i) v |= static_cast<uint64_t>(expr[at + i]) << (8 * i);
      st.implicit = v;
      return true;
    }
    case dw::DW_OP_nop:
      return true;
    default:
      st.unsupported = true;
      return true;
  }
}

// LLVM's DataExtractor leaves the offset where it was when an operand runs
// past the end instead of flagging the op; an operand that did not advance
// (or ended past the data) was cut off.
bool truncated(const Op& op, uint64_t op_start, size_t size) {
  if (op.getEndOffset() > size) return true;
  uint64_t prev = op_start + 1;  // after the opcode byte
  for (uint64_t end : op.getOperandEndOffsets()) {
    if (end <= prev || end > size) return true;
    prev = end;
  }
  return false;
}

}  // namespace

Location evaluate_location(std::span<const uint8_t> expr, uint32_t value_size,
                           const FrameBase& frame_base, uint8_t addr_size) {
  Location loc;
  if (expr.empty()) {
    loc.pieces.push_back(Piece::unavailable(value_size));
    return loc;
  }
  llvm::StringRef bytes(reinterpret_cast<const char*>(expr.data()), expr.size());
  llvm::DataExtractor data(bytes, /*IsLittleEndian=*/true, addr_size);
  llvm::DWARFExpression dexpr(data, addr_size);

  PieceState st;
  uint32_t value_offset = 0;
  bool pieced = false;
  uint64_t op_start = 0;
  for (auto it = dexpr.begin(), end = dexpr.end(); it != end; ++it) {
    const Op& op = *it;
    if (op.isError() || truncated(op, op_start, expr.size())) {
      // Nothing after a bad op can be decoded reliably.
      st.unsupported = true;
      break;
    }
    op_start = op.getEndOffset();
    uint64_t piece_size = 0;
    if (!apply(op, expr, frame_base, st, &piece_size)) {
      auto size = static_cast<uint32_t>(piece_size);
      loc.pieces.push_back(finish_piece(st, size, value_offset));
      value_offset += size;
      pieced = true;
      st = PieceState{};
    }
  }
  if (!pieced) {
    loc.pieces.push_back(finish_piece(st, value_size, 0));
  } else if (!st.empty() && value_offset < value_size) {
    // Ops after the last DW_OP_piece describe the rest of the value.
    loc.pieces.push_back(finish_piece(st, value_size - value_offset, value_offset));
  }
  return loc;
}

FrameBase evaluate_frame_base(std::span<const uint8_t> expr, uint8_t addr_size) {
  FrameBase unknown{.kind = FrameBase::Kind::Unknown};
  // Evaluate as a location of a word: a register location means "the frame
  // base is that register's value", a memory location "reg + offset".
  Location loc = evaluate_location(expr, 8, unknown, addr_size);
  if (loc.pieces.size() != 1) return unknown;
  const Piece& p = loc.pieces.front();
  if (p.kind == PieceKind::Register) return {.kind = FrameBase::Kind::Register, .reg = p.reg};
  if (p.kind == PieceKind::Memory && p.base == MemBase::CFA)
    return {.kind = FrameBase::Kind::CFA, .offset = p.offset};
  if (p.kind == PieceKind::Memory && p.base == MemBase::Register)
    return {.kind = FrameBase::Kind::Register, .reg = p.reg, .offset = p.offset};
  return unknown;
}

FrameBase frame_base_of(const llvm::DWARFDie& subprogram) {
  auto attr = subprogram.find(llvm::dwarf::DW_AT_frame_base);
  if (!attr) return {};
  auto block = attr->getAsBlock();
  if (!block) return {.kind = FrameBase::Kind::Unknown};
  return evaluate_frame_base(*block, subprogram.getDwarfUnit()->getAddressByteSize());
}

std::vector<LocationRange> variable_locations(const llvm::DWARFDie& var, uint32_t value_size,
                                              const FrameBase& frame_base, bool* has_location,
                                              std::vector<LocationRange>* points) {
  std::vector<LocationRange> out;
  bool present = var.find(llvm::dwarf::DW_AT_location).has_value();
  if (has_location) *has_location = present;
  if (!present) return out;
  auto exprs = var.getLocations(llvm::dwarf::DW_AT_location);
  if (!exprs) {
    llvm::consumeError(exprs.takeError());
    return out;
  }
  uint8_t addr_size = var.getDwarfUnit()->getAddressByteSize();
  if (exprs->size() == 1 && !exprs->front().Range && exprs->front().Expr.empty()) {
    // Go writes an empty expression for every result: it says nothing.
    if (has_location) *has_location = false;
    return out;
  }
  for (const llvm::DWARFLocationExpression& e : *exprs) {
    LocationRange r;
    if (e.Range) {
      if (e.Range->HighPC == e.Range->LowPC && points && e.Range->LowPC != 0)
        points->push_back({e.Range->LowPC, e.Range->LowPC,
                           evaluate_location(e.Expr, value_size, frame_base, addr_size)});
      if (e.Range->HighPC <= e.Range->LowPC) continue;
      r.low = e.Range->LowPC;
      r.high = e.Range->HighPC;
    } else {
      r.low = 0;
      r.high = std::numeric_limits<uint64_t>::max();
    }
    r.location = evaluate_location(e.Expr, value_size, frame_base, addr_size);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace dynprobe

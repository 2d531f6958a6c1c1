#include "core/plan/capture_ops.h"

#include <algorithm>

#include "core/plan/planner.h"

namespace dynprobe {

std::optional<Piece> addressed_by_register(const Location& loc, uint32_t size) {
  if (loc.pieces.size() != 1) return std::nullopt;
  const Piece& p = loc.pieces.front();
  if (p.kind != PieceKind::Memory || p.base != MemBase::Register || p.reg == Reg::RSP ||
      is_vector_reg(p.reg) || p.value_offset != 0 || (p.size != 0 && p.size < size) || size == 0)
    return std::nullopt;
  return p;
}

std::vector<CaptureOp> capture_ops_for(const Location& location, uint32_t value_size,
                                       uint32_t record_offset, uint32_t value_index,
                                       PlannedValue& value) {
  std::vector<CaptureOp> ops;
  value.available = location.available();
  if (!value.available)
    value.unavailable_reason = location.empty() ? "no location" : "optimized out";
  auto unavailable = [&](std::string why) {
    value.available = false;
    if (value.unavailable_reason.empty()) value.unavailable_reason = std::move(why);
  };
  for (const Piece& p : location.pieces) {
    uint32_t size = p.size ? p.size : value_size;
    if (p.value_offset >= value_size) continue;
    size = std::min(size, value_size - p.value_offset);
    CaptureOp op{
        .size = size, .record_offset = record_offset + p.value_offset, .value_index = value_index};
    if (p.kind == PieceKind::Register && is_vector_reg(p.reg)) {
      // pt_regs has no vector registers and the task's saved FPU state is
      // stale while the probed thread runs (docs/bpf-backend.md). The rest
      // of the value is still captured; this piece becomes a hole.
      value.holes.push_back({.offset = p.value_offset, .size = size});
      value.holes_reason = std::string(reg_name(p.reg)) + ": vector register, not readable by BPF";
      continue;
    }
    if (p.kind == PieceKind::Register) {
      op.source = CaptureOp::Source::Register;
      op.reg = p.reg;
    } else if (p.kind == PieceKind::Constant && size <= 8) {
      // DW_OP_constu/DW_OP_implicit_value: the compiler knew the value.
      op.source = CaptureOp::Source::Constant;
      op.constant = p.constant;
    } else if (p.kind == PieceKind::Memory && p.base == MemBase::Register && p.reg == Reg::RSP) {
      op.source = CaptureOp::Source::Stack;
      op.sp_offset = p.offset;
    } else if (p.kind == PieceKind::Memory && p.base == MemBase::CFA) {
      // Probes sit at a function's first instruction or at a RET: CFA = SP + 8 there.
      op.source = CaptureOp::Source::Stack;
      op.sp_offset = p.offset + 8;
    } else {
      // Constants, absolute and other register-based memory are not captured
      // yet; the value is reported unavailable rather than guessed.
      unavailable("location " + to_string(p) + " is not captured yet");
      continue;
    }
    CaptureOp* last = ops.empty() ? nullptr : &ops.back();
    if (last && op.source == CaptureOp::Source::Stack && last->source == CaptureOp::Source::Stack &&
        last->sp_offset + last->size == op.sp_offset &&
        last->record_offset + last->size == op.record_offset) {
      last->size += op.size;
      continue;
    }
    ops.push_back(op);
  }
  return ops;
}

}  // namespace dynprobe

#include "abi/entry_dwarf.h"

#include <algorithm>

namespace dynprobe {

namespace {
// At a function's first instruction 0(SP) holds the return address.
constexpr int64_t kFirstStackArg = 8;
}  // namespace

std::optional<Location> dwarf_at_entry(const Variable& v, uint64_t pc,
                                       std::span<const Reg> arg_regs) {
  Location loc = normalized(v.location_at(pc));
  if (!loc.fully_available()) return std::nullopt;
  for (const Piece& p : loc.pieces) {
    if (p.kind == PieceKind::Register) continue;
    if (p.kind != PieceKind::Memory) return std::nullopt;
    if (p.base == MemBase::CFA && p.offset >= 0) continue;
    if (p.base == MemBase::Register && p.reg == Reg::RSP && p.offset >= kFirstStackArg) continue;
    if (p.base == MemBase::Register &&
        std::find(arg_regs.begin(), arg_regs.end(), p.reg) != arg_regs.end())
      continue;
    return std::nullopt;
  }
  return loc;
}

std::string entry_spelling(const Location& loc) {
  Location out = loc;
  for (Piece& p : out.pieces)
    if (p.kind == PieceKind::Memory && p.base == MemBase::CFA)
      p = Piece::at_stack(p.offset + kFirstStackArg, p.size, p.value_offset);
  return to_string(normalized(out));
}

}  // namespace dynprobe

#include "core/location.h"

#include <algorithm>

namespace dynprobe {

Piece Piece::in_register(Reg r, uint32_t size, uint32_t value_offset) {
  return Piece{.kind = PieceKind::Register, .size = size, .reg = r, .value_offset = value_offset};
}

Piece Piece::at_stack(int64_t sp_offset, uint32_t size, uint32_t value_offset) {
  return Piece{.kind = PieceKind::Memory,
               .size = size,
               .reg = Reg::RSP,
               .base = MemBase::Register,
               .offset = sp_offset,
               .value_offset = value_offset};
}

Piece Piece::at_cfa(int64_t cfa_offset, uint32_t size, uint32_t value_offset) {
  return Piece{.kind = PieceKind::Memory,
               .size = size,
               .base = MemBase::CFA,
               .offset = cfa_offset,
               .value_offset = value_offset};
}

Piece Piece::unavailable(uint32_t size, uint32_t value_offset) {
  return Piece{.kind = PieceKind::Unavailable, .size = size, .value_offset = value_offset};
}

bool Location::available() const {
  return std::any_of(pieces.begin(), pieces.end(),
                     [](const Piece& p) { return p.kind != PieceKind::Unavailable; });
}

bool Location::fully_available() const {
  return !pieces.empty() && std::all_of(pieces.begin(), pieces.end(), [](const Piece& p) {
    return p.kind != PieceKind::Unavailable;
  });
}

Location normalized(const Location& loc) {
  Location out;
  for (const Piece& p : loc.pieces) {
    Piece* last = out.pieces.empty() ? nullptr : &out.pieces.back();
    if (last && p.kind == PieceKind::Memory && last->kind == PieceKind::Memory &&
        last->base == p.base && last->reg == p.reg && last->size != 0 &&
        last->offset + last->size == p.offset &&
        last->value_offset + last->size == p.value_offset) {
      last->size += p.size;
      continue;
    }
    out.pieces.push_back(p);
  }
  return out;
}

std::string to_string(const Piece& p) {
  switch (p.kind) {
    case PieceKind::Register:
      return std::string(reg_name(p.reg));
    case PieceKind::Memory:
      switch (p.base) {
        case MemBase::CFA:
          return "CFA" + std::string(p.offset < 0 ? "" : "+") + std::to_string(p.offset);
        case MemBase::Register:
          if (p.reg == Reg::RSP) return std::to_string(p.offset) + "(SP)";
          return std::to_string(p.offset) + "(" + std::string(reg_name(p.reg)) + ")";
        case MemBase::Absolute: {
          char buf[32];
          snprintf(buf, sizeof buf, "[0x%llx]", static_cast<unsigned long long>(p.offset));
          return buf;
        }
      }
      return "?";
    case PieceKind::Constant:
      return "const " + std::to_string(p.constant);
    case PieceKind::Unavailable:
      return "<optimized out>";
  }
  return "?";
}

std::string to_string(const Location& loc) {
  if (loc.pieces.empty()) return "<unknown>";
  if (!loc.available()) return "<optimized out>";
  std::string out;
  for (const Piece& p : loc.pieces) {
    if (!out.empty()) out += ",";
    out += to_string(p);
  }
  return out;
}

}  // namespace dynprobe

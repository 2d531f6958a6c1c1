// The abstract location model: where a value (or each piece of it) lives at
// one PC. DWARF expressions and ABI plugins both produce it; the planner turns
// it into capture operations. A value split across registers (Go's register
// ABI splits structs field by field) is a list of pieces in byte order.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/registers.h"

namespace dynprobe {

enum class PieceKind : uint8_t {
  Register,     // the bytes are (the low bytes of) register `reg`
  Memory,       // the bytes are in memory at base + offset
  Constant,     // the value is `constant` (DW_OP_lit/DW_OP_const + stack_value)
  Unavailable,  // optimized out at this PC
};

enum class MemBase : uint8_t {
  CFA,       // canonical frame address: SP + 8 at a function's first instruction and at RET
  Register,  // the value of register `reg` (RSP for stack slots)
  Absolute,  // a static address (DW_OP_addr), before load bias
};

struct Piece {
  PieceKind kind = PieceKind::Unavailable;
  uint32_t size = 0;  // bytes this piece covers; 0 means the whole value
  Reg reg = Reg::RAX;
  MemBase base = MemBase::CFA;
  int64_t offset = 0;
  uint64_t constant = 0;
  // Byte offset of the piece inside the value (sum of the sizes before it).
  uint32_t value_offset = 0;

  static Piece in_register(Reg r, uint32_t size, uint32_t value_offset = 0);
  static Piece at_stack(int64_t sp_offset, uint32_t size, uint32_t value_offset = 0);
  static Piece at_cfa(int64_t cfa_offset, uint32_t size, uint32_t value_offset = 0);
  static Piece unavailable(uint32_t size, uint32_t value_offset = 0);

  bool operator==(const Piece&) const = default;
};

struct Location {
  std::vector<Piece> pieces;

  bool available() const;  // at least one piece is readable
  bool fully_available() const;
  bool empty() const { return pieces.empty(); }
  bool operator==(const Location&) const = default;
};

// Merges pieces that are adjacent in both memory and the value (DWARF
// describes a stack struct field by field; it is one slot).
Location normalized(const Location& loc);

// "RAX", "8(SP)", "CFA+0", "RAX,RBX,RCX", "<optimized out>": the form
// `describe` prints and tests compare against.
std::string to_string(const Piece& p);
std::string to_string(const Location& loc);

// A location valid for PCs in [low, high) (a DWARF location list entry).
struct LocationRange {
  uint64_t low = 0;
  uint64_t high = 0;  // exclusive; low == 0 && high == ~0 means "everywhere"
  Location location;
};

}  // namespace dynprobe

// DWARF location expressions -> the abstract Location model (core/location.h).
// Operations are decoded by llvm::DWARFExpression; this file only gives them
// a meaning: where each piece of a value lives at one PC. Anything the model
// cannot express (DW_OP_deref, DW_OP_entry_value, computed values) becomes an
// Unavailable piece, never an error.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/location.h"
#include "core/registers.h"

namespace llvm {
class DWARFDie;
}

namespace dynprobe {

// The value DW_OP_fbreg is relative to: the subprogram's DW_AT_frame_base.
// Go and GCC use DW_OP_call_frame_cfa; clang uses a register (RBP or RSP).
struct FrameBase {
  enum class Kind : uint8_t { Unknown, CFA, Register };
  Kind kind = Kind::CFA;
  Reg reg = Reg::RSP;
  int64_t offset = 0;  // the frame base is reg (or CFA) + offset

  bool operator==(const FrameBase&) const = default;
};

// Evaluates a DW_AT_frame_base expression.
FrameBase evaluate_frame_base(std::span<const uint8_t> expr, uint8_t addr_size = 8);

// Evaluates one location expression. `value_size` is the size of the whole
// value (the variable's type); it becomes the size of a location that has no
// DW_OP_piece. An empty expression means "optimized out".
Location evaluate_location(std::span<const uint8_t> expr, uint32_t value_size,
                           const FrameBase& frame_base = {}, uint8_t addr_size = 8);

// DW_AT_location of a variable or parameter DIE, as location list entries with
// absolute [low, high) ranges (empty ranges dropped). A single expression (not
// a list) is one entry valid everywhere: [0, UINT64_MAX). `has_location` tells
// whether DWARF gives any location: false without DW_AT_location and for the
// empty expression Go writes for every result.
// Entries with an empty range ([A, A), location views) go to `points` when
// given, else are dropped.
std::vector<LocationRange> variable_locations(const llvm::DWARFDie& var, uint32_t value_size,
                                              const FrameBase& frame_base, bool* has_location,
                                              std::vector<LocationRange>* points = nullptr);

// The frame base of a subprogram DIE (CFA when the attribute is missing).
FrameBase frame_base_of(const llvm::DWARFDie& subprogram);

}  // namespace dynprobe

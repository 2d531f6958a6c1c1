// The canonical frame address at any PC of a function, from the call frame
// information the compiler wrote: .debug_frame (Go) or .eh_frame (C, C++,
// Rust). Parsing and the CFI state machine are LLVM's (DWARFDebugFrame,
// UnwindTable); this file only answers "CFA = SP + k here?".
//
// At a function's first instruction and at a RET the CFA is SP + 8, which
// the planner knows without asking. Inside a body (where an inlined call
// site is probed) it depends on how far the prologue has moved SP, so a
// DW_OP_fbreg or DW_OP_call_frame_cfa location there needs this table.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "core/result.h"

namespace dynprobe {

class ElfFile;

class FrameTable {
 public:
  // Parses one CFI section. `eh` selects the .eh_frame encoding, whose
  // PC-relative pointers need the section's link-time `address`. An empty
  // section gives an empty table (every lookup fails with a clear reason).
  static Result<FrameTable> parse(std::span<const uint8_t> bytes, bool eh, uint64_t address);

  // .debug_frame of the file holding the DWARF, then .eh_frame of `elf`: Go
  // writes only the former, GCC and clang usually only the latter.
  static Result<FrameTable> load(const ElfFile& elf, const ElfFile* debug_elf);

  FrameTable(FrameTable&&) noexcept;
  FrameTable& operator=(FrameTable&&) noexcept;
  ~FrameTable();

  // k such that CFA = RSP + k at `pc`. Errors: no FDE covers `pc`, or the CFA
  // rule there is not SP-relative (a frame-pointer frame: CFA = RBP + 16),
  // which a probe cannot use without reading RBP-relative memory.
  Result<int64_t> cfa_sp_offset(uint64_t pc) const;

  size_t fde_count() const;

 private:
  struct State;
  explicit FrameTable(std::unique_ptr<State> s);
  std::unique_ptr<State> s_;
};

}  // namespace dynprobe

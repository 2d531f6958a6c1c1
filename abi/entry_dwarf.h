// DWARF locations read at a function's first instruction, for the native
// plugins that cross-check their model with the compiler's description.
#pragma once

#include <optional>
#include <span>
#include <string>

#include "core/function.h"
#include "core/location.h"

namespace dynprobe {

// Where DWARF says `v` is at `pc` (the function's first instruction), when
// that can be true there: registers, the caller's stack (CFA + n, n >= 0, or
// SP + n, n >= 8), or memory addressed by one of `arg_regs` (a value passed
// by reference). Frame slots (CFA - n, RBP - n) are only written by the
// prologue.
std::optional<Location> dwarf_at_entry(const Variable& v, uint64_t pc,
                                       std::span<const Reg> arg_regs);

// The same place spelled one way: CFA + n is (n + 8)(SP) at entry.
std::string entry_spelling(const Location& loc);

}  // namespace dynprobe

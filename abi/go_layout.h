// Go (gc, amd64) layout facts shared by the go_stack and go_register plugins:
// the stack sequence both ABIs lay stack-passed values out in, whether the
// type model describes a value well enough to place it, and how a plugin
// falls back to DWARF when it does not. Section and rule names in comments
// refer to Go's src/cmd/compile/abi-internal.md.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "abi/abi.h"

namespace dynprobe {

inline constexpr uint64_t kGoPtrSize = 8;
// The first release whose gc compiler uses the register ABI on amd64.
inline constexpr GoVersion kGoFirstRegabi{1, 17, 0};
// At a function's first instruction the CALL has pushed the return PC at
// 0(SP), so the caller's first outgoing stack word is at 8(SP). At RET, SP is
// back at that value, so the same offsets hold for results.
inline constexpr int64_t kGoEntryArgsOffset = 8;

constexpr uint64_t align_up(uint64_t x, uint64_t a) { return a <= 1 ? x : (x + a - 1) / a * a; }

// The type sequence S of "Function call argument and result passing": values
// appended in order, each at align(previous end, alignof(T)). Offsets are
// returned relative to SP at entry.
class GoStackSequence {
 public:
  int64_t add(uint64_t size, uint64_t align);
  // The zero-size "pointer-alignment field" between arguments and results.
  void align_to_pointer() { next_ = align_up(next_, kGoPtrSize); }
  int64_t next_sp_offset() const { return kGoEntryArgsOffset + static_cast<int64_t>(next_); }

 private:
  uint64_t next_ = 0;  // bytes of S used so far
};

// True when the type model fixes the value's size, alignment and (for
// register assignment) its breakdown into base values: false for
// TypeKind::Unknown/Void/Union of nonzero size, and for any aggregate that
// contains one or whose element type is missing.
bool go_shape_known(const TypeTable& types, TypeId id);

// One memory piece covering the value at sp_offset; no pieces for size 0.
Location go_stack_location(int64_t sp_offset, uint64_t size);

// A value whose location cannot be told: one Unavailable piece of its size
// (no pieces when the size is 0).
Location go_unavailable_location(uint64_t size);

// The model could not place `v`: use its DWARF location at `pc` when DWARF
// fully describes it there, else say it is unavailable.
ValueLocation go_dwarf_or_unavailable(const Variable& v, uint64_t pc, uint64_t size);

// A gc-compiled Go function (gccgo's "GNU Go" producer follows the SysV ABI).
bool is_gc_go(const BinaryFacts& binary, const Function& fn);

// The Go version from the build info, else from the CU producer
// ("Go cmd/compile go1.19.8; regabi").
std::optional<GoVersion> go_version_of(const BinaryFacts& binary, const Function& fn);

// The assignment algorithm of "Function call argument and result passing",
// parameterized by the register sequences: go_register uses amd64's nine
// integer registers and X0-X14; go_stack uses none, which the spec notes is
// exactly ABI0. Feed it the arguments in order (receiver first), then call
// start_results() and feed it the results.
class GoValueAssigner {
 public:
  GoValueAssigner(const TypeTable& types, std::span<const Reg> int_regs, unsigned float_regs)
      : types_(types), int_regs_(int_regs), float_regs_(float_regs) {}

  // The value's location, or nullopt when the model cannot place it: its type
  // shape is unknown, or an earlier value's was and this one's place depends
  // on it. Zero-size values get an empty location (nothing to read).
  std::optional<Location> place(TypeId id);

  // Steps 4 and 5 of the algorithm: a pointer-alignment field, then I and FP
  // restart at 0 (registers are known again even if an argument's were not).
  void start_results();

 private:
  struct Cursor {
    unsigned ints = 0;
    unsigned floats = 0;
  };
  bool assign_registers(TypeId id, uint64_t value_offset, int depth, std::vector<Piece>& out);
  bool take_int(uint64_t size, uint64_t value_offset, std::vector<Piece>& out);
  bool take_float(uint64_t size, uint64_t value_offset, std::vector<Piece>& out);

  const TypeTable& types_;
  std::span<const Reg> int_regs_;
  unsigned float_regs_;
  Cursor next_;
  GoStackSequence stack_;
  bool registers_known_ = true;
  bool stack_known_ = true;
};

// The gc compiler appends " regabi" to the flags it records after "; " in the
// CU producer when the register ABI is on ("Go cmd/compile go1.19.8; -N -l regabi").
bool go_producer_says_regabi(std::string_view producer);

// The two AbiPlugin answers for a gc-compiled Go function under the
// assignment above with the given register sequences. Parameters the model
// cannot place take their DWARF location at fn.low_pc when it is complete;
// results it cannot place are unavailable (Go emits no result locations at RET).
Result<std::vector<ValueLocation>> go_params_at_entry(const Function& fn, const TypeTable& types,
                                                      std::span<const Reg> int_regs,
                                                      unsigned float_regs);
Result<std::vector<ValueLocation>> go_results_at_return(const Function& fn, const TypeTable& types,
                                                        std::span<const Reg> int_regs,
                                                        unsigned float_regs);

// Every TypeId of params and results indexes `types` (bad input must give an
// error, not a crash).
Status check_go_function(const Function& fn, const TypeTable& types);

}  // namespace dynprobe

// DWARF for one binary, read through LLVM's DWARFContext and turned into the
// abstract models of core/function.h, core/types.h and core/location.h.
// Handles SHF_COMPRESSED and legacy .zdebug_* sections (Go < 1.20 writes the
// latter) and DWARF 4 and 5 (Go writes 5 from 1.25).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/function.h"
#include "core/result.h"
#include "core/types.h"

namespace dynprobe {

class ElfFile;

struct FunctionEntry {
  std::string name;  // fully qualified (Go), demangled qualified name (C++/Rust)
  uint64_t low_pc = 0;
  uint64_t high_pc = 0;
  bool inlined_only = false;  // abstract origin with no out-of-line copy
};

struct LoadOptions {
  bool inline_instances = true;  // scan every CU for DW_TAG_inlined_subroutine of the function
};

class DebugInfo {
 public:
  // Errors: "PATH: no DWARF debug info (stripped?); rebuild without -ldflags=-w/-s
  // or pass --debug-file".
  // The section bytes of `elf` that are not compressed are used in place:
  // `elf` must outlive the DebugInfo (moving the ElfFile is fine).
  static Result<DebugInfo> load(const ElfFile& elf);

  DebugInfo(DebugInfo&&) noexcept;
  DebugInfo& operator=(DebugInfo&&) noexcept;
  ~DebugInfo();

  // Every named DW_TAG_subprogram of every CU (a full scan; cached).
  const std::vector<FunctionEntry>& functions();

  // The out-of-line function whose code contains `pc`; reads only that CU
  // (plus every CU for inline instances when asked).
  Result<Function> function_at(uint64_t pc, const LoadOptions& opts = {});
  // By exact name; falls back to a full scan for functions that exist only inlined.
  Result<Function> function_named(std::string_view name, const LoadOptions& opts = {});

  // A type by name as the language spells it ("runtime.g", "ns::Pt"); the
  // first call indexes the top-level type DIEs of every unit (cached).
  Result<TypeId> type_named(std::string_view name);

  // Types referenced by the Functions and types returned so far.
  const TypeTable& types() const;

 private:
  struct State;
  explicit DebugInfo(std::unique_ptr<State> s);
  std::unique_ptr<State> s_;
};

}  // namespace dynprobe

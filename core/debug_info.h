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
  // Go: DW_AT_name, already fully qualified. C/C++/Rust: enclosing namespaces
  // and classes + the name, without parameters (overloads share a name).
  std::string name;
  uint64_t low_pc = 0;
  uint64_t high_pc = 0;
  bool inlined_only = false;  // abstract origin with no out-of-line copy
};

struct LoadOptions {
  // Find the function's DW_TAG_inlined_subroutine instances in every unit.
  // Units that cannot refer to the function are skipped without parsing, so
  // this costs milliseconds even on large binaries.
  bool inline_instances = true;
};

// The contents of .debug_NAME (or Go's legacy .zdebug_NAME) of `elf`,
// inflated; empty when the file has no such section. For the sections
// DebugInfo itself skips, such as .debug_frame (core/frame_cfa.h).
Result<std::vector<uint8_t>> read_debug_section(const ElfFile& elf, std::string_view name);

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
  // (plus the units holding its inline instances when asked).
  Result<Function> function_at(uint64_t pc, const LoadOptions& opts = {});
  // By exact name, from the functions() index (a full scan on first use);
  // finds functions that exist only inlined (low_pc 0). For the fast path,
  // look the symbol up in the ELF and call function_at.
  Result<Function> function_named(std::string_view name, const LoadOptions& opts = {});

  // A type by name as the language spells it ("runtime.g", "ns::Pt"); the
  // first call indexes the top-level type DIEs of every unit (cached).
  Result<TypeId> type_named(std::string_view name);

  // The Go type whose runtime._type lives at `address` (DW_AT_go_runtime_type,
  // a link-time address): how an interface value's dynamic type is named.
  // Indexed by the same scan as type_named.
  Result<TypeId> type_by_runtime_address(uint64_t address);

  // A pointer to `elem` named "*" + its name, made once: an interface's
  // dynamic type *T when the DWARF has no pointer type of that name (gccgo's
  // pointer types are unnamed).
  TypeId pointer_to(TypeId elem);

  // Types referenced by the Functions and types returned so far.
  const TypeTable& types() const;

 private:
  struct State;
  explicit DebugInfo(std::unique_ptr<State> s);
  std::unique_ptr<State> s_;
};

}  // namespace dynprobe

// What DWARF says about one function: its identity, code ranges, formal
// parameters and results with their types and location lists, and the places
// where the compiler inlined it. Produced by core/dwarf, consumed by abi/ and
// the planner; plain values so they can be copied into a plan freely.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/location.h"
#include "core/types.h"

namespace dynprobe {

enum class Language : uint8_t { Unknown, Go, C, CPlusPlus, Rust };
std::string_view language_name(Language l);

struct AddressRange {
  uint64_t low = 0;
  uint64_t high = 0;  // exclusive
  bool operator==(const AddressRange&) const = default;
};

struct Variable {
  std::string name;
  TypeId type = kNoType;
  bool is_result = false;     // DW_AT_variable_parameter (Go results)
  bool has_location = false;  // DW_AT_location present at all
  // Location list entries. A single expression valid everywhere is one entry
  // with low = 0, high = UINT64_MAX.
  std::vector<LocationRange> locations;
  // Entries whose range is empty, [A, A): GCC's location views bind a value
  // at address A between two views, i.e. before the instruction at A runs.
  // An inlined instance's arguments are often only stated this way at its
  // entry; a probe at A sees that state. Not in `locations`, so nothing
  // else mistakes them for a range.
  std::vector<LocationRange> point_locations;

  // The location at `pc`, or an empty Location when no entry covers it.
  Location location_at(uint64_t pc) const;
};

struct InlineInstance {
  std::vector<AddressRange> ranges;  // first range's low is the entry PC
  uint64_t entry_pc = 0;             // DW_AT_entry_pc, else the lowest address
  std::string caller;                // name of the function it was inlined into
  std::string call_file;
  uint32_t call_line = 0;
  std::vector<Variable> params;  // this instance's own variables (results too)
};

struct Function {
  std::string name;          // fully qualified, as the language spells it
  std::string linkage_name;  // symbol name when it differs (C++/Rust mangled)
  uint64_t low_pc = 0;       // 0 when the function only exists inlined
  uint64_t high_pc = 0;
  std::vector<AddressRange> ranges;
  std::string decl_file;
  uint32_t decl_line = 0;
  std::string cu_name;
  std::string producer;  // DW_AT_producer of the CU ("Go cmd/compile go1.19.8; regabi")
  Language language = Language::Unknown;
  std::vector<Variable> params;   // in declaration order
  std::vector<Variable> results;  // Go: in declaration order
  TypeId return_type = kNoType;   // C/C++/Rust: DW_AT_type of the subprogram
  std::vector<InlineInstance> inline_instances;
  uint32_t dwarf_offset = 0;
};

}  // namespace dynprobe

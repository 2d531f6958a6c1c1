// The abstract type model: what ABI plugins, the probe planner and value
// decoders need to know about a type, independent of DWARF. Types live in a
// TypeTable and refer to each other by TypeId, so recursive types (a struct
// holding a pointer to itself) need no owning pointers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dynprobe {

using TypeId = uint32_t;
inline constexpr TypeId kNoType = 0;  // slot 0 of every table is `void`

enum class TypeKind : uint8_t {
  Void,
  Bool,
  Int,        // signed integer of `size` bytes
  Uint,       // unsigned integer of `size` bytes (also uintptr, byte, rune's uint32)
  Float,      // IEEE float of 4 or 8 bytes
  Complex,    // two floats of size/2 bytes each
  Pointer,    // elem = pointee (kNoType for unsafe.Pointer / void*)
  String,     // Go string: {ptr, len}
  Slice,      // Go slice: {ptr, len, cap}, elem = element type
  Array,      // count elements of elem
  Struct,     // fields
  Interface,  // Go interface: {itab or type, data}; empty_interface tells which
  Map,        // Go map: a pointer to the runtime map header; key, elem
  Chan,       // Go chan: a pointer to runtime.hchan; elem
  Func,       // Go func value: a pointer to a closure; C function type
  Enum,       // C/C++/Rust enum, underlying integer of `size` bytes
  Union,
  Unknown,  // present in DWARF but not modelled; size is still right
};

std::string_view kind_name(TypeKind k);

struct Field {
  std::string name;
  TypeId type = kNoType;
  uint64_t offset = 0;
  bool embedded = false;  // Go embedded field / C++ base class
};

struct Type {
  TypeKind kind = TypeKind::Void;
  std::string name;  // as the language spells it: "main.Money", "[]int", "*main.T"
  uint64_t size = 0;
  TypeId elem = kNoType;         // pointee, slice/array/chan element, map value
  TypeId key = kNoType;          // map key
  uint64_t count = 0;            // array length
  std::vector<Field> fields;     // struct/union members; layout of string/slice/interface too
  bool empty_interface = false;  // interface{} / any: first word is *_type, not *itab
  uint64_t go_runtime_type = 0;  // DW_AT_go_runtime_type: address of the runtime._type
  uint32_t dwarf_offset = 0;     // DIE offset, for diagnostics and cross references
};

class TypeTable {
 public:
  TypeTable();

  TypeId add(Type t);
  const Type& get(TypeId id) const { return types_[id]; }
  Type& mut(TypeId id) { return types_[id]; }
  size_t size() const { return types_.size(); }

  // Natural alignment as Go and the SysV psABI define it (at most 8 on amd64).
  uint64_t align(TypeId id) const;

 private:
  std::vector<Type> types_;
};

}  // namespace dynprobe

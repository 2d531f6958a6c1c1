// The abstract type model: what ABI plugins, the probe planner and value
// decoders need to know about a type, independent of DWARF. Types live in a
// TypeTable and refer to each other by TypeId, so recursive types (a struct
// holding a pointer to itself) need no owning pointers.
#pragma once

#include <cstdint>
#include <optional>
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
  Enum,       // C/C++/Rust enum, underlying integer of `size` bytes (elem, when known)
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

// Where a String or Slice header keeps its parts. Go's (and gccgo's, Rust's
// &str and &[T], libstdc++'s std::string) are {ptr, len[, cap]} in that
// order; rustc reorders the fields of Vec and String, and std::vector keeps
// a one-past-the-end pointer instead of a length.
struct SeqLayout {
  uint32_t ptr = 0;
  uint32_t len = 8;
  int32_t cap = 16;         // -1: no capacity field
  bool len_is_end = false;  // `len` holds the end pointer: length = (end - ptr) / elem size
};

// One variant of a Rust enum (DWARF DW_TAG_variant): a struct, `type`,
// placed at `offset` of the enum, whose fields are the variant's (tuple
// variants name them __0, __1, ...).
struct Variant {
  std::string name;
  TypeId type = kNoType;
  uint64_t offset = 0;
  bool has_discr = false;  // false: the default variant (the dataful one of a niche enum)
  uint64_t discr = 0;      // DW_AT_discr_value: the discriminant's bytes when this one is active
};

// A Rust enum with data (DW_TAG_variant_part). The discriminant is a field of
// `discr_type` at `discr_offset`: a tag of its own, or (niche-optimized
// enums: Option<&T>, Option<Box<T>>) bytes of the dataful variant that no
// valid value of it uses. The enum is a TypeKind::Struct without fields.
struct VariantPart {
  uint64_t discr_offset = 0;
  TypeId discr_type = kNoType;  // kNoType: one variant and no discriminant
  std::vector<Variant> variants;
};

struct Type {
  TypeKind kind = TypeKind::Void;
  std::string name;  // as the language spells it: "main.Money", "[]int", "*main.T"
  uint64_t size = 0;
  TypeId elem = kNoType;         // pointee, slice/array/chan element, map value, enum integer
  TypeId key = kNoType;          // map key
  uint64_t count = 0;            // array length
  SeqLayout seq;                 // String and Slice only
  std::vector<Field> fields;     // struct/union members; layout of string/slice/interface too;
                                 // a Go map: one field, the pointer to its runtime header
  bool empty_interface = false;  // interface{} / any: first word is *_type, not *itab
  // A non-empty interface's first word points at a method table that holds
  // the dynamic type's descriptor at this offset: gc's itab._type is at 8,
  // gccgo's __methods starts with __type_descriptor.
  uint32_t itab_type_at = 8;
  // gccgo: the dynamic type's descriptor holds a *string naming the type at
  // this offset (libgo's _type._string); 0 when descriptors do not (gc's
  // name is an offset into module data; DWARF links gc's types instead).
  uint32_t descriptor_name_at = 0;
  uint64_t go_runtime_type = 0;  // DW_AT_go_runtime_type: address of the runtime._type
  uint32_t dwarf_offset = 0;     // DIE offset, for diagnostics and cross references
  VariantPart variant_part;      // Rust enums with data (variants not empty)
  // C++: a class non-trivial for the purposes of calls (Itanium C++ ABI: a
  // user copy/move constructor or destructor, virtual bases or functions, or
  // such a member or base): passed by invisible reference, returned through
  // a hidden pointer whatever its size (core/cpp_std_types.h).
  bool pass_by_reference = false;
};

// A type as a running program names it (an interface's dynamic type), and
// its entry when the debug info has one.
struct NamedType {
  std::string name;
  std::optional<TypeId> type;
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

// The variant active in an enum value's image: the one whose discriminant
// matches, else the default one; nullopt when neither exists (a corrupt or
// uninitialized value).
std::optional<size_t> active_variant(const TypeTable& types, const Type& t, const uint8_t* image,
                                     size_t image_size);

}  // namespace dynprobe

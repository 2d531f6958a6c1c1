// DWARF type DIEs -> TypeTable entries (core/types.h). Internal to core/:
// DebugInfo owns one TypeBuilder per binary, so every function shares one
// table and a type DIE is converted once (memoized by DIE offset).
//
// Go's DWARF carries vendor attributes (DW_AT_go_kind, _key, _elem,
// _embedded_field, _runtime_type) that say what a DIE means in Go terms:
// strings and slices are structures, maps/chans/interfaces are typedefs of
// pointers or runtime structs. Those are read first; C, C++ and Rust types
// are mapped by tag and base-type encoding.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/types.h"

namespace llvm {
class DWARFDie;
}

namespace dynprobe {

// Go's vendor attributes (cmd/internal/dwarf).
inline constexpr uint16_t kDwAtGoKind = 0x2900;
inline constexpr uint16_t kDwAtGoKey = 0x2901;
inline constexpr uint16_t kDwAtGoElem = 0x2902;
inline constexpr uint16_t kDwAtGoEmbeddedField = 0x2903;
inline constexpr uint16_t kDwAtGoRuntimeType = 0x2904;

// reflect.Kind numbers, as DW_AT_go_kind stores them.
enum class GoKind : uint8_t {
  Invalid = 0,
  Bool = 1,
  Int = 2,
  Int8,
  Int16,
  Int32,
  Int64,
  Uint = 7,
  Uint8,
  Uint16,
  Uint32,
  Uint64,
  Uintptr = 12,
  Float32 = 13,
  Float64,
  Complex64 = 15,
  Complex128,
  Array = 17,
  Chan,
  Func,
  Interface,
  Map,
  Ptr,
  Slice,
  String,
  Struct,
  UnsafePointer = 26,
};

class TypeBuilder {
 public:
  // The definition of a class that a unit only declares (clang's
  // -fno-standalone-debug homes a class's full description in one unit);
  // an invalid DIE when none is known.
  using DefinitionFinder = std::function<llvm::DWARFDie(const llvm::DWARFDie& declaration)>;

  explicit TypeBuilder(TypeTable& table, DefinitionFinder find_definition = {})
      : table_(table), find_definition_(std::move(find_definition)) {}

  // The TypeId of a type DIE (void for an invalid DIE). Cycles through
  // pointers and struct fields are fine: an entry is registered before its
  // parts are resolved.
  TypeId resolve(const llvm::DWARFDie& die);

 private:
  TypeId build(const llvm::DWARFDie& die);
  Type build_go(const llvm::DWARFDie& die, GoKind kind, TypeId self);
  Type build_by_tag(const llvm::DWARFDie& die, TypeId self);
  void add_fields(const llvm::DWARFDie& die, Type& t);
  TypeId resolve_attr(const llvm::DWARFDie& die, uint16_t attr);
  bool is_go(const llvm::DWARFDie& die);
  bool is_rust(const llvm::DWARFDie& die);
  // gccgo_package() of the die's unit, computed once per unit.
  const std::string& gccgo_package_of(const llvm::DWARFDie& die);
  void add_variant_part(const llvm::DWARFDie& die, Type& t);
  TypeId template_param(const llvm::DWARFDie& die, std::string_view name);
  void finish_pending();

  TypeTable& table_;
  DefinitionFinder find_definition_;
  std::unordered_map<uint64_t, TypeId> memo_;                     // DIE offset -> entry
  std::unordered_map<uint64_t, bool> unit_is_go_;                 // unit offset -> DW_LANG_Go
  std::unordered_map<uint64_t, bool> unit_is_rust_;               // unit offset -> DW_LANG_Rust
  std::unordered_map<uint64_t, std::string> unit_gccgo_package_;  // unit offset -> package
  std::vector<bool> final_;                                       // entry fully built (by TypeId)
  // Typedefs whose target was still being built: copied once it is.
  std::vector<std::pair<TypeId, TypeId>> pending_;
  int depth_ = 0;
};

}  // namespace dynprobe

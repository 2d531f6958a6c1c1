#include "core/types.h"

#include <algorithm>
#include <array>

namespace dynprobe {

std::string_view kind_name(TypeKind k) {
  static constexpr std::array<std::string_view, 18> kNames = {
      "void",  "bool",   "int",       "uint", "float", "complex", "pointer", "string", "slice",
      "array", "struct", "interface", "map",  "chan",  "func",    "enum",    "union",  "unknown"};
  auto i = static_cast<size_t>(k);
  return i < kNames.size() ? kNames[i] : "unknown";
}

TypeTable::TypeTable() { types_.push_back(Type{.kind = TypeKind::Void, .name = "void"}); }

TypeId TypeTable::add(Type t) {
  types_.push_back(std::move(t));
  return static_cast<TypeId>(types_.size() - 1);
}

uint64_t TypeTable::align(TypeId id) const {
  const Type& t = get(id);
  switch (t.kind) {
    case TypeKind::Void:
      return 1;
    case TypeKind::Bool:
    case TypeKind::Int:
    case TypeKind::Uint:
    case TypeKind::Float:
    case TypeKind::Enum:
      return std::clamp<uint64_t>(t.size, 1, 8);
    case TypeKind::Complex:
      return std::clamp<uint64_t>(t.size / 2, 1, 8);
    case TypeKind::Array:
      return t.elem == kNoType ? 1 : align(t.elem);
    case TypeKind::Struct:
    case TypeKind::Union: {
      uint64_t a = 1;
      for (const Field& f : t.fields) a = std::max(a, align(f.type));
      return a;
    }
    default:
      return 8;  // pointer-shaped words and headers made of them
  }
}

}  // namespace dynprobe

#include "core/types.h"

#include <algorithm>
#include <array>
#include <cstring>

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
      for (const Variant& v : t.variant_part.variants) a = std::max(a, align(v.type));
      if (t.variant_part.discr_type != kNoType) a = std::max(a, align(t.variant_part.discr_type));
      return a;
    }
    default:
      return 8;  // pointer-shaped words and headers made of them
  }
}

std::optional<size_t> active_variant(const TypeTable& types, const Type& t, const uint8_t* image,
                                     size_t image_size) {
  const VariantPart& vp = t.variant_part;
  std::optional<size_t> fallback;
  for (size_t i = 0; i < vp.variants.size(); ++i)
    if (!vp.variants[i].has_discr) fallback = i;
  if (vp.discr_type == kNoType)
    return vp.variants.size() == 1 ? std::optional<size_t>(0) : fallback;
  uint64_t size = types.get(vp.discr_type).size;
  if (size == 0 || size > 8 || vp.discr_offset + size > image_size) return std::nullopt;
  uint64_t value = 0;
  memcpy(&value, image + vp.discr_offset, size);  // little-endian: the low bytes
  uint64_t mask = size == 8 ? ~0ull : (1ull << (8 * size)) - 1;
  for (size_t i = 0; i < vp.variants.size(); ++i)
    if (vp.variants[i].has_discr && (vp.variants[i].discr & mask) == value) return i;
  return fallback;
}

}  // namespace dynprobe

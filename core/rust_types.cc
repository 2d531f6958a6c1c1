#include "core/rust_types.h"

#include <optional>
#include <string>

namespace dynprobe {

namespace {

constexpr int kMaxDepth = 8;

const Field* field_named(const Type& t, std::string_view name) {
  for (const Field& f : t.fields)
    if (f.name == name) return &f;
  return nullptr;
}

// Offset (from `id`'s start) of the first leaf of kind `k`, walking structs
// depth first: Unique<T> { NonNull<T> { *const T } }, Cap(usize).
std::optional<uint64_t> first_leaf(const TypeTable& types, TypeId id, TypeKind k, int depth = 0) {
  if (id >= types.size() || depth > kMaxDepth) return std::nullopt;
  const Type& t = types.get(id);
  if (t.kind == k && t.size == 8) return 0;
  if (t.kind != TypeKind::Struct) return std::nullopt;
  for (const Field& f : t.fields)
    if (auto at = first_leaf(types, f.type, k, depth + 1)) return f.offset + *at;
  return std::nullopt;
}

// Offset of the field `name` anywhere below `id` (Vec.buf.inner.ptr), and
// that field's type.
std::optional<std::pair<uint64_t, TypeId>> find_field(const TypeTable& types, TypeId id,
                                                      std::string_view name, int depth = 0) {
  if (id >= types.size() || depth > kMaxDepth) return std::nullopt;
  const Type& t = types.get(id);
  if (t.kind != TypeKind::Struct) return std::nullopt;
  if (const Field* f = field_named(t, name)) return std::pair{f->offset, f->type};
  for (const Field& f : t.fields)
    if (auto r = find_field(types, f.type, name, depth + 1))
      return std::pair{f.offset + r->first, r->second};
  return std::nullopt;
}

bool is_usize(const TypeTable& types, TypeId id) {
  return id < types.size() && types.get(id).kind == TypeKind::Uint && types.get(id).size == 8;
}

// &str, &[T], *const [T], Box<[T]>, Box<str>: a fat pointer {data_ptr, length}.
bool fat_slice(Type& t, const TypeTable& types) {
  const Field* ptr = field_named(t, "data_ptr");
  const Field* len = field_named(t, "length");
  if (t.fields.size() != 2 || !ptr || !len || t.size != 16 || !is_usize(types, len->type))
    return false;
  const Type& p = types.get(ptr->type);
  if (p.kind != TypeKind::Pointer) return false;
  // str's data pointer is *const u8 like [u8]'s: the name tells them apart.
  bool str = t.name == "&str" || t.name == "&mut str" || t.name.ends_with("<str>") ||
             t.name.ends_with("<str, alloc::alloc::Global>") || t.name == "*const str" ||
             t.name == "*mut str";
  t.kind = str ? TypeKind::String : TypeKind::Slice;
  t.elem = str ? kNoType : p.elem;
  t.seq = SeqLayout{.ptr = static_cast<uint32_t>(ptr->offset),
                    .len = static_cast<uint32_t>(len->offset),
                    .cap = -1};
  return true;
}

// Vec<T, A> { buf: RawVec { ptr, cap, .. }, len }; the names of the
// structs between Vec and the pointer changed over Rust versions, the field
// names did not.
std::optional<SeqLayout> vec_layout(const Type& t, const TypeTable& types) {
  const Field* len = field_named(t, "len");
  const Field* buf = field_named(t, "buf");
  if (!len || !buf || !is_usize(types, len->type)) return std::nullopt;
  auto ptr = find_field(types, buf->type, "ptr");
  auto cap = find_field(types, buf->type, "cap");
  if (!ptr || !cap) return std::nullopt;
  auto ptr_leaf = first_leaf(types, ptr->second, TypeKind::Pointer);
  auto cap_leaf = first_leaf(types, cap->second, TypeKind::Uint);
  if (!ptr_leaf || !cap_leaf) return std::nullopt;
  return SeqLayout{.ptr = static_cast<uint32_t>(buf->offset + ptr->first + *ptr_leaf),
                   .len = static_cast<uint32_t>(len->offset),
                   .cap = static_cast<int32_t>(buf->offset + cap->first + *cap_leaf)};
}

}  // namespace

bool rust_needs_element_type(std::string_view name) { return name.starts_with("alloc::vec::Vec<"); }

bool recognize_rust_sequence(Type& t, const TypeTable& types, TypeId element) {
  if (t.kind != TypeKind::Struct || !t.variant_part.variants.empty()) return false;
  if (fat_slice(t, types)) return true;
  if (rust_needs_element_type(t.name) && t.size == 24) {
    auto seq = vec_layout(t, types);
    if (!seq || element == kNoType) return false;
    t.kind = TypeKind::Slice;
    t.elem = element;
    t.seq = *seq;
    return true;
  }
  if (t.name == "alloc::string::String" && t.size == 24) {
    const Field* vec = field_named(t, "vec");
    if (!vec || vec->type >= types.size()) return false;
    const Type& v = types.get(vec->type);
    if (v.kind != TypeKind::Slice || v.seq.cap < 0) return false;
    t.kind = TypeKind::String;
    t.elem = kNoType;
    t.seq = SeqLayout{.ptr = static_cast<uint32_t>(vec->offset + v.seq.ptr),
                      .len = static_cast<uint32_t>(vec->offset + v.seq.len),
                      .cap = static_cast<int32_t>(vec->offset + v.seq.cap)};
    return true;
  }
  return false;
}

}  // namespace dynprobe

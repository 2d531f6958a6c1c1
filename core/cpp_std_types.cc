#include "core/cpp_std_types.h"

#include <llvm/BinaryFormat/Dwarf.h>
#include <llvm/DebugInfo/DWARF/DWARFDie.h>

#include <optional>
#include <string>

namespace dynprobe {

namespace {

namespace dw = llvm::dwarf;

constexpr int kMaxDepth = 8;
constexpr uint64_t kStringSize = 32;  // libstdc++'s __cxx11 basic_string<char> on LP64

const Field* field_named(const Type& t, std::string_view name) {
  for (const Field& f : t.fields)
    if (f.name == name) return &f;
  return nullptr;
}

// Offset (from the start of `id`) and type of the member `name`, looking
// through members and base classes: std::vector<T> keeps _M_start in
// _Vector_base::_M_impl (a _Vector_impl deriving from _Vector_impl_data
// since GCC 9), std::string its pointer in _M_dataplus (an _Alloc_hider).
std::optional<std::pair<uint64_t, TypeId>> find_member(const TypeTable& types, TypeId id,
                                                       std::string_view name, int depth = 0) {
  if (id >= types.size() || depth > kMaxDepth) return std::nullopt;
  const Type& t = types.get(id);
  if (t.kind != TypeKind::Struct) return std::nullopt;
  if (const Field* f = field_named(t, name)) return std::pair{f->offset, f->type};
  for (const Field& f : t.fields)
    if (auto r = find_member(types, f.type, name, depth + 1))
      return std::pair{f.offset + r->first, r->second};
  return std::nullopt;
}

std::optional<uint64_t> member_in(const Type& t, const TypeTable& types, std::string_view name,
                                  TypeKind kind) {
  for (const Field& f : t.fields) {
    if (f.name == name && f.type < types.size() && types.get(f.type).kind == kind &&
        types.get(f.type).size == 8)
      return f.offset;
    if (auto r = find_member(types, f.type, name))
      if (r->second < types.size() && types.get(r->second).kind == kind &&
          types.get(r->second).size == 8)
        return f.offset + r->first;
  }
  return std::nullopt;
}

bool is_std_string(std::string_view name) {
  return name.starts_with("std::__cxx11::basic_string<char, std::char_traits<char>,");
}

bool recognize_string(const llvm::DWARFDie& die, Type& t, const TypeTable& types) {
  auto ptr = member_in(t, types, "_M_p", TypeKind::Pointer);
  auto len = member_in(t, types, "_M_string_length", TypeKind::Uint);
  const bool declared_only = die.find(dw::DW_AT_declaration).has_value() && t.fields.empty();
  if (ptr && len) {
    t.seq = SeqLayout{
        .ptr = static_cast<uint32_t>(*ptr), .len = static_cast<uint32_t>(*len), .cap = -1};
  } else if (declared_only || (len && t.size == kStringSize)) {
    // clang describes _Alloc_hider without members in CUs that do not
    // instantiate it; the declaration carries no size either.
    t.seq = SeqLayout{.ptr = 0, .len = 8, .cap = -1};
    t.size = kStringSize;
  } else {
    return false;
  }
  t.kind = TypeKind::String;
  t.elem = kNoType;
  t.name = "std::string";
  t.pass_by_reference = true;  // user-provided copy constructor and destructor
  return true;
}

bool recognize_vector(const llvm::DWARFDie& die, Type& t, const TypeTable& types, TypeId element) {
  if (die.find(dw::DW_AT_declaration) && t.fields.empty()) {
    // clang (constructor homing) may describe std::vector<T> in a CU only by
    // a declaration without members or template parameters: its size and
    // calling convention are the library's, its element type unknown, so
    // the value is shown as the bytes of its three pointers.
    t.kind = TypeKind::Unknown;
    t.size = 24;
    t.pass_by_reference = true;
    return true;
  }
  if (element == kNoType || element >= types.size() || t.size != 24) return false;
  auto start = member_in(t, types, "_M_start", TypeKind::Pointer);
  auto finish = member_in(t, types, "_M_finish", TypeKind::Pointer);
  auto end = member_in(t, types, "_M_end_of_storage", TypeKind::Pointer);
  if (!start || !finish || !end) return false;
  t.kind = TypeKind::Slice;
  t.elem = element;
  t.seq = SeqLayout{.ptr = static_cast<uint32_t>(*start),
                    .len = static_cast<uint32_t>(*finish),
                    .cap = static_cast<int32_t>(*end),
                    .len_is_end = true};
  t.pass_by_reference = true;
  return true;
}

// Special members that make a class non-trivial for calls when the user
// provides them: GCC marks the implicit ones DW_AT_artificial and the
// `= default` ones DW_AT_defaulted (DW_DEFAULTED_in_class).
bool user_provided_special_member(const llvm::DWARFDie& die, std::string_view class_name) {
  // The short name of "ns::Outer<int>::Inner" is "Inner"; constructors are
  // named so, the destructor "~Inner".
  std::string_view base = class_name.substr(0, class_name.find('<'));
  if (auto colon = base.rfind("::"); colon != std::string_view::npos) base = base.substr(colon + 2);
  for (const llvm::DWARFDie& c : die.children()) {
    if (!c.isValid()) break;
    if (c.getTag() == dw::DW_TAG_inheritance &&
        dw::toUnsigned(c.find(dw::DW_AT_virtuality), 0) != 0)
      return true;
    if (c.getTag() != dw::DW_TAG_subprogram) continue;
    if (dw::toUnsigned(c.find(dw::DW_AT_virtuality), 0) != 0) return true;
    if (dw::toUnsigned(c.find(dw::DW_AT_artificial), 0) != 0) continue;
    if (dw::toUnsigned(c.find(dw::DW_AT_defaulted), 0) == dw::DW_DEFAULTED_in_class) continue;
    const char* n = c.getShortName();
    std::string_view name = n ? n : "";
    if (name.starts_with("~")) return true;
    if (name.empty() || base.empty() || !name.starts_with(base)) continue;
    if (name.size() != base.size() && name[base.size()] != '<') continue;
    // A constructor whose first parameter (after `this`) is a reference to
    // the class itself: copy or move.
    int index = 0;
    for (const llvm::DWARFDie& p : c.children()) {
      if (!p.isValid()) break;
      if (p.getTag() != dw::DW_TAG_formal_parameter) continue;
      if (index++ == 0 && dw::toUnsigned(p.find(dw::DW_AT_artificial), 0) != 0) {
        index = 0;  // `this`
        continue;
      }
      llvm::DWARFDie ty = p.getAttributeValueAsReferencedDie(dw::DW_AT_type);
      if (ty.isValid() && (ty.getTag() == dw::DW_TAG_reference_type ||
                           ty.getTag() == dw::DW_TAG_rvalue_reference_type))
        return true;
      break;
    }
  }
  return false;
}

bool member_passed_by_reference(const TypeTable& types, TypeId id) {
  for (int depth = 0; id < types.size() && depth < kMaxDepth; ++depth) {
    const Type& m = types.get(id);
    if (m.kind != TypeKind::Array) return m.pass_by_reference;
    id = m.elem;
  }
  return false;
}

}  // namespace

bool cpp_needs_element_type(std::string_view name) { return name.starts_with("std::vector<"); }

bool recognize_cpp_std_type(const llvm::DWARFDie& die, Type& t, const TypeTable& types,
                            TypeId element) {
  if (t.kind != TypeKind::Struct) return false;
  if (is_std_string(t.name)) return recognize_string(die, t, types);
  if (cpp_needs_element_type(t.name)) return recognize_vector(die, t, types, element);
  return false;
}

bool cpp_pass_by_reference(const llvm::DWARFDie& die, const Type& t, const TypeTable& types) {
  if (auto cc = dw::toUnsigned(die.find(dw::DW_AT_calling_convention)))
    return *cc == dw::DW_CC_pass_by_reference;
  if (user_provided_special_member(die, t.name)) return true;
  for (const Field& f : t.fields)
    if (member_passed_by_reference(types, f.type)) return true;
  return false;
}

}  // namespace dynprobe

#include "core/dwarf_types.h"

#include <llvm/BinaryFormat/Dwarf.h>
#include <llvm/DebugInfo/DWARF/DWARFDie.h>
#include <llvm/DebugInfo/DWARF/DWARFExpression.h>
#include <llvm/DebugInfo/DWARF/DWARFTypePrinter.h>
#include <llvm/DebugInfo/DWARF/DWARFUnit.h>
#include <llvm/Support/raw_ostream.h>

#include <string>

#include "core/cpp_std_types.h"
#include "core/gccgo_types.h"
#include "core/rust_types.h"

namespace dynprobe {

namespace {

namespace dw = llvm::dwarf;

llvm::dwarf::Attribute attr(uint16_t a) { return static_cast<llvm::dwarf::Attribute>(a); }

std::optional<uint64_t> unsigned_attr(const llvm::DWARFDie& die, llvm::dwarf::Attribute a) {
  if (auto v = die.find(a)) return v->getAsUnsignedConstant();
  return std::nullopt;
}

std::string short_name(const llvm::DWARFDie& die) {
  const char* n = die.getShortName();
  return n ? n : "";
}

bool is_qualifier(dw::Tag tag) {
  switch (tag) {
    case dw::DW_TAG_const_type:
    case dw::DW_TAG_volatile_type:
    case dw::DW_TAG_restrict_type:
    case dw::DW_TAG_atomic_type:
    case dw::DW_TAG_immutable_type:
    case dw::DW_TAG_packed_type:
    case dw::DW_TAG_shared_type:
      return true;
    default:
      return false;
  }
}

// Offset of a member: a constant, or (DWARF 2 style) DW_OP_plus_uconst N.
uint64_t member_offset(const llvm::DWARFDie& member) {
  if (auto v = member.find(dw::DW_AT_data_member_location)) {
    if (auto c = v->getAsUnsignedConstant()) return *c;
    if (auto block = v->getAsBlock()) {
      llvm::StringRef bytes(reinterpret_cast<const char*>(block->data()), block->size());
      llvm::DataExtractor data(bytes, true, member.getDwarfUnit()->getAddressByteSize());
      llvm::DWARFExpression expr(data, member.getDwarfUnit()->getAddressByteSize());
      for (const auto& op : expr) {
        if (!op.isError() && op.getCode() == dw::DW_OP_plus_uconst) return op.getRawOperand(0);
        break;
      }
    }
    return 0;
  }
  if (auto bits = unsigned_attr(member, dw::DW_AT_data_bit_offset)) return *bits / 8;
  return 0;
}

// Array dimensions from DW_TAG_subrange_type children; 0 for an unknown bound.
std::vector<uint64_t> array_dims(const llvm::DWARFDie& die) {
  std::vector<uint64_t> dims;
  for (const llvm::DWARFDie& c : die.children()) {
    if (!c.isValid()) break;  // a corrupt sibling chain
    if (c.getTag() != dw::DW_TAG_subrange_type && c.getTag() != dw::DW_TAG_enumeration_type)
      continue;
    if (auto n = unsigned_attr(c, dw::DW_AT_count)) {
      dims.push_back(*n);
    } else if (auto ub = c.find(dw::DW_AT_upper_bound)) {
      uint64_t lower = unsigned_attr(c, dw::DW_AT_lower_bound).value_or(0);
      if (auto u = ub->getAsSignedConstant(); u && *u >= static_cast<int64_t>(lower))
        dims.push_back(static_cast<uint64_t>(*u) - lower + 1);
      else
        dims.push_back(0);  // [] or a bound held in a variable
    } else {
      dims.push_back(0);
    }
  }
  if (dims.empty()) dims.push_back(0);
  return dims;
}

}  // namespace

bool TypeBuilder::is_go(const llvm::DWARFDie& die) {
  llvm::DWARFUnit* u = die.getDwarfUnit();
  auto [it, inserted] = unit_is_go_.try_emplace(u->getOffset(), false);
  if (inserted) {
    auto lang = unsigned_attr(u->getUnitDIE(), dw::DW_AT_language);
    it->second = lang && *lang == dw::DW_LANG_Go;
  }
  return it->second;
}

const std::string& TypeBuilder::gccgo_package_of(const llvm::DWARFDie& die) {
  llvm::DWARFUnit* u = die.getDwarfUnit();
  auto [it, inserted] = unit_gccgo_package_.try_emplace(u->getOffset());
  if (inserted) it->second = gccgo_package(u->getUnitDIE(false));
  return it->second;
}

bool TypeBuilder::is_rust(const llvm::DWARFDie& die) {
  llvm::DWARFUnit* u = die.getDwarfUnit();
  auto [it, inserted] = unit_is_rust_.try_emplace(u->getOffset(), false);
  if (inserted) {
    auto lang = unsigned_attr(u->getUnitDIE(), dw::DW_AT_language);
    it->second = lang && *lang == dw::DW_LANG_Rust;
  }
  return it->second;
}

TypeId TypeBuilder::template_param(const llvm::DWARFDie& die, std::string_view name) {
  for (const llvm::DWARFDie& c : die.children()) {
    if (!c.isValid()) break;
    if (c.getTag() == dw::DW_TAG_template_type_parameter && short_name(c) == name)
      return resolve_attr(c, dw::DW_AT_type);
  }
  return kNoType;
}

// rustc's enums with data: a DW_TAG_variant_part whose DW_AT_discr names the
// discriminant member, and one DW_TAG_variant per variant holding one
// member, the variant's struct (DWARF 5, section 5.7.10).
void TypeBuilder::add_variant_part(const llvm::DWARFDie& die, Type& t) {
  for (const llvm::DWARFDie& part : die.children()) {
    if (!part.isValid()) break;
    if (part.getTag() != dw::DW_TAG_variant_part) continue;
    VariantPart vp;
    llvm::DWARFDie discr = part.getAttributeValueAsReferencedDie(dw::DW_AT_discr);
    if (discr.isValid()) {
      vp.discr_type = resolve_attr(discr, dw::DW_AT_type);
      vp.discr_offset = member_offset(discr);
    }
    for (const llvm::DWARFDie& v : part.children()) {
      if (!v.isValid()) break;
      if (v.getTag() != dw::DW_TAG_variant) continue;
      Variant var;
      if (auto value = v.find(dw::DW_AT_discr_value)) {
        auto u = value->getAsUnsignedConstant();
        auto sgn = u ? std::nullopt : value->getAsSignedConstant();
        var.has_discr = u || sgn;
        var.discr = u ? *u : static_cast<uint64_t>(sgn.value_or(0));
      }
      for (const llvm::DWARFDie& m : v.children()) {
        if (!m.isValid()) break;
        if (m.getTag() != dw::DW_TAG_member) continue;
        var.name = short_name(m);
        var.type = resolve_attr(m, dw::DW_AT_type);
        var.offset = member_offset(m);
        break;
      }
      if (var.type != kNoType) vp.variants.push_back(std::move(var));
    }
    t.variant_part = std::move(vp);
    return;
  }
}

TypeId TypeBuilder::resolve(const llvm::DWARFDie& die) {
  if (!die.isValid()) return kNoType;
  if (auto it = memo_.find(die.getOffset()); it != memo_.end()) return it->second;
  ++depth_;
  TypeId id = build(die);
  --depth_;
  if (depth_ == 0) finish_pending();
  return id;
}

TypeId TypeBuilder::resolve_attr(const llvm::DWARFDie& die, uint16_t a) {
  return resolve(die.getAttributeValueAsReferencedDie(attr(a)));
}

TypeId TypeBuilder::build(const llvm::DWARFDie& die) {
  const uint64_t off = die.getOffset();
  const dw::Tag tag = die.getTag();
  if (is_qualifier(tag)) {
    // const/volatile change nothing a probe reads: share the target's entry.
    TypeId target = resolve_attr(die, dw::DW_AT_type);
    memo_[off] = target;
    return target;
  }
  const bool record = tag == dw::DW_TAG_structure_type || tag == dw::DW_TAG_class_type ||
                      tag == dw::DW_TAG_union_type;
  if (record && find_definition_ && die.find(dw::DW_AT_declaration)) {
    // A declaration has no members, size or template parameters: the same
    // type's definition from another unit stands in for it.
    llvm::DWARFDie definition = find_definition_(die);
    if (definition.isValid() && definition.getOffset() != off &&
        !definition.find(dw::DW_AT_declaration)) {
      TypeId target = resolve(definition);
      memo_[off] = target;
      return target;
    }
  }

  Type placeholder;
  placeholder.kind = TypeKind::Unknown;
  placeholder.dwarf_offset = static_cast<uint32_t>(off);
  TypeId id = table_.add(std::move(placeholder));
  memo_[off] = id;
  final_.resize(table_.size(), false);
  final_[kNoType] = true;

  auto go_kind = static_cast<GoKind>(unsigned_attr(die, attr(kDwAtGoKind)).value_or(0));
  Type t;
  if (tag == dw::DW_TAG_typedef && go_kind == GoKind::Invalid) {
    TypeId target = resolve_attr(die, dw::DW_AT_type);
    std::string name = is_go(die) ? gccgo_type_name(die, gccgo_package_of(die)) : [&] {
      std::string s;
      llvm::raw_string_ostream os(s);
      llvm::DWARFTypePrinter(os).appendQualifiedName(die);
      return s;
    }();
    if (!final_[target]) {
      pending_.emplace_back(id, target);
      table_.mut(id).name = std::move(name);
      return id;
    }
    t = table_.get(target);
    if (!name.empty()) t.name = std::move(name);
  } else if (go_kind != GoKind::Invalid) {
    t = build_go(die, go_kind, id);
  } else {
    t = build_by_tag(die, id);
  }
  t.dwarf_offset = static_cast<uint32_t>(off);
  table_.mut(id) = std::move(t);
  final_.resize(table_.size(), false);
  final_[id] = true;
  return id;
}

Type TypeBuilder::build_go(const llvm::DWARFDie& die, GoKind kind, TypeId self) {
  Type t;
  t.name = short_name(die);
  t.size = unsigned_attr(die, dw::DW_AT_byte_size).value_or(0);
  t.go_runtime_type = unsigned_attr(die, attr(kDwAtGoRuntimeType)).value_or(0);
  auto word = [&](uint64_t words) {
    if (t.size == 0) t.size = 8 * words;
  };
  switch (kind) {
    case GoKind::Bool:
      t.kind = TypeKind::Bool;
      break;
    case GoKind::Int:
    case GoKind::Int8:
    case GoKind::Int16:
    case GoKind::Int32:
    case GoKind::Int64:
      t.kind = TypeKind::Int;
      break;
    case GoKind::Uint:
    case GoKind::Uint8:
    case GoKind::Uint16:
    case GoKind::Uint32:
    case GoKind::Uint64:
    case GoKind::Uintptr:
      t.kind = TypeKind::Uint;
      break;
    case GoKind::Float32:
    case GoKind::Float64:
      t.kind = TypeKind::Float;
      break;
    case GoKind::Complex64:
    case GoKind::Complex128:
      t.kind = TypeKind::Complex;
      break;
    case GoKind::Array:
      t.kind = TypeKind::Array;
      t.elem = resolve_attr(die, dw::DW_AT_type);
      t.count = array_dims(die).front();
      break;
    case GoKind::Chan:
      t.kind = TypeKind::Chan;
      t.elem = resolve_attr(die, kDwAtGoElem);
      word(1);
      break;
    case GoKind::Func:
      t.kind = TypeKind::Func;
      word(1);
      break;
    case GoKind::Interface: {
      t.kind = TypeKind::Interface;
      // The typedef's target is runtime.iface ({tab, data}) or, for
      // interface{}/any, runtime.eface ({_type, data}).
      TypeId layout = resolve_attr(die, dw::DW_AT_type);
      if (layout != kNoType && final_[layout]) {
        const Type& l = table_.get(layout);
        t.empty_interface = l.name == "runtime.eface";
        t.fields = l.fields;
        if (t.size == 0) t.size = l.size;
      }
      word(2);
      break;
    }
    case GoKind::Map:
      t.kind = TypeKind::Map;
      t.key = resolve_attr(die, kDwAtGoKey);
      t.elem = resolve_attr(die, kDwAtGoElem);
      // The typedef's target is a pointer to the runtime header the linker
      // synthesizes per map type (hash<K,V> up to Go 1.23, map<K,V> from
      // 1.24): the planner reads entries by its layout.
      if (TypeId header = resolve_attr(die, dw::DW_AT_type); header != kNoType)
        t.fields = {Field{.name = "header", .type = header}};
      word(1);
      break;
    case GoKind::Ptr:
      t.kind = TypeKind::Pointer;
      t.elem = resolve_attr(die, dw::DW_AT_type);
      word(1);
      break;
    case GoKind::Slice:
      t.kind = TypeKind::Slice;
      t.elem = resolve_attr(die, kDwAtGoElem);
      add_fields(die, t);
      word(3);
      break;
    case GoKind::String:
      t.kind = TypeKind::String;
      t.seq.cap = -1;
      add_fields(die, t);
      word(2);
      break;
    case GoKind::Struct:
      t.kind = TypeKind::Struct;
      add_fields(die, t);
      break;
    case GoKind::UnsafePointer:
      t.kind = TypeKind::Pointer;
      word(1);
      break;
    default:
      return build_by_tag(die, self);
  }
  return t;
}

Type TypeBuilder::build_by_tag(const llvm::DWARFDie& die, TypeId self) {
  Type t;
  const bool go = is_go(die);
  if (go) {
    t.name = short_name(die);
  } else {
    llvm::raw_string_ostream os(t.name);
    llvm::DWARFTypePrinter(os).appendQualifiedName(die);
    if (t.name.empty()) t.name = short_name(die);
  }
  t.size = unsigned_attr(die, dw::DW_AT_byte_size).value_or(0);
  const uint8_t addr_size = die.getDwarfUnit()->getAddressByteSize();

  switch (die.getTag()) {
    case dw::DW_TAG_base_type: {
      switch (unsigned_attr(die, dw::DW_AT_encoding).value_or(0)) {
        case dw::DW_ATE_boolean:
          t.kind = TypeKind::Bool;
          break;
        case dw::DW_ATE_signed:
        case dw::DW_ATE_signed_char:
          t.kind = TypeKind::Int;
          break;
        case dw::DW_ATE_unsigned:
        case dw::DW_ATE_unsigned_char:
        case dw::DW_ATE_UTF:
          t.kind = TypeKind::Uint;
          break;
        case dw::DW_ATE_float:
          t.kind = TypeKind::Float;
          break;
        case dw::DW_ATE_complex_float:
          t.kind = TypeKind::Complex;
          break;
        default:
          t.kind = TypeKind::Unknown;
          break;
      }
      break;
    }
    case dw::DW_TAG_pointer_type:
    case dw::DW_TAG_reference_type:
    case dw::DW_TAG_rvalue_reference_type:
      t.kind = TypeKind::Pointer;
      t.elem = resolve_attr(die, dw::DW_AT_type);
      if (t.size == 0) t.size = addr_size;
      if (go) recognize_gccgo_pointer(t, die.getAttributeValueAsReferencedDie(dw::DW_AT_type));
      break;
    case dw::DW_TAG_structure_type:
    case dw::DW_TAG_class_type:
      t.kind = TypeKind::Struct;
      add_fields(die, t);
      if (is_rust(die)) {
        add_variant_part(die, t);
        TypeId elem = rust_needs_element_type(t.name) ? template_param(die, "T") : kNoType;
        recognize_rust_sequence(t, table_, elem);
      } else if (go) {
        recognize_gccgo_type(t, table_);  // gc's types carry DW_AT_go_kind and never get here
      } else {
        t.pass_by_reference = cpp_pass_by_reference(die, t, table_);
        TypeId elem = cpp_needs_element_type(t.name) ? template_param(die, "_Tp") : kNoType;
        recognize_cpp_std_type(die, t, table_, elem);
      }
      break;
    case dw::DW_TAG_union_type:
      t.kind = TypeKind::Union;
      add_fields(die, t);
      if (!go && !is_rust(die)) t.pass_by_reference = cpp_pass_by_reference(die, t, table_);
      break;
    case dw::DW_TAG_enumeration_type:
      t.kind = TypeKind::Enum;
      // The underlying integer, when DWARF names it, tells its signedness
      // (Rust's `enum Color { Blue = 200 }` is a u8).
      t.elem = resolve_attr(die, dw::DW_AT_type);
      if (t.size == 0) t.size = table_.get(t.elem).size;
      break;
    case dw::DW_TAG_array_type: {
      t.kind = TypeKind::Array;
      std::vector<uint64_t> dims = array_dims(die);
      TypeId elem = resolve_attr(die, dw::DW_AT_type);
      // int a[2][3] is one DIE with two subranges: model it as [2] of [3]int.
      for (size_t i = dims.size() - 1; i > 0; --i) {
        const Type& e = table_.get(elem);
        Type inner;
        inner.kind = TypeKind::Array;
        inner.name = e.name + "[" + std::to_string(dims[i]) + "]";
        inner.size = dims[i] * e.size;
        inner.elem = elem;
        inner.count = dims[i];
        elem = table_.add(std::move(inner));
        final_.resize(table_.size(), false);
        final_[elem] = true;
      }
      t.elem = elem;
      t.count = dims.front();
      if (t.size == 0) t.size = t.count * table_.get(elem).size;
      break;
    }
    case dw::DW_TAG_subroutine_type:
      t.kind = TypeKind::Func;
      break;
    default:
      t.kind = TypeKind::Unknown;
      break;
  }
  (void)self;
  return t;
}

void TypeBuilder::add_fields(const llvm::DWARFDie& die, Type& t) {
  const bool go = is_go(die);
  for (const llvm::DWARFDie& c : die.children()) {
    if (!c.isValid()) break;  // a corrupt sibling chain
    const dw::Tag tag = c.getTag();
    if (tag == dw::DW_TAG_member) {
      // Static members (DWARF 4: external declarations) take no space.
      if (c.find(dw::DW_AT_declaration) || c.find(dw::DW_AT_external)) continue;
      Field f;
      f.name = short_name(c);
      f.type = resolve_attr(c, dw::DW_AT_type);
      f.offset = member_offset(c);
      if (go) f.embedded = unsigned_attr(c, attr(kDwAtGoEmbeddedField)).value_or(0) != 0;
      t.fields.push_back(std::move(f));
    } else if (tag == dw::DW_TAG_inheritance) {
      Field f;
      f.type = resolve_attr(c, dw::DW_AT_type);
      f.name = table_.get(f.type).name;
      f.offset = member_offset(c);
      f.embedded = true;
      t.fields.push_back(std::move(f));
    }
  }
}

void TypeBuilder::finish_pending() {
  // Typedefs of types that were mid-construction: copy them now. A chain of
  // typedefs resolves in a few rounds; anything left is a malformed cycle.
  while (!pending_.empty()) {
    bool progress = false;
    for (size_t i = 0; i < pending_.size();) {
      auto [td, target] = pending_[i];
      if (final_[target]) {
        Type t = table_.get(target);
        const Type& old = table_.get(td);
        if (!old.name.empty()) t.name = old.name;
        t.dwarf_offset = old.dwarf_offset;
        table_.mut(td) = std::move(t);
        final_[td] = true;
        pending_.erase(pending_.begin() + static_cast<long>(i));
        progress = true;
      } else {
        ++i;
      }
    }
    if (!progress) {
      for (auto [td, target] : pending_) final_[td] = true;  // stays Unknown
      pending_.clear();
    }
  }
}

}  // namespace dynprobe

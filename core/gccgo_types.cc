#include "core/gccgo_types.h"

#include <llvm/BinaryFormat/Dwarf.h>
#include <llvm/DebugInfo/DWARF/DWARFDie.h>
#include <llvm/DebugInfo/DWARF/DWARFFormValue.h>

#include <string_view>

namespace dynprobe {

namespace {

bool is(const TypeTable& types, const Field& f, std::string_view name, TypeKind kind) {
  return f.name == name && f.type < types.size() && types.get(f.type).kind == kind &&
         types.get(f.type).size == 8;
}

bool is_word(const TypeTable& types, const Field& f, std::string_view name) {
  return is(types, f, name, TypeKind::Int) || is(types, f, name, TypeKind::Uint);
}

}  // namespace

bool recognize_gccgo_type(Type& t, const TypeTable& types) {
  if (t.kind != TypeKind::Struct) return false;
  const auto& f = t.fields;
  if (f.size() == 2 && t.size == 16 && is(types, f[0], "__data", TypeKind::Pointer) &&
      is_word(types, f[1], "__length")) {
    t.kind = TypeKind::String;
    t.seq = SeqLayout{.ptr = static_cast<uint32_t>(f[0].offset),
                      .len = static_cast<uint32_t>(f[1].offset),
                      .cap = -1};
    return true;
  }
  if (f.size() == 3 && t.size == 24 && is(types, f[0], "__values", TypeKind::Pointer) &&
      is_word(types, f[1], "__count") && is_word(types, f[2], "__capacity")) {
    t.kind = TypeKind::Slice;
    t.elem = types.get(f[0].type).elem;
    t.seq = SeqLayout{.ptr = static_cast<uint32_t>(f[0].offset),
                      .len = static_cast<uint32_t>(f[1].offset),
                      .cap = static_cast<int32_t>(f[2].offset)};
    return true;
  }
  if (f.size() == 2 && t.size == 16 && is(types, f[1], "__object", TypeKind::Pointer) &&
      (is(types, f[0], "__methods", TypeKind::Pointer) ||
       is(types, f[0], "__type_descriptor", TypeKind::Pointer))) {
    t.kind = TypeKind::Interface;
    t.empty_interface = f[0].name == "__type_descriptor";
    t.itab_type_at = 0;
    // libgo's _type: size, ptrdata, hash (4), tflag, align, fieldAlign, kind,
    // equal, gcdata, then _string.
    t.descriptor_name_at = 40;
    // gccgo's interface{} is an unnamed struct; gc and %T say "interface {}".
    if (t.empty_interface && t.name.empty()) t.name = "interface {}";
    return true;
  }
  return false;
}

bool recognize_gccgo_pointer(Type& t, const llvm::DWARFDie& pointee) {
  const char* n = pointee.isValid() && pointee.getTag() == llvm::dwarf::DW_TAG_typedef
                      ? pointee.getShortName()
                      : nullptr;
  if (!n) return false;
  std::string_view name = n;
  if (name == "runtime.hmap") {
    t.kind = TypeKind::Map;
    t.name = "map";
  } else if (name == "__go_channel") {
    t.kind = TypeKind::Chan;
    t.name = "chan";
  } else if (name == "__go_descriptor") {
    t.kind = TypeKind::Func;
    t.name = "func";
  } else {
    return false;
  }
  t.elem = kNoType;
  return true;
}

std::string gccgo_package(const llvm::DWARFDie& unit_die) {
  const char* producer = llvm::dwarf::toString(unit_die.find(llvm::dwarf::DW_AT_producer), nullptr);
  if (!producer || !std::string_view(producer).starts_with("GNU Go")) return "";
  for (const llvm::DWARFDie& c : unit_die.children()) {
    if (!c.isValid()) break;
    // Functions compiled here, not declarations of other packages' callees.
    if (c.getTag() != llvm::dwarf::DW_TAG_subprogram || !c.find(llvm::dwarf::DW_AT_low_pc))
      continue;
    const char* fn = c.getShortName();
    if (!fn) continue;
    std::string_view name = fn;
    auto slash = name.rfind('/');
    auto dot = name.find('.', slash == std::string_view::npos ? 0 : slash + 1);
    if (dot != std::string_view::npos && dot > 0) return std::string(name.substr(0, dot));
  }
  return "";
}

std::string gccgo_reflection_name(std::string_view descriptor_name) {
  std::string out;
  for (size_t at = 0; at < descriptor_name.size();) {
    size_t open = descriptor_name.find('\t', at);
    size_t close = open == std::string_view::npos ? open : descriptor_name.find('\t', open + 1);
    if (close == std::string_view::npos) {
      out += descriptor_name.substr(at);
      break;
    }
    out += descriptor_name.substr(at, open - at);
    at = close + 1;
  }
  return out;
}

std::string gccgo_type_name(const llvm::DWARFDie& die, const std::string& package) {
  const char* n = die.getShortName();
  std::string name = n ? n : "";
  if (package.empty() || name.empty() || name.find('.') != std::string::npos) return name;
  std::string file = die.getDeclFile(llvm::DILineInfoSpecifier::FileLineInfoKind::RawValue);
  if (file.empty() || file.ends_with("<built-in>")) return name;
  return package + "." + name;
}

std::vector<Variable> gccgo_results(const llvm::DWARFDie& type_die,
                                    const llvm::DWARFDie& subprogram, TypeId type,
                                    const TypeTable& types) {
  std::vector<Variable> out;
  if (type == kNoType || type >= types.size()) return out;
  const Type& t = types.get(type);
  // A struct type literal as the one result has a DIE of its own elsewhere;
  // the results' struct is the function's preceding sibling.
  const bool several = type_die.getTag() == llvm::dwarf::DW_TAG_structure_type &&
                       type_die.getShortName() == nullptr && t.kind == TypeKind::Struct &&
                       type_die.getSibling() == subprogram;
  if (!several) {
    out.push_back(Variable{.type = type, .is_result = true});
    return out;
  }
  for (const Field& f : t.fields)
    out.push_back(
        Variable{.name = f.name == "UNNAMED" ? "" : f.name, .type = f.type, .is_result = true});
  return out;
}

namespace {

llvm::DWARFDie first_param(const llvm::DWARFDie& subprogram) {
  for (const llvm::DWARFDie& c : subprogram.children()) {
    if (!c.isValid()) break;
    if (c.getTag() == llvm::dwarf::DW_TAG_formal_parameter) return c;
  }
  return {};
}

// The name of the type `ptr` points to, without gccgo's leading '.' for
// named types (".main.ledger").
std::string pointee_name(const llvm::DWARFDie& ptr) {
  if (!ptr.isValid() || ptr.getTag() != llvm::dwarf::DW_TAG_pointer_type) return "";
  llvm::DWARFDie t = ptr.getAttributeValueAsReferencedDie(llvm::dwarf::DW_AT_type);
  const char* n = t.isValid() ? t.getShortName() : nullptr;
  std::string_view name = n ? n : "";
  if (name.starts_with(".")) name.remove_prefix(1);
  return std::string(name);
}

}  // namespace

std::string gccgo_method_name(const llvm::DWARFDie& subprogram) {
  const char* n = subprogram.getShortName();
  llvm::DWARFDie recv = first_param(subprogram);
  if (!n || !recv.isValid()) return "";
  const char* rn = recv.getShortName();
  if (!rn || std::string_view(rn) == "pointer") return "";
  std::string type = pointee_name(recv.getAttributeValueAsReferencedDie(llvm::dwarf::DW_AT_type));
  std::string_view name = n;
  if (type.empty() || !name.starts_with(type + ".")) return "";
  std::string_view method = name.substr(type.size() + 1);
  if (method.empty() || method.find('.') != std::string_view::npos) return "";
  auto dot = type.rfind('.');
  if (dot == std::string::npos) return "";
  return type.substr(0, dot) + ".(*" + type.substr(dot + 1) + ")." + std::string(method);
}

void gccgo_name_receiver(const llvm::DWARFDie& subprogram, std::vector<Variable>& params) {
  llvm::DWARFDie recv = first_param(subprogram);
  const char* rn = recv.isValid() ? recv.getShortName() : nullptr;
  if (params.empty() || !rn || std::string_view(rn) != "pointer" || params[0].name != "pointer")
    return;
  llvm::DWARFDie ptr = recv.getAttributeValueAsReferencedDie(llvm::dwarf::DW_AT_type);
  if (!ptr.isValid() || ptr.getTag() != llvm::dwarf::DW_TAG_pointer_type) return;
  llvm::DWARFDie pointee = ptr.getAttributeValueAsReferencedDie(llvm::dwarf::DW_AT_type);
  for (const llvm::DWARFDie& c : subprogram.children()) {
    if (!c.isValid()) break;
    if (c.getTag() != llvm::dwarf::DW_TAG_variable) continue;
    llvm::DWARFDie t = c.getAttributeValueAsReferencedDie(llvm::dwarf::DW_AT_type);
    if (t.isValid() && t.getOffset() == pointee.getOffset() && c.getShortName()) {
      params[0].name = c.getShortName();
      return;
    }
  }
}

}  // namespace dynprobe

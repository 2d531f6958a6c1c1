#include "core/signature.h"

namespace dynprobe {

namespace {

std::string type_name(const TypeTable& types, TypeId id) {
  const Type& t = types.get(id);
  return t.name.empty() ? std::string(kind_name(t.kind)) : t.name;
}

// Go names unnamed results "~r0", "~r1" (or "~r.." ) in DWARF; they are not
// names a user wrote, so the signature leaves them out.
bool is_synthetic_result_name(const std::string& name) {
  return name.empty() || name.starts_with("~");
}

std::string go_signature(const Function& fn, const TypeTable& types) {
  std::string out = "func(";
  for (size_t i = 0; i < fn.params.size(); ++i) {
    if (i) out += ", ";
    out += fn.params[i].name + " " + type_name(types, fn.params[i].type);
  }
  out += ")";
  if (fn.results.empty()) return out;
  bool named = false;
  for (const Variable& r : fn.results) named |= !is_synthetic_result_name(r.name);
  if (fn.results.size() == 1 && !named) return out + " " + type_name(types, fn.results[0].type);
  out += " (";
  for (size_t i = 0; i < fn.results.size(); ++i) {
    if (i) out += ", ";
    if (named) out += fn.results[i].name + " ";
    out += type_name(types, fn.results[i].type);
  }
  return out + ")";
}

std::string c_signature(const Function& fn, const TypeTable& types) {
  std::string out = type_name(types, fn.return_type) + " (";
  for (size_t i = 0; i < fn.params.size(); ++i) {
    if (i) out += ", ";
    out += type_name(types, fn.params[i].type);
    if (!fn.params[i].name.empty()) out += " " + fn.params[i].name;
  }
  return out + ")";
}

}  // namespace

std::string signature(const Function& fn, const TypeTable& types) {
  return fn.language == Language::Go ? go_signature(fn, types) : c_signature(fn, types);
}

std::string result_key(size_t index) { return "$" + std::to_string(index); }

}  // namespace dynprobe

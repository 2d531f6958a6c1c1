#include "core/go_dynamic_type.h"

#include "core/gccgo_types.h"

namespace dynprobe {

namespace {

// A Go type by the name %T prints; "*T" from T when the DWARF has no such
// pointer type by name (gccgo's pointer types are unnamed).
std::optional<TypeId> go_type_named(Binary& binary, std::string_view name) {
  if (auto t = binary.debug().type_named(name)) return *t;
  if (!name.starts_with("*")) return std::nullopt;
  auto elem = go_type_named(binary, name.substr(1));
  if (!elem) return std::nullopt;
  return binary.debug().pointer_to(*elem);
}

}  // namespace

std::optional<TypeId> go_dynamic_type(Binary& binary, uint64_t address) {
  if (const Symbol* base = binary.symbol("runtime.types")) {
    auto t = binary.debug().type_by_runtime_address(address - base->addr);
    return t ? std::optional<TypeId>(*t) : std::nullopt;
  }
  for (const Symbol& s : binary.symbols_at(address)) {
    std::string_view name = s.name;
    const bool pointer = name.ends_with("..p");
    if (!pointer && !name.ends_with("..d")) continue;
    name.remove_suffix(3);
    auto t = go_type_named(binary, pointer ? "*" + std::string(name) : std::string(name));
    if (t) return t;
  }
  return std::nullopt;
}

NamedType go_type_by_descriptor_name(Binary& binary, std::string_view descriptor_name) {
  NamedType out{.name = gccgo_reflection_name(descriptor_name)};
  out.type = go_type_named(binary, out.name);
  return out;
}

}  // namespace dynprobe

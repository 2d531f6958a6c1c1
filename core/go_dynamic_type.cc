#include "core/go_dynamic_type.h"

#include <string_view>

namespace dynprobe {

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
    auto t = binary.debug().type_named(name);
    if (!t) continue;
    return pointer ? binary.debug().pointer_to(*t) : *t;
  }
  return std::nullopt;
}

}  // namespace dynprobe

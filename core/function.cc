#include "core/function.h"

namespace dynprobe {

std::string_view language_name(Language l) {
  switch (l) {
    case Language::Go:
      return "go";
    case Language::C:
      return "c";
    case Language::CPlusPlus:
      return "c++";
    case Language::Rust:
      return "rust";
    case Language::Unknown:
      break;
  }
  return "unknown";
}

Location Variable::location_at(uint64_t pc) const {
  for (const LocationRange& r : locations)
    if (pc >= r.low && pc < r.high) return r.location;
  return {};
}

}  // namespace dynprobe

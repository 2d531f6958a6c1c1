#include "abi/registry.h"

namespace dynprobe {

#define DYNPROBE_ABI_PLUGIN(id) std::unique_ptr<AbiPlugin> make_##id##_abi();
#include "abi/plugins.def"
#undef DYNPROBE_ABI_PLUGIN

AbiRegistry::AbiRegistry() {
#define DYNPROBE_ABI_PLUGIN(id) plugins_.push_back(make_##id##_abi());
#include "abi/plugins.def"
#undef DYNPROBE_ABI_PLUGIN
}

Result<const AbiPlugin*> AbiRegistry::select(const BinaryFacts& binary, const Function& fn) const {
  const AbiPlugin* best = nullptr;
  int best_score = 0;
  for (const auto& p : plugins_) {
    int score = p->match(binary, fn);
    if (score > best_score) {
      best = p.get();
      best_score = score;
    }
  }
  if (best == nullptr) {
    std::string what(language_name(binary.language));
    if (binary.go_version) what += " " + binary.go_version->to_string();
    return fail("no ABI plugin for " + what + " function " + fn.name);
  }
  return best;
}

const AbiPlugin* AbiRegistry::by_name(std::string_view name) const {
  for (const auto& p : plugins_)
    if (p->name() == name) return p.get();
  return nullptr;
}

}  // namespace dynprobe

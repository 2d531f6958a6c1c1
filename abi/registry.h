#pragma once

#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "abi/abi.h"

namespace dynprobe {

// Owns one instance of every plugin listed in abi/plugins.def. Cheap to
// construct; callers make one where they need it (no global registry).
class AbiRegistry {
 public:
  AbiRegistry();

  // The best-matching plugin, or an error naming the language/version seen.
  Result<const AbiPlugin*> select(const BinaryFacts& binary, const Function& fn) const;
  const AbiPlugin* by_name(std::string_view name) const;
  std::span<const std::unique_ptr<AbiPlugin>> plugins() const { return plugins_; }

 private:
  std::vector<std::unique_ptr<AbiPlugin>> plugins_;
};

}  // namespace dynprobe

// The ABI plugin interface: the only place that knows calling conventions.
// A plugin answers, for one function of one binary, where each parameter
// lives at the function's first instruction, where each result lives at a
// RET instruction, and how a probe finds its execution context (goroutine or
// thread). Plugins are stateless; see abi/plugins.def to register one.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/function.h"
#include "core/go_version.h"
#include "core/location.h"
#include "core/result.h"
#include "core/types.h"

namespace dynprobe {

// What plugins may use to decide whether they apply.
struct BinaryFacts {
  Language language = Language::Unknown;
  std::optional<GoVersion> go_version;  // from .go.buildinfo
  bool pie = false;
};

enum class LocationSource : uint8_t {
  Abi,    // derived from the calling convention and the type's layout
  Dwarf,  // the function's DWARF location (list) at the probed PC
};

struct ValueLocation {
  Location location;
  LocationSource source = LocationSource::Abi;
};

// How a probe finds the key of the in-flight call.
enum class ContextSource : uint8_t {
  GoRegisterG,  // g is in R14 at entry and at every RET (Go register ABI)
  GoTlsG,       // g is at fsbase - 8 (Go ABI0 on linux/amd64)
  Thread,       // native code: key by thread id and SP
};

class AbiPlugin {
 public:
  virtual ~AbiPlugin() = default;

  // Stable identifier printed by `describe`: "go-stack", "go-register", "sysv".
  virtual std::string_view name() const = 0;

  // 0: does not apply. Otherwise the highest score among plugins wins.
  virtual int match(const BinaryFacts& binary, const Function& fn) const = 0;

  // One entry per fn.params, in order: the location at fn's first instruction.
  virtual Result<std::vector<ValueLocation>> params_at_entry(const Function& fn,
                                                             const TypeTable& types) const = 0;

  // One entry per fn.results (Go) or one for fn.return_type (C-like): the
  // location at a RET instruction, when SP is back at its entry value.
  virtual Result<std::vector<ValueLocation>> results_at_return(const Function& fn,
                                                               const TypeTable& types) const = 0;

  virtual ContextSource context_source() const = 0;
};

}  // namespace dynprobe

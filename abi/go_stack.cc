// Go's stack-based ABI0 (every Go function up to Go 1.16 on amd64): the
// arguments, receiver first, laid out from 8(SP) like struct fields, then the
// results from the next pointer-aligned offset. abi-internal.md notes that its
// assignment algorithm with zero registers is exactly this convention, so the
// shared GoValueAssigner runs with no registers.
#include <memory>

#include "abi/abi.h"
#include "abi/go_layout.h"

namespace dynprobe {

namespace {

class GoStackAbi final : public AbiPlugin {
 public:
  std::string_view name() const override { return "go-stack"; }

  int match(const BinaryFacts& binary, const Function& fn) const override {
    if (!is_gc_go(binary, fn)) return 0;
    auto v = go_version_of(binary, fn);
    return v && *v < kGoFirstRegabi ? 10 : 0;
  }

  Result<std::vector<ValueLocation>> params_at_entry(const Function& fn,
                                                     const TypeTable& types) const override {
    return go_params_at_entry(fn, types, {}, 0);
  }

  Result<std::vector<ValueLocation>> results_at_return(const Function& fn,
                                                       const TypeTable& types) const override {
    return go_results_at_return(fn, types, {}, 0);
  }

  ContextSource context_source() const override { return ContextSource::GoTlsG; }
};

}  // namespace

std::unique_ptr<AbiPlugin> make_go_stack_abi() { return std::make_unique<GoStackAbi>(); }

}  // namespace dynprobe

// Go's register-based ABIInternal on amd64 (Go >= 1.17): abi-internal.md,
// "Function call argument and result passing" and "amd64 architecture".
#include <array>
#include <memory>

#include "abi/abi.h"
#include "abi/go_layout.h"

namespace dynprobe {

namespace {

constexpr std::array<Reg, 9> kIntRegs = {Reg::RAX, Reg::RBX, Reg::RCX, Reg::RDI, Reg::RSI,
                                         Reg::R8,  Reg::R9,  Reg::R10, Reg::R11};
constexpr unsigned kFloatRegs = 15;  // X0-X14; X15 is the fixed zero register

class GoRegisterAbi final : public AbiPlugin {
 public:
  std::string_view name() const override { return "go-register"; }

  int match(const BinaryFacts& binary, const Function& fn) const override {
    if (!is_gc_go(binary, fn)) return 0;
    if (auto v = go_version_of(binary, fn)) return *v >= kGoFirstRegabi ? 10 : 0;
    return go_producer_says_regabi(fn.producer) ? 5 : 0;
  }

  Result<std::vector<ValueLocation>> params_at_entry(const Function& fn,
                                                     const TypeTable& types) const override {
    return go_params_at_entry(fn, types, kIntRegs, kFloatRegs);
  }

  Result<std::vector<ValueLocation>> results_at_return(const Function& fn,
                                                       const TypeTable& types) const override {
    return go_results_at_return(fn, types, kIntRegs, kFloatRegs);
  }

  ContextSource context_source() const override { return ContextSource::GoRegisterG; }
};

}  // namespace

std::unique_ptr<AbiPlugin> make_go_register_abi() { return std::make_unique<GoRegisterAbi>(); }

}  // namespace dynprobe

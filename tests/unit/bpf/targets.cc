#include "tests/unit/bpf/targets.h"

#include <utility>

#include "tests/unit/bpf/self_probe.h"

namespace dynprobe::bpf::testing {

namespace {

template <int I>
__attribute__((noinline, noipa)) uint64_t target(uint64_t x) {
  asm volatile("" ::: "memory");
  return x + I;
}

template <int... I>
constexpr std::array<TargetFn, sizeof...(I)> make_targets(std::integer_sequence<int, I...>) {
  return {&target<I>...};
}

}  // namespace

const std::array<TargetFn, kTargets> kTargetFns =
    make_targets(std::make_integer_sequence<int, kTargets>());

Result<TargetSites> target_sites(int n) {
  TargetSites s;
  for (int i = 0; i < n; ++i) {
    auto site = site_of(reinterpret_cast<const void*>(kTargetFns[i]));
    if (!site) return std::unexpected(site.error());
    s.binary = site->binary;
    s.offsets.push_back(site->offset);
  }
  return s;
}

}  // namespace dynprobe::bpf::testing

// A hundred distinct functions of the test binary to probe, so attach costs
// can be measured per offset without touching code the tests run otherwise.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"

namespace dynprobe::bpf::testing {

inline constexpr int kTargets = 100;
using TargetFn = uint64_t (*)(uint64_t);
extern const std::array<TargetFn, kTargets> kTargetFns;

struct TargetSites {
  std::string binary;
  std::vector<uint64_t> offsets;  // of kTargetFns[0..n)
};
Result<TargetSites> target_sites(int n);

}  // namespace dynprobe::bpf::testing

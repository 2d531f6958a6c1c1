// Probe sites inside the test binary itself, found the way dynprobe finds them
// in a target: the mapping that holds the code gives the file and offset.
#pragma once

#include <cstdint>
#include <string>

#include "core/result.h"

namespace dynprobe::bpf::testing {

struct ProbeSite {
  std::string binary;
  uint64_t offset = 0;
};

Result<ProbeSite> site_of(const void* code);

template <class F>
Result<ProbeSite> site_of_function(F* fn) {
  return site_of(reinterpret_cast<const void*>(fn));
}

}  // namespace dynprobe::bpf::testing

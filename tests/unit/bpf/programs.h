// Small probe programs the tests share, written with the assembler the way
// the backend will emit its own.
#pragma once

#include <cstdint>

#include "backends/bpf/map.h"
#include "backends/bpf/program.h"
#include "core/result.h"

namespace dynprobe::bpf::testing {

// What record_args_program submits per hit.
struct ArgRecord {
  uint64_t rdi;
  uint64_t cookie;
  uint64_t rip;
  uint64_t pid_tgid;
};

// Submits an ArgRecord to the ring buffer on every hit.
Result<Program> record_args_program(const Map& ring);

// Adds one to slot 0 of an Array map of uint64_t on every hit.
Result<Program> count_program(const Map& counts, const LoadOptions& options = {});

// Adds one to the slot named by the attach cookie of an Array map of uint64_t.
Result<Program> count_by_cookie_program(const Map& counts, const LoadOptions& options = {});

}  // namespace dynprobe::bpf::testing

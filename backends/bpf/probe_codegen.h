// Emits the two BPF programs of a probe from its physical plan:
//  entry:  find the call's key (goroutine id and stack depth, or thread and
//          SP), copy the arguments into a record, and keep it in flight (or
//          emit it at once when nothing is read at return);
//  return: at every RET, find the in-flight record by the same key, add the
//          results and the latency, and submit it to the ring buffer.
#pragma once

#include <cstdint>
#include <vector>

#include "backends/bpf/insn.h"
#include "backends/bpf/kernel_offsets.h"
#include "core/plan/plan.h"
#include "core/result.h"

namespace dynprobe::bpf {

// Map fds the programs refer to.
struct ProbeMaps {
  int inflight = -1;  // LRU hash: CallKey -> the entry part of the record
  int scratch = -1;   // per-CPU array, one slot of at least entry_size bytes
  int ring = -1;      // ring buffer shared by the session
  int stats = -1;     // per-CPU array of SessionStats
};

// In-flight key: unique per active call of one function.
struct CallKey {
  uint64_t context;  // goid, or pid_tgid for threads
  uint64_t depth;    // g.stack.hi - SP, or SP for threads
};

// Per-CPU counters, summed by the session.
struct SessionStats {
  uint64_t drops;           // ring buffer full
  uint64_t orphans;         // a RET without a recorded entry (probe attached mid-call, eviction)
  uint64_t context_errors;  // g or goid unreadable: the call was not recorded
  uint64_t reserved;
};

Result<std::vector<bpf_insn>> emit_entry_program(const ProbePlan& plan, const ProbeMaps& maps,
                                                 const TaskOffsets& task);
Result<std::vector<bpf_insn>> emit_return_program(const ProbePlan& plan, const ProbeMaps& maps,
                                                  const TaskOffsets& task);

}  // namespace dynprobe::bpf

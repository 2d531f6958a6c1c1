// A tracing session: the maps, programs and uprobe links of every probe,
// owned together so that they vanish together (on return, error, signal or
// crash of dynprobe the kernel drops the links with their fds).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "backends/bpf/probe_codegen.h"
#include "core/plan/plan.h"
#include "core/result.h"

namespace dynprobe::bpf {

struct SessionOptions {
  std::optional<pid_t> pid;        // only this process; else every process running the binary
  uint32_t ring_bytes = 8u << 20;  // ring buffer size (power of two)
  uint32_t max_in_flight = 16384;  // per probe; least recently used entries are evicted
};

struct SessionCounters {
  uint64_t drops = 0;
  uint64_t orphans = 0;
  uint64_t context_errors = 0;
};

class TraceSession {
 public:
  using RecordCallback = std::function<void(std::span<const std::byte>)>;

  // Creates maps, loads two programs per probe and attaches them: the entry
  // program at the function's first instruction, the return program at each
  // RET. Errors name the probe and the failing step.
  static Result<TraceSession> start(const std::vector<ProbePlan>& plans,
                                    const SessionOptions& options, RecordCallback on_record);

  TraceSession(TraceSession&&) noexcept;
  TraceSession& operator=(TraceSession&&) noexcept;
  ~TraceSession();

  // Waits up to `timeout` and delivers ready records; returns how many.
  Result<int> poll(std::chrono::milliseconds timeout);
  // Delivers what is ready without waiting (records are submitted without
  // wake-ups, so poll alone may time out with records waiting).
  Result<int> consume();
  int ring_fd() const;  // readable when records are ready
  // Detaches every probe; maps stay readable for a final drain.
  void detach();

  SessionCounters counters() const;
  uint64_t in_flight() const;  // calls entered and not yet returned
  size_t attached_sites() const;

  struct State;

 private:
  explicit TraceSession(std::unique_ptr<State> s);
  std::unique_ptr<State> s_;
};

}  // namespace dynprobe::bpf

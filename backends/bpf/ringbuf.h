// Reads a BPF ring buffer map: each record the probes submitted is handed,
// in submission order, to a callback as raw bytes. The records are only
// valid during the call; decoding is the caller's business.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <span>

#include "backends/bpf/map.h"
#include "core/result.h"

struct ring_buffer;

namespace dynprobe::bpf {

class RingBufferReader {
 public:
  using Callback = std::function<void(std::span<const std::byte>)>;

  // The map must be a MapType::RingBuf and outlive the reader.
  static Result<RingBufferReader> open(const Map& ring, Callback callback);
  RingBufferReader(RingBufferReader&&) noexcept;
  RingBufferReader& operator=(RingBufferReader&&) noexcept;
  ~RingBufferReader();

  // Waits up to timeout for records, then delivers all that are ready.
  // Returns how many were delivered; an interrupted wait delivers none.
  Result<int> poll(std::chrono::milliseconds timeout);
  // Delivers what is ready without waiting.
  Result<int> consume();
  // Readable when records are ready, for callers with their own event loop.
  int epoll_fd() const;

 private:
  struct State;
  explicit RingBufferReader(std::unique_ptr<State> state);
  // Heap-held so libbpf's context pointer stays valid when the reader moves.
  std::unique_ptr<State> state_;
};

}  // namespace dynprobe::bpf

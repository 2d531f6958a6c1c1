#include "backends/bpf/ringbuf.h"

#include <bpf/libbpf.h>

#include <cerrno>
#include <cstring>

namespace dynprobe::bpf {

struct RingBufferReader::State {
  Callback callback;
  ring_buffer* rb = nullptr;
  ~State() {
    if (rb) ring_buffer__free(rb);
  }
};

RingBufferReader::RingBufferReader(std::unique_ptr<State> state) : state_(std::move(state)) {}
RingBufferReader::RingBufferReader(RingBufferReader&&) noexcept = default;
RingBufferReader& RingBufferReader::operator=(RingBufferReader&&) noexcept = default;
RingBufferReader::~RingBufferReader() = default;

namespace {
int deliver(void* ctx, void* data, size_t size) {
  auto* state = static_cast<RingBufferReader::Callback*>(ctx);
  (*state)(std::span<const std::byte>(static_cast<const std::byte*>(data), size));
  return 0;
}
}  // namespace

Result<RingBufferReader> RingBufferReader::open(const Map& ring, Callback callback) {
  if (ring.spec().type != MapType::RingBuf)
    return fail("BPF map '" + ring.spec().name + "' is not a ring buffer");
  auto state = std::make_unique<State>();
  state->callback = std::move(callback);
  state->rb = ring_buffer__new(ring.fd(), deliver, &state->callback, nullptr);
  if (!state->rb)
    return fail("opening ring buffer '" + ring.spec().name + "': " + std::strerror(errno));
  return RingBufferReader(std::move(state));
}

Result<int> RingBufferReader::poll(std::chrono::milliseconds timeout) {
  int n = ring_buffer__poll(state_->rb, static_cast<int>(timeout.count()));
  if (n == -EINTR) return 0;
  if (n < 0) return fail(std::string("polling ring buffer: ") + std::strerror(-n));
  return n;
}

Result<int> RingBufferReader::consume() {
  int n = ring_buffer__consume(state_->rb);
  if (n < 0) return fail(std::string("reading ring buffer: ") + std::strerror(-n));
  return n;
}

int RingBufferReader::epoll_fd() const { return ring_buffer__epoll_fd(state_->rb); }

}  // namespace dynprobe::bpf

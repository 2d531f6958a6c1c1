#include "backends/bpf/trace_session.h"

#include <bpf/bpf.h>

#include <algorithm>

#include "backends/bpf/kernel_offsets.h"
#include "backends/bpf/map.h"
#include "backends/bpf/program.h"
#include "backends/bpf/ringbuf.h"
#include "backends/bpf/uprobe.h"

namespace dynprobe::bpf {

struct TraceSession::State {
  // Destruction runs bottom-up: links go first, then programs, then maps.
  std::vector<Map> maps;             // ring, stats, scratch
  std::vector<Map> inflight;         // one per probe
  std::vector<Program> programs;
  std::optional<RingBufferReader> reader;
  std::vector<UprobeLink> links;
};

TraceSession::TraceSession(std::unique_ptr<State> s) : s_(std::move(s)) {}
TraceSession::TraceSession(TraceSession&&) noexcept = default;
TraceSession& TraceSession::operator=(TraceSession&&) noexcept = default;
TraceSession::~TraceSession() = default;

Result<TraceSession> TraceSession::start(const std::vector<ProbePlan>& plans,
                                         const SessionOptions& options,
                                         RecordCallback on_record) {
  auto state = std::make_unique<State>();

  TaskOffsets task;
  bool need_task = std::any_of(plans.begin(), plans.end(),
                               [](const ProbePlan& p) { return p.context == ContextSource::GoTlsG; });
  if (need_task) {
    auto btf = KernelBtf::load_vmlinux();
    if (!btf) return std::unexpected(btf.error());
    auto offsets = task_offsets(*btf);
    if (!offsets) return std::unexpected(offsets.error());
    task = *offsets;
  }

  uint32_t scratch_size = 8;
  for (const ProbePlan& p : plans) scratch_size = std::max(scratch_size, p.entry_size);
  for (const MapSpec& spec :
       {MapSpec{.type = MapType::RingBuf, .name = "dp_ring", .max_entries = options.ring_bytes},
        MapSpec{.type = MapType::PerCpuArray, .name = "dp_stats", .key_size = 4,
                .value_size = sizeof(SessionStats), .max_entries = 1},
        MapSpec{.type = MapType::PerCpuArray, .name = "dp_scratch", .key_size = 4,
                .value_size = scratch_size, .max_entries = 1}}) {
    auto m = Map::create(spec);
    if (!m) return std::unexpected(m.error());
    state->maps.push_back(std::move(*m));
  }

  auto pmu = UprobePmu::detect();
  if (!pmu) return std::unexpected(pmu.error());

  for (const ProbePlan& p : plans) {
    auto inflight = Map::create(MapSpec{.type = MapType::LruHash, .name = "dp_inflight",
                                        .key_size = sizeof(CallKey), .value_size = p.entry_size,
                                        .max_entries = options.max_in_flight});
    if (!inflight) return std::unexpected(inflight.error());
    ProbeMaps maps{.inflight = inflight->fd(), .scratch = state->maps[2].fd(),
                   .ring = state->maps[0].fd(), .stats = state->maps[1].fd()};
    state->inflight.push_back(std::move(*inflight));

    auto entry_code = emit_entry_program(p, maps, task);
    if (!entry_code) return fail(p.label + ": " + entry_code.error().message);
    auto entry = Program::load("dp_entry", *entry_code);
    if (!entry) return fail(p.label + ": entry program rejected: " + entry.error().message);
    auto link = UprobeLink::attach(*pmu, *entry, {.binary = p.binary, .offset = p.entry.file_offset, .pid = options.pid});
    if (!link) return fail(p.label + ": " + link.error().message);
    state->links.push_back(std::move(*link));
    state->programs.push_back(std::move(*entry));

    if (!p.needs_return()) continue;
    auto ret_code = emit_return_program(p, maps, task);
    if (!ret_code) return fail(p.label + ": " + ret_code.error().message);
    auto ret = Program::load("dp_return", *ret_code);
    if (!ret) return fail(p.label + ": return program rejected: " + ret.error().message);
    for (const AttachSite& site : p.returns) {
      auto rl = UprobeLink::attach(*pmu, *ret, {.binary = p.binary, .offset = site.file_offset, .pid = options.pid});
      if (!rl) return fail(p.label + ": " + rl.error().message);
      state->links.push_back(std::move(*rl));
    }
    state->programs.push_back(std::move(*ret));
  }

  auto reader = RingBufferReader::open(state->maps[0], std::move(on_record));
  if (!reader) return std::unexpected(reader.error());
  state->reader = std::move(*reader);
  return TraceSession(std::move(state));
}

Result<int> TraceSession::poll(std::chrono::milliseconds timeout) { return s_->reader->poll(timeout); }

int TraceSession::ring_fd() const { return s_->reader->epoll_fd(); }

void TraceSession::detach() { s_->links.clear(); }

size_t TraceSession::attached_sites() const { return s_->links.size(); }

SessionCounters TraceSession::counters() const {
  SessionCounters c;
  uint32_t zero = 0;
  auto per_cpu = s_->maps[1].get_per_cpu<SessionStats>(zero);
  if (!per_cpu) return c;
  for (const SessionStats& s : *per_cpu) {
    c.drops += s.drops;
    c.orphans += s.orphans;
    c.context_errors += s.context_errors;
  }
  return c;
}

uint64_t TraceSession::in_flight() const {
  uint64_t n = 0;
  for (const Map& m : s_->inflight) {
    CallKey key{}, next{};
    const void* prev = nullptr;
    while (bpf_map_get_next_key(m.fd(), prev, &next) == 0) {
      ++n;
      key = next;
      prev = &key;
    }
  }
  return n;
}

}  // namespace dynprobe::bpf

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
  std::vector<Map> maps;      // ring, stats, scratch
  std::vector<Map> inflight;  // one per probe
  std::vector<Program> programs;
  std::optional<RingBufferReader> reader;
  std::vector<UprobeLink> links;             // one per site (kernels before 6.6)
  std::vector<UprobeMultiLink> multi_links;  // one per program
  size_t sites = 0;
};

namespace {

// One uprobe_multi link per program: attaching and, above all, detaching are
// far cheaper than one perf-event link per site (docs/bpf-backend.md). Kernels
// before 6.6 lack it; then every site gets its own perf-event link.
class Attacher {
 public:
  Attacher(TraceSession::State& state, std::optional<pid_t> pid) : state_(state), pid_(pid) {}

  Result<Program> load(const char* name, const std::vector<bpf_insn>& code) {
    LoadOptions opts;
    if (multi_) opts.expected_attach_type = kAttachTraceUprobeMulti;
    return Program::load(name, code, opts);
  }

  // Attaches `program` at every offset; reloads it once without
  // uprobe_multi when the kernel refuses that link type.
  Status attach(Program& program, const char* name, const std::vector<bpf_insn>& code,
                const std::string& binary, const std::vector<uint64_t>& offsets) {
    if (multi_) {
      UprobeMultiTarget target{.binary = binary, .offsets = offsets, .pid = pid_};
      auto link = UprobeMultiLink::attach(program, target);
      if (link) {
        state_.multi_links.push_back(std::move(*link));
        state_.sites += offsets.size();
        return {};
      }
      if (!state_.multi_links.empty() ||
          link.error().message.find("Linux >= 6.6") == std::string::npos)
        return std::unexpected(link.error());
      multi_ = false;
      auto reloaded = load(name, code);
      if (!reloaded) return std::unexpected(reloaded.error());
      program = std::move(*reloaded);
    }
    if (!pmu_) {
      auto detected = UprobePmu::detect();
      if (!detected) return std::unexpected(detected.error());
      pmu_ = *detected;
    }
    for (uint64_t off : offsets) {
      UprobeTarget target{.binary = binary, .offset = off, .pid = pid_};
      auto link = UprobeLink::attach(*pmu_, program, target);
      if (!link) return std::unexpected(link.error());
      state_.links.push_back(std::move(*link));
      ++state_.sites;
    }
    return {};
  }

 private:
  TraceSession::State& state_;
  std::optional<pid_t> pid_;
  std::optional<UprobePmu> pmu_;
  bool multi_ = true;
};

}  // namespace

TraceSession::TraceSession(std::unique_ptr<State> s) : s_(std::move(s)) {}
TraceSession::TraceSession(TraceSession&&) noexcept = default;
TraceSession& TraceSession::operator=(TraceSession&&) noexcept = default;
TraceSession::~TraceSession() = default;

Result<TraceSession> TraceSession::start(const std::vector<ProbePlan>& plans,
                                         const SessionOptions& options, RecordCallback on_record) {
  auto state = std::make_unique<State>();

  TaskOffsets task;
  bool need_task = std::any_of(plans.begin(), plans.end(), [](const ProbePlan& p) {
    return p.context == ContextSource::GoTlsG;
  });
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
        MapSpec{.type = MapType::PerCpuArray,
        .name = "dp_stats",
        .key_size = 4,
        .value_size = sizeof(SessionStats),
        .max_entries = 1},
        MapSpec{.type = MapType::PerCpuArray,
        .name = "dp_scratch",
        .key_size = 4,
        .value_size = scratch_size,
        .max_entries = 1}}) {
    auto m = Map::create(spec);
    if (!m) return std::unexpected(m.error());
    state->maps.push_back(std::move(*m));
  }

  Attacher attacher(*state, options.pid);
  for (const ProbePlan& p : plans) {
    ProbeMaps maps{
        .scratch = state->maps[2].fd(), .ring = state->maps[0].fd(), .stats = state->maps[1].fd()};
    // An entry-only probe (an inlined site, or arguments alone) pairs
    // nothing: its record leaves from the entry program.
    if (p.needs_return()) {
      auto inflight = Map::create(MapSpec{.type = MapType::LruHash,
                                          .name = "dp_inflight",
                                          .key_size = sizeof(CallKey),
                                          .value_size = p.entry_size,
                                          .max_entries = options.max_in_flight});
      if (!inflight) return std::unexpected(inflight.error());
      maps.inflight = inflight->fd();
      state->inflight.push_back(std::move(*inflight));
    }

    auto entry_code = emit_entry_program(p, maps, task);
    if (!entry_code) return fail(p.label + ": " + entry_code.error().message);
    auto entry = attacher.load("dp_entry", *entry_code);
    if (!entry) return fail(p.label + ": entry program rejected: " + entry.error().message);
    if (auto s = attacher.attach(*entry, "dp_entry", *entry_code, p.binary, {p.entry.file_offset});
        !s)
      return fail(p.label + ": " + s.error().message);
    state->programs.push_back(std::move(*entry));

    if (!p.needs_return()) continue;
    auto ret_code = emit_return_program(p, maps, task);
    if (!ret_code) return fail(p.label + ": " + ret_code.error().message);
    auto ret = attacher.load("dp_return", *ret_code);
    if (!ret) return fail(p.label + ": return program rejected: " + ret.error().message);
    std::vector<uint64_t> offsets;
    for (const AttachSite& site : p.returns) offsets.push_back(site.file_offset);
    if (auto s = attacher.attach(*ret, "dp_return", *ret_code, p.binary, offsets); !s)
      return fail(p.label + ": " + s.error().message);
    state->programs.push_back(std::move(*ret));
  }

  auto reader = RingBufferReader::open(state->maps[0], std::move(on_record));
  if (!reader) return std::unexpected(reader.error());
  state->reader = std::move(*reader);
  return TraceSession(std::move(state));
}

Result<int> TraceSession::poll(std::chrono::milliseconds timeout) {
  return s_->reader->poll(timeout);
}

Result<int> TraceSession::consume() { return s_->reader->consume(); }

int TraceSession::ring_fd() const { return s_->reader->epoll_fd(); }

void TraceSession::detach() {
  s_->links.clear();
  s_->multi_links.clear();
}

size_t TraceSession::attached_sites() const { return s_->sites; }

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

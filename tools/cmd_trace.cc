#include <signal.h>
#include <sys/stat.h>
#include <time.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "backends/bpf/trace_session.h"
#include "backends/decode/record_decoder.h"
#include "core/binary.h"
#include "core/go_dynamic_type.h"
#include "core/plan/inline_plan.h"
#include "core/plan/planner.h"
#include "frontends/probe_spec.h"
#include "tools/cli_args.h"
#include "tools/commands.h"
#include "tools/launched_command.h"
#include "tools/trace_output.h"

namespace po = boost::program_options;

namespace dynprobe::cli {

namespace {

volatile sig_atomic_t g_stop_signal = 0;

void on_stop_signal(int sig) { g_stop_signal = sig; }

int64_t realtime_offset_ns() {
  timespec real, mono;
  clock_gettime(CLOCK_REALTIME, &real);
  clock_gettime(CLOCK_MONOTONIC, &mono);
  return (real.tv_sec - mono.tv_sec) * 1000000000LL + (real.tv_nsec - mono.tv_nsec);
}

// A zombie has exited even though it still has a PID; /proc says which.
bool process_exists(pid_t pid) {
  FILE* f = fopen(("/proc/" + std::to_string(pid) + "/stat").c_str(), "r");
  if (!f) return false;
  char state = 0;
  int n = fscanf(f, "%*d (%*[^)]) %c", &state);
  fclose(f);
  return n == 1 && state != 'Z' && state != 'X';
}

struct TraceArgs {
  std::vector<std::string> probes;
  pid_t pid = 0;
  std::string binary;
  std::vector<std::string> command;
  std::string format = "table";
  std::string output;
  double duration = 0;
  uint64_t max_events = 0;
  std::string debug_file;
  uint32_t string_max = 256;
  uint32_t max_elems = 64;
  int depth = 3;
  uint32_t record_budget = 16000;
  std::string bytes = "string";
  uint32_t ring_mb = 8;
  bool no_inline = false;
};

}  // namespace

int run_trace(const std::vector<std::string>& all_args) {
  TraceArgs a;
  std::vector<std::string> args = all_args;
  auto dashdash = std::find(args.begin(), args.end(), "--");
  if (dashdash != args.end()) {
    a.command.assign(dashdash + 1, args.end());
    args.erase(dashdash, args.end());
  }
  po::options_description opts(
      "dynprobe trace -p PROBE [-p PROBE ...] (--pid PID | --binary PATH | -- COMMAND [ARGS])");
  opts.add_options()("help,h", "show this help")(
      "probe,p", po::value(&a.probes)->composing(),
      "FUNC (all args, results, latency) or 'FUNC(expr, ...)' with expr = param | $N | named "
      "result | @latency | @goid")("pid", po::value(&a.pid), "trace this running process")(
      "binary", po::value(&a.binary), "trace every process running this file, also later ones")(
      "format", po::value(&a.format), "table | json | csv")(
      "output,o", po::value(&a.output), "write records to FILE instead of stdout")(
      "duration", po::value(&a.duration), "stop after SECONDS")(
      "max-events", po::value(&a.max_events), "stop after N records")(
      "debug-file", po::value(&a.debug_file), "read DWARF from this file (for stripped binaries)")(
      "string-max", po::value(&a.string_max), "bytes of a string to capture (default 256)")(
      "max-elems", po::value(&a.max_elems), "elements of a slice or array to capture (default 64)")(
      "depth", po::value(&a.depth), "pointers to follow (default 3)")(
      "record-max", po::value(&a.record_budget), "bytes of followed data per call (default 16000)")(
      "bytes", po::value(&a.bytes), "[]byte as: string | hex")(
      "ring-size", po::value(&a.ring_mb),
      "ring buffer MB, a power of two (default 8); raise it when bursts drop records")(
      "no-inline", po::bool_switch(&a.no_inline),
      "probe only out-of-line calls, not the sites where the compiler inlined the function");
  std::vector<std::string> positional;
  po::variables_map vm;
  auto parsed = parse_args(args, opts, positional, vm);
  if (!parsed) return print_error("trace: " + parsed.error().message);
  if (!*parsed) return 0;
  if (!positional.empty())
    return print_error("trace: unexpected argument '" + positional[0] + "' (probes go after -p)");
  if (a.probes.empty()) return print_error("trace: give at least one probe with -p FUNC");
  int targets = (a.pid != 0) + !a.binary.empty() + !a.command.empty();
  if (targets != 1)
    return print_error("trace: give exactly one target: --pid PID, --binary PATH or -- COMMAND");
  if (a.bytes != "string" && a.bytes != "hex")
    return print_error("trace: --bytes must be string or hex, not '" + a.bytes + "'");
  if (a.depth < 0 || a.depth > 16) return print_error("trace: --depth must be between 0 and 16");
  if (a.string_max > 4096 || a.max_elems > 1024 || a.record_budget > 16000)
    return print_error(
        "trace: limits are --string-max <= 4096, --max-elems <= 1024, --record-max <= 16000");
  if (a.ring_mb == 0 || a.ring_mb > 1024 || (a.ring_mb & (a.ring_mb - 1)) != 0)
    return print_error("trace: --ring-size must be a power of two from 1 to 1024 (MB)");
  if (a.format != "table" && a.format != "json" && a.format != "csv")
    return print_error("trace: --format must be table, json or csv, not '" + a.format + "'");

  std::vector<ProbeSpec> specs;
  for (const std::string& p : a.probes) {
    auto s = parse_probe_spec(p);
    if (!s) return print_error(s.error().message);
    specs.push_back(std::move(*s));
  }

  std::optional<LaunchedCommand> launched;
  std::string path = a.binary;
  if (a.pid != 0) {
    if (a.pid < 0 || !process_exists(a.pid))
      return print_error("no process with PID " + std::to_string(a.pid));
    path = "/proc/" + std::to_string(a.pid) + "/exe";
  }
  if (!a.command.empty()) {
    auto cmd = LaunchedCommand::prepare(a.command);
    if (!cmd) return print_error(cmd.error().message);
    launched.emplace(std::move(*cmd));
    path = launched->path();
  }

  auto binary = Binary::open(path, OpenOptions{.debug_file = a.debug_file});
  if (!binary) return print_error(binary.error().message);
  std::vector<ProbePlan> plans;
  for (const ProbeSpec& s : specs) {
    PlanLimits limits{.capture = {.string_max = a.string_max,
                                  .max_elems = a.max_elems,
                                  .depth = a.depth,
                                  .record_budget = a.record_budget}};
    // Inlined call sites are probes of their own (entry only, no latency),
    // numbered after the out-of-line probe of the same spec.
    std::optional<InlinePlans> inlined;
    if (!a.no_inline) {
      auto in = plan_inline_probes(*binary, s, static_cast<uint32_t>(plans.size()) + 1, limits);
      if (!in) return print_error(in.error().message);
      inlined = std::move(*in);
    }
    if (!inlined || !inlined->inlined_only) {
      auto plan = plan_probe(*binary, s, static_cast<uint32_t>(plans.size()), limits);
      if (!plan) return print_error(plan.error().message);
      plans.push_back(std::move(*plan));
    }
    if (!inlined) continue;
    if (inlined->inlined_only && inlined->plans.empty())
      return print_error(s.function +
                         " exists only inlined, and no inlined call site of it can be "
                         "probed" +
                         (inlined->skipped.empty() ? "" : ": " + inlined->skipped[0]));
    for (const std::string& why : inlined->skipped)
      fprintf(stderr, "dynprobe: %s: inlined site not probed: %s\n", s.function.c_str(),
              why.c_str());
    uint32_t next = static_cast<uint32_t>(plans.size());
    for (ProbePlan& p : inlined->plans) {
      p.id = next++;  // the ids were provisional: the out-of-line probe may not exist
      plans.push_back(std::move(p));
    }
  }

  FILE* out = stdout;
  std::unique_ptr<FILE, int (*)(FILE*)> file(nullptr, fclose);
  if (!a.output.empty()) {
    file.reset(fopen(a.output.c_str(), "w"));
    if (!file) return print_error(a.output + ": " + strerror(errno));
    out = file.get();
  }
  auto writer = make_writer(a.format, out, plans, realtime_offset_ns());
  if (!writer) return print_error(writer.error().message);

  DecodeContext context{
      .types = &binary->types(),
      .dynamic_type = [&](uint64_t address) { return go_dynamic_type(*binary, address); },
      .descriptor_type =
          [&](std::string_view name) { return go_type_by_descriptor_name(*binary, name); },
      .symbolize = [&](uint64_t address) -> std::string {
        const Symbol* s = binary->function_containing(address);
        return s ? s->name : "";
      },
      .bytes_as_hex = a.bytes == "hex"};
  RecordDecoder decoder(plans, context);
  uint64_t records = 0, decode_errors = 0;
  bool limit_reached = false;
  auto on_record = [&](std::span<const std::byte> bytes) {
    if (limit_reached) return;
    auto call = decoder.decode(bytes);
    if (!call) {
      ++decode_errors;
      return;
    }
    (*writer)->write(*call);
    if (++records == a.max_events) limit_reached = true;
  };

  struct sigaction sa = {};
  sa.sa_handler = on_stop_signal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  auto t0 = std::chrono::steady_clock::now();
  bpf::SessionOptions sopts;
  sopts.ring_bytes = a.ring_mb << 20;
  if (a.pid) sopts.pid = a.pid;
  if (launched) sopts.pid = launched->pid();
  auto session = bpf::TraceSession::start(plans, sopts, on_record);
  if (!session) return print_error(session.error().message);
  auto attach_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  size_t inline_sites = std::count_if(plans.begin(), plans.end(),
                                      [](const ProbePlan& p) { return p.inlined.has_value(); });
  fprintf(stderr, "dynprobe: %zu probe(s)%s, %zu uprobe(s) attached in %.1f ms; %s\n",
          plans.size() - inline_sites,
          inline_sites ? (" + " + std::to_string(inline_sites) + " inlined site(s)").c_str() : "",
          session->attached_sites(), attach_ms,
          launched ? ("starting " + launched->path()).c_str() : "Ctrl-C to stop");
  if (launched) launched->release();

  auto deadline = a.duration > 0
                      ? t0 + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                 std::chrono::duration<double>(a.duration))
                      : std::chrono::steady_clock::time_point::max();
  std::string stop_reason;
  while (stop_reason.empty()) {
    // Probes submit without waking us (see probe_codegen.cc): drain what is
    // there, and only when the ring is empty wait on a short timer.
    auto polled = session->consume();
    if (polled && *polled == 0) polled = session->poll(std::chrono::milliseconds(20));
    fflush(out);
    if (!polled && errno != EINTR) stop_reason = "ring buffer error: " + polled.error().message;
    if (g_stop_signal)
      stop_reason = g_stop_signal == SIGINT ? "interrupted" : "terminated";
    else if (limit_reached)
      stop_reason = "--max-events reached";
    else if (std::chrono::steady_clock::now() >= deadline)
      stop_reason = "--duration elapsed";
    else if (launched && launched->poll_exit())
      stop_reason = "command exited";
    else if (a.pid && !process_exists(a.pid))
      stop_reason = "process " + std::to_string(a.pid) + " exited";
  }
  // Detach first, then drain what the probes had already written.
  uint64_t in_flight = session->in_flight();
  session->detach();
  while (!limit_reached) {
    auto n = session->consume();
    if (!n || *n == 0) break;
  }
  fflush(out);
  auto c = session->counters();
  fprintf(
      stderr,
      "dynprobe: %s; %llu records, %llu drops, %llu calls in flight at exit, %llu returns "
      "without entry, %llu unreadable goroutines%s\n",
      stop_reason.c_str(), static_cast<unsigned long long>(records),
      static_cast<unsigned long long>(c.drops), static_cast<unsigned long long>(in_flight),
      static_cast<unsigned long long>(c.orphans), static_cast<unsigned long long>(c.context_errors),
      decode_errors ? (", " + std::to_string(decode_errors) + " undecodable records").c_str() : "");
  if (launched) return launched->wait_exit();
  return 0;
}

}  // namespace dynprobe::cli

// Measures attach and detach time of uprobes on N offsets of one binary:
// one perf-event link per offset (UprobeLink) against one uprobe_multi link
// (UprobeMultiLink), and checks that every probe fired once per call.
// Usage: bpf_attach_bench [repetitions]   (root)
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <thread>
#include <vector>

#include "backends/bpf/map.h"
#include "backends/bpf/uprobe.h"
#include "tests/unit/bpf/programs.h"
#include "tests/unit/bpf/targets.h"

using namespace dynprobe;
using namespace dynprobe::bpf;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "bpf_attach_bench: %s\n", what.c_str());
  std::exit(1);
}

template <class T>
T must(Result<T> r) {
  if (!r) die(r.error().message);
  return std::move(*r);
}

struct Times {
  std::vector<double> attach, detach;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

void expect_hits(const Map& counts, int n, uint64_t want, const char* how) {
  for (uint32_t i = 0; i < static_cast<uint32_t>(n); ++i) {
    auto v = must(counts.get<uint64_t>(i));
    if (!v || *v != want)
      die(std::string(how) + ": offset " + std::to_string(i) + " fired " +
          std::to_string(v ? *v : 0) + " times, expected " + std::to_string(want));
  }
}

void reset(const Map& counts) {
  for (uint32_t i = 0; i < testing::kTargets; ++i)
    if (!counts.put(i, uint64_t{0})) die("reset");
}

}  // namespace

int main(int argc, char** argv) {
  int reps = argc > 1 ? std::atoi(argv[1]) : 3;
  auto counts = must(Map::create({.type = MapType::Array,
                                  .name = "by_cookie",
                                  .key_size = 4,
                                  .value_size = 8,
                                  .max_entries = testing::kTargets}));
  auto single_prog = must(testing::count_by_cookie_program(counts));
  auto multi_prog = must(
      testing::count_by_cookie_program(counts, {.expected_attach_type = kAttachTraceUprobeMulti}));
  auto pmu = must(UprobePmu::detect());

  std::printf("%8s | %-34s | %-34s | %-22s\n", "offsets", "perf-event links: attach / detach",
              "same, detached by N threads", "uprobe_multi: att / det");
  for (int n : {1, 10, 100}) {
    auto sites = must(testing::target_sites(n));
    std::vector<uint64_t> cookies;
    for (int i = 0; i < n; ++i) cookies.push_back(i);
    Times single, parallel, multi;
    for (int rep = 0; rep < reps; ++rep) {
      for (Times* t : {&single, &parallel}) {
        reset(counts);
        auto t0 = Clock::now();
        std::vector<UprobeLink> links;
        for (int i = 0; i < n; ++i)
          links.push_back(must(UprobeLink::attach(pmu, single_prog,
                                                  {.binary = sites.binary,
                                                   .offset = sites.offsets[i],
                                                   .pid = getpid(),
                                                   .cookie = cookies[i]})));
        t->attach.push_back(ms_since(t0));
        for (int i = 0; i < n; ++i) testing::kTargetFns[i](i);
        expect_hits(counts, n, 1, "perf-event links");
        t0 = Clock::now();
        if (t == &single) {
          links.clear();
        } else {
          // Each close waits for its own RCU grace periods; closing from
          // several threads lets the waits overlap.
          std::vector<std::thread> closers;
          for (auto& l : links)
            closers.emplace_back([l = std::move(l)]() mutable { UprobeLink gone = std::move(l); });
          for (auto& c : closers) c.join();
          links.clear();
        }
        t->detach.push_back(ms_since(t0));
      }
      reset(counts);
      auto t0 = Clock::now();
      std::optional<UprobeMultiLink> link = must(UprobeMultiLink::attach(
          multi_prog,
          {.binary = sites.binary, .offsets = sites.offsets, .cookies = cookies, .pid = getpid()}));
      multi.attach.push_back(ms_since(t0));
      for (int i = 0; i < n; ++i) testing::kTargetFns[i](i);
      expect_hits(counts, n, 1, "uprobe_multi");
      t0 = Clock::now();
      link.reset();
      multi.detach.push_back(ms_since(t0));
    }
    std::printf("%8d | %14.3f ms / %12.3f ms | %14.3f ms / %12.3f ms | %7.3f ms / %7.3f ms\n", n,
                median(single.attach), median(single.detach), median(parallel.attach),
                median(parallel.detach), median(multi.attach), median(multi.detach));
  }
  std::printf("(median of %d runs; every probe fired once per call in every run)\n", reps);
}

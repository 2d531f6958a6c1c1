// Runs fixtures under `dynprobe trace` and compares what the probes captured
// with the ground truth each fixture prints about its own calls.
#pragma once

#include <llvm/Support/JSON.h>

#include <map>
#include <string>
#include <vector>

#include "harness/ground_truth.h"
#include "tests/integration/fixture_support.h"

namespace dynprobe::test {

struct TraceRun {
  CommandResult command;                    // out: the fixture's stdout (ground truth)
  std::vector<llvm::json::Object> records;  // what dynprobe wrote (--format json)
  std::vector<llvm::json::Object> truth;    // the fixture's lines
};

// dynprobe trace --format json --output TMP -p P... [extra] -- binary args...
TraceRun trace_command(const std::string& binary, const std::vector<std::string>& probes,
                       const std::vector<std::string>& program_args = {},
                       const std::vector<std::string>& extra = {});

// harness::parse_json_lines; an invalid line is a test failure.
std::vector<llvm::json::Object> parse_json_lines(const std::string& text);

// The comparison itself lives in harness/ground_truth.h, shared with the
// conformance runner; these wrappers turn its findings into test failures.
using harness::json_diff;
using harness::of_probe;

struct MatchCount {
  size_t compared = 0;  // values equal to the ground truth
  size_t gaps = 0;      // values reported unavailable for an allowed reason
  MatchCount& operator+=(const MatchCount& o) {
    compared += o.compared;
    gaps += o.gaps;
    return *this;
  }
};

// Compares `args` and `ret` of each truth line with the record at the same
// position; reports every difference with the probe, call index and field.
// A captured {"$unavailable": reason} counts as a gap, not a failure, only
// when `allowed_gap` is non-empty and occurs in the reason.
MatchCount expect_calls_match(const std::vector<llvm::json::Object>& truth,
                              const std::vector<llvm::json::Object>& records,
                              const std::string& probe, const std::string& allowed_gap = "");

// The same per goroutine: calls of one goroutine are sequential, so truth and
// records are compared in order within each goid.
MatchCount expect_calls_match_by_goid(const std::vector<llvm::json::Object>& truth,
                                      const std::vector<llvm::json::Object>& records,
                                      const std::string& probe);

}  // namespace dynprobe::test

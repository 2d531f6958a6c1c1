// Runs fixtures under `dynprobe trace` and compares what the probes captured
// with the ground truth each fixture prints about its own calls.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <llvm/Support/JSON.h>

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

std::vector<llvm::json::Object> parse_json_lines(const std::string& text);

// Records/truth lines of one probe, in order.
std::vector<const llvm::json::Object*> of_probe(const std::vector<llvm::json::Object>& lines,
                                                const std::string& probe);

// Exact comparison as a ground-truth check needs it: integers exactly
// (int64/uint64), floats by value, objects key by key, arrays element by
// element. Returns "" when equal, else a description of the first difference.
std::string json_diff(const llvm::json::Value& expected, const llvm::json::Value& actual,
                      const std::string& path = "");

// Compares `args` and `ret` of each truth line with the record at the same
// position; reports every difference with the probe, call index and field.
// Returns how many values were compared.
size_t expect_calls_match(const std::vector<llvm::json::Object>& truth,
                          const std::vector<llvm::json::Object>& records,
                          const std::string& probe);

}  // namespace dynprobe::test

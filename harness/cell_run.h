// One cell of the conformance matrix: build a fixture with one toolchain in
// one mode, run it under `dynprobe trace` with every traced function probed,
// and compare every captured value with the fixture's ground truth.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "harness/fixture_table.h"
#include "harness/known_gaps.h"

namespace dynprobe::harness {

struct Tally {
  size_t checked = 0;     // ground-truth values (and latency bounds) in scope
  size_t matched = 0;     // equal to the ground truth
  size_t gaps = 0;        // not captured, accepted by a known-gaps rule
  size_t mismatches = 0;  // lines printed: a value, a missing call, a failed run...
  Tally& operator+=(const Tally& o) {
    checked += o.checked;
    matched += o.matched;
    gaps += o.gaps;
    mismatches += o.mismatches;
    return *this;
  }
};

struct CellResult {
  Cell cell;
  Tally total;
  std::map<std::string, Tally> by_kind;  // "int", "float", "struct", ... (dynprobe describe)
  std::vector<std::string> mismatches;   // one line each
  std::vector<std::string> notes;        // facts worth a look that do not fail the run
  std::map<size_t, size_t> gap_values;   // known-gaps rule -> values it accepted
  std::set<size_t> rules_in_scope;       // rules that could have applied here
  std::string debug_file;                // where dynprobe found DWARF (stripped modes)
  size_t calls = 0, records = 0;
  double seconds = 0;
};

struct RunnerConfig {
  std::string source_root;  // holds harness/build-fixture
  std::string dynprobe;     // the CLI under test
  double timeout_seconds = 300;
};

// Modes a cell can run in: the build modes of every family (gc's modes of
// harness/build-fixture, with "stripped" split by how the debug file is
// found; O0 and O2 of gccgo and C++).
std::vector<std::string> all_modes();
// "stripped" -> its three lookups; a known mode -> itself; else empty.
std::vector<std::string> expand_mode(const std::string& mode);

// "money go1.19 default", "cpp/shop g++ O2": how output lines name a cell.
std::string cell_name(const Cell& cell);

// Runs cells; remembers per (toolchain, fixture) the kinds of every
// parameter and result (from `dynprobe describe`), which no mode changes.
class CellRunner {
 public:
  CellRunner(RunnerConfig config, const KnownGaps& gaps)
      : config_(std::move(config)), gaps_(gaps) {}
  CellResult run(const Cell& cell, const FixtureSpec& spec);

 private:
  using Kinds = std::map<std::string, std::string>;  // "args.x" / "ret.$0" -> kind
  Kinds kinds(const Cell& cell, const std::string& function,
              const std::vector<std::string>& binary_args, const std::string& debug_root,
              CellResult& result);

  RunnerConfig config_;
  const KnownGaps& gaps_;
  std::map<std::string, Kinds> kinds_;  // "1.19 money main.Sum"
};

}  // namespace dynprobe::harness

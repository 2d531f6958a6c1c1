// Comparing what `dynprobe trace --format json` captured with the ground truth a
// fixture prints about its own calls (docs/fixtures.md). Shared by the
// integration tests (which turn findings into test failures) and the
// conformance runner (which tallies them into a matrix); it never decides
// pass or fail itself: differences come back as data.
#pragma once

#include <llvm/Support/JSON.h>

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace dynprobe::harness {

using JsonLines = std::vector<llvm::json::Object>;

struct ParsedLines {
  JsonLines lines;
  std::vector<std::string> errors;  // "invalid JSON line: LINE: WHY"
};

// One JSON object per line; lines not starting with '{' are skipped (a
// fixture's stdout has nothing else, dynprobe's output file neither).
ParsedLines parse_json_lines(const std::string& text);

// Lines of one probe, in order.
std::vector<const llvm::json::Object*> of_probe(const JsonLines& lines, const std::string& probe);

// Compact JSON text of a value: keys sorted, doubles in their shortest form.
std::string show(const llvm::json::Value& v);

// An object's keys, sorted (llvm::json::Object keeps no order).
std::vector<std::string> sorted_keys(const llvm::json::Object& o);

// Exact comparison as a ground-truth check needs it: integers exactly
// (int64/uint64), floats by value, objects key by key, arrays element by
// element. Returns "" when equal, else a description of the first difference.
std::string json_diff(const llvm::json::Value& expected, const llvm::json::Value& actual,
                      const std::string& path = "");

// Scalars (numbers, strings, bools, null) in a value; an empty array or
// object counts as one value, it is still something to capture.
size_t count_values(const llvm::json::Value& v);

// The JSON shape of a value: null, bool, integer, float, string, array, object.
std::string shape_of(const llvm::json::Value& v);

// dynprobe writes a value it did not capture as an object with one key
// starting with '$' ({"$unavailable": "in X0, ..."}, {"$string": {...}}).
struct Marker {
  std::string type;    // the key without '$': "unavailable", "string", "cut", ...
  std::string detail;  // the payload: the text of a string, else its compact JSON
};
std::optional<Marker> marker_of(const llvm::json::Value& captured);

// Asked for every marker found where the ground truth has a value: returns
// an id (of the rule that allows it) when the marker is an accepted gap.
struct GapQuery {
  const std::string& probe;
  const std::string& field;  // "args.l.Currency", "ret.$0", "args.f[1]"
  size_t depth;              // 0 for a whole parameter or result
  const Marker& marker;
};
using GapPolicy = std::function<std::optional<size_t>(const GapQuery&)>;

enum class Outcome { matched, gap, mismatch };

// One compared value, or one subtree replaced by a marker or differing in
// shape, or one structural difference (a missing record, an extra key).
struct Finding {
  std::string probe;
  std::string group;           // "" when matched in order, "goid 18" when by goroutine
  std::optional<size_t> call;  // index within the probe's (or the group's) calls
  std::string field;           // "" for a whole call
  std::string root;            // the parameter or result: "args.l", "ret.$0", "latency_ns"
  std::string root_shape;      // shape_of its ground-truth value ("" for structure)
  Outcome outcome = Outcome::mismatch;
  size_t values = 1;     // ground-truth values this finding covers (0 for an extra one)
  std::string expected;  // compact JSON, or a short phrase for structure
  std::string captured;
  std::optional<size_t> rule;  // the gap policy's id, for gaps

  // "main.fib call 3 ret.$0: expected 2, captured 3"
  std::string describe() const;
};

struct Comparison {
  std::vector<Finding> findings;
  size_t truth_calls = 0;
  size_t records = 0;

  size_t values(Outcome o) const;  // sum of Finding::values with that outcome
  size_t count(Outcome o) const;   // number of findings with that outcome
  Comparison& operator+=(Comparison&& o);
};

struct CompareOptions {
  GapPolicy gaps;  // empty: every marker is a mismatch
  // Check latency_ns against the truth's "sleep_ns" (lower bound) and
  // "outer_ns" (upper bound) where a line carries them.
  bool latency_bounds = false;
};

// Compares `args` and `ret` of the i-th truth line of `probe` with its i-th
// record: right for calls made one after another (one goroutine).
Comparison compare_in_order(const JsonLines& truth, const JsonLines& records,
                            const std::string& probe, const CompareOptions& opts = {});

// The same per goroutine: truth lines and records grouped by "goid", each
// group compared in order (calls of one goroutine are sequential).
Comparison compare_by_goid(const JsonLines& truth, const JsonLines& records,
                           const std::string& probe, const CompareOptions& opts = {});

}  // namespace dynprobe::harness

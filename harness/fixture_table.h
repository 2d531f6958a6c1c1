// The fixtures the conformance run traces and, for each, every function it
// prints ground truth for (docs/fixtures.md) and how its calls are matched.
#pragma once

#include <string>
#include <vector>

namespace dynprobe::harness {

enum class Matching {
  in_order,  // one goroutine: the i-th call is the i-th record
  by_goid,   // several goroutines: in order within each "goid"
};

struct TracedFunction {
  std::string name;
  Matching matching = Matching::in_order;
};

struct FixtureSpec {
  std::string name;
  std::vector<std::string> args;  // the fixture's own flags
  std::vector<TracedFunction> functions;
};

// Every fixture, in report order.
std::vector<FixtureSpec> fixture_table();

}  // namespace dynprobe::harness

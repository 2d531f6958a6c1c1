// The fixtures the conformance run traces and, for each, every function it
// prints ground truth for (docs/fixtures.md) and how its calls are matched;
// and the toolchain families that build them (which modes, which fixtures).
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

// The source language of a fixture: fixtures/go/*, fixtures/cpp/*, fixtures/rust/*.
enum class FixtureLanguage { Go, Cpp, Rust };

struct FixtureSpec {
  std::string name;  // Go: "money" (fixtures/go/money); others "cpp/shop" (fixtures/cpp/shop)
  std::vector<std::string> args;  // the fixture's own flags
  std::vector<TracedFunction> functions;
  FixtureLanguage language = FixtureLanguage::Go;
  // A Go fixture gccgo does not build or run as gc does: why it is left out
  // of the gccgo cells (empty: it is in them).
  std::string no_gccgo;
};

// Every fixture, in report order.
std::vector<FixtureSpec> fixture_table();

// One way of building fixtures into binaries: a family of toolchains with
// its build script, its modes and the fixtures it builds. A new language
// is one more entry here, its toolchain names in family_of() and its
// fixtures in fixture_table().
struct Family {
  std::string name;                   // "gc", "gccgo", "c++", "rust"
  std::vector<std::string> modes;     // every mode it builds, in report order
  std::vector<std::string> ci_modes;  // the CI subset
  FixtureLanguage language;           // the fixtures it builds
  std::string builder;                // under harness/
};

std::vector<Family> families();

// The family a toolchain of a cell belongs to: a Go version ("1.19") is gc;
// "gccgo"; "g++" and "clang++" are c++; "rustc" is rust. nullptr if none.
const Family* family_of(const std::string& toolchain);

// Whether `fixture` is built by `toolchain` in `mode`.
bool builds(const std::string& toolchain, const std::string& mode, const FixtureSpec& fixture);

// The command that builds `fixture` with `toolchain` in `mode` and prints the
// binary's path ("stripped-debug-file" and "stripped-build-id" build as
// "stripped" and "buildid").
std::vector<std::string> build_command(const std::string& source_root, const std::string& toolchain,
                                       const std::string& mode, const std::string& fixture);

}  // namespace dynprobe::harness

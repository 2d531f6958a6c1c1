// Rust end to end: the shop fixture (fixtures/rust/shop) built by rustc in
// debug (opt-level 0, legacy symbols) and release (opt-level 3, v0 symbols).
// `describe` must place values where rustc's Rust ABI puts them, and `trace`
// must capture what the program says it passed and returned (its own ground
// truth on stdout): &str, String, &[T], Vec<T>, Option, Result, enums with
// data, structs, references, Box<T> and a method.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <iostream>
#include <map>
#include <set>

#include "tests/integration/trace_support.h"

namespace dynprobe::test {
namespace {

using ::testing::HasSubstr;

std::string build_rust_fixture(const std::string& mode) {
  auto r = run_command({source_root() + "/harness/build-rust-fixture", mode, "shop"});
  if (r.exit_code != 0) {
    ADD_FAILURE() << "building the Rust fixture in " << mode << " failed:\n" << r.err;
    return "";
  }
  while (!r.out.empty() && r.out.back() == '\n') r.out.pop_back();
  return r.out;
}

class Rust : public ::testing::TestWithParam<std::string> {
 protected:
  std::string bin() { return build_rust_fixture(GetParam()); }
};

// "name@location" for every parameter, then "$0@location".
std::vector<std::string> placed(const llvm::json::Object& d) {
  std::vector<std::string> out;
  for (const char* list : {"params", "results"})
    if (const auto* a = d.getArray(list))
      for (const auto& v : *a) {
        const auto* o = v.getAsObject();
        std::string name = list == std::string("results") ? "$0" : str(*o, "name");
        out.push_back(name + "@" + str(*o, "location"));
      }
  return out;
}

// Where rustc 1.95 puts them, read off the release build's instructions
// (objdump) and the same in debug: scalars and scalar pairs (&str, &[T],
// Point {i32, i32}, Option<u32>, Result<u64, u64>) in integer registers one
// scalar each, niche-optimized Option<&T> / Option<Box<T>> as the pointer,
// other values over 8 bytes (Vec, Item, Shape) by reference, and results
// over 8 bytes that are not a pair through a hidden pointer in RDI,
// returned in RAX.
TEST_P(Rust, DescribePlacesValuesWhereRustcPutsThem) {
  std::string b = bin();
  ASSERT_FALSE(b.empty());
  const std::map<std::string, std::vector<std::string>> want = {
      {"shop::greet", {"name@RDI,RSI", "times@RDX", "$0@RAX"}},
      {"shop::mid", {"p@RDI,RSI", "q@RDX,RCX", "$0@RAX,RDX"}},
      {"shop::halve", {"x@RDI", "$0@RAX,RDX"}},
      {"shop::settle", {"r@RDI,RSI", "$0@RAX"}},
      {"shop::find", {"items@RDI,RSI", "id@RDX", "$0@RAX"}},
      {"shop::unbox", {"o@RDI", "$0@RAX"}},
      {"shop::boxed", {"it@RDI", "$0@RAX"}},
      {"shop::evens", {"v@0(RSI)", "$0@0(RAX)"}},
      {"shop::shout", {"s@0(RSI)", "$0@0(RAX)"}},
      {"shop::parse", {"s@RSI,RDX", "$0@0(RAX)"}},
      {"shop::grow", {"s@RSI", "by@RDX", "$0@0(RAX)"}},
      {"shop::restock", {"it@0(RSI)", "extra@RDX", "$0@0(RAX)"}},
      {"shop::area", {"s@0(RDI)", "$0@RAX"}},
      {"shop::scale", {"x@X0", "k@RDI", "$0@X0"}},
      {"shop::flags", {"a@RDI", "b@RSI", "c@RDX", "d@RCX", "$0@RAX"}},
      {"shop::paint", {"c@RDI", "twice@RSI", "$0@RAX"}},
      {"shop::Ledger::record", {"self@RDI", "it@RSI", "note@RDX,RCX", "$0@RAX"}},
  };
  for (const auto& [fn, locations] : want) {
    SCOPED_TRACE(fn);
    auto d = describe_json(b, fn);
    ASSERT_TRUE(d);
    EXPECT_EQ(str(*d, "function"), fn);
    EXPECT_EQ(str(*d, "abi"), "rust");
    EXPECT_EQ(str(*d, "context"), "thread: tid and SP");
    EXPECT_EQ(str(*d, "language"), "rust");
    EXPECT_EQ(placed(*d), locations);
    // DWARF that names registers (release: location lists from the entry
    // PC) must agree with the model; SP-relative DWARF is a frame slot the
    // prologue fills (debug builds, and values rustc spills in release).
    for (const auto& v : *d->getArray("params")) {
      const auto* o = v.getAsObject();
      EXPECT_EQ(str(*o, "location_source"), "abi");
      auto dw = o->getString("dwarf_location");
      if (dw && !dw->contains("optimized") && !dw->contains("(SP)") && !dw->contains("CFA"))
        EXPECT_EQ(dw->str(), str(*o, "location")) << str(*o, "name");
    }
    std::vector<uint64_t> rets;
    for (const auto& r : *d->getArray("return_sites")) rets.push_back(*r.getAsInteger());
    uint64_t lo = static_cast<uint64_t>(num(*d, "address"));
    EXPECT_EQ(rets, objdump_returns(b, lo, lo + static_cast<uint64_t>(num(*d, "size"))));
  }
}

// Names as Rust spells them, from either symbol mangling; a suffix after
// "::" finds the function too.
TEST_P(Rust, FunctionsAreNamedAsRustSpellsThem) {
  std::string b = bin();
  ASSERT_FALSE(b.empty());
  auto suffix = describe_json(b, "Ledger::record");
  ASSERT_TRUE(suffix);
  EXPECT_EQ(str(*suffix, "function"), "shop::Ledger::record");
  auto list = run_command({cli_path(), "list", b, "shop::*"});
  EXPECT_EQ(list.exit_code, 0) << list.err;
  EXPECT_THAT(list.out, HasSubstr("shop::Ledger::record "));
  EXPECT_THAT(list.out, HasSubstr("shop::greet "));
  EXPECT_THAT(list.out, ::testing::Not(::testing::ContainsRegex("::h[0-9a-f]{16}")))
      << "legacy hash left in a name";
  EXPECT_THAT(list.out, ::testing::Not(HasSubstr("<shop::Ledger>"))) << "v0 brackets left";
}

// Everything the fixture calls, traced at once and compared value by value
// with its ground truth. Floats in XMM registers cannot be read by BPF at a
// uprobe (docs/bpf-backend.md): those values, and only those, may come back
// as {"$unavailable": "... vector register ..."}.
TEST_P(Rust, TraceMatchesGroundTruth) {
  std::string b = bin();
  ASSERT_FALSE(b.empty());
  auto plain = run_command({b});
  ASSERT_EQ(plain.exit_code, 0);
  auto truth = parse_json_lines(plain.out);
  ASSERT_GT(truth.size(), 40u);
  // The truth names every function as binutils demangles its symbol: legacy
  // symbols without their hash, v0 inherent methods as <Type>::method.
  auto nm = run_command({"nm", "-C", "--defined-only", b});
  std::set<std::string> names;
  for (const auto& t : truth) names.insert(str(t, "probe"));
  for (const auto& n : names) {
    size_t last = n.rfind("::");
    std::string v0 = "<" + n.substr(0, last) + ">" + n.substr(last);
    EXPECT_TRUE(nm.out.find(" " + n + "\n") != std::string::npos ||
                nm.out.find(" " + v0 + "\n") != std::string::npos)
        << n << " not in nm -C";
  }
  std::vector<std::string> probes(names.begin(), names.end());
  auto run = trace_command(b, probes);
  EXPECT_EQ(run.command.signal, 0) << run.command.err;
  EXPECT_EQ(run.command.exit_code, 0) << run.command.err;
  EXPECT_THAT(run.command.err, HasSubstr(" 0 drops"));
  EXPECT_THAT(run.command.err, HasSubstr(" 0 calls in flight"));
  EXPECT_THAT(run.command.err, HasSubstr(" 0 returns without entry"));
  ASSERT_EQ(run.records.size(), truth.size());
  MatchCount n;
  for (const auto& name : names)
    n += expect_calls_match(run.truth, run.records, name, "vector register");
  // 50 calls, 192 values (every scalar of every argument and result).
  EXPECT_EQ(n.compared + n.gaps, 192u);
  // Only shop::scale's f64 argument and result travel in XMM0.
  EXPECT_EQ(n.gaps, 2u);
  for (const auto& r : run.records) {
    EXPECT_EQ(r.getInteger("pid"), r.getInteger("tid")) << "one thread";
    EXPECT_EQ(r.getInteger("goid"), 0) << "no goroutines in Rust";
  }
  std::cout << "[ values ] rust " << GetParam() << ": " << n.compared << " matched, " << n.gaps
            << " unavailable (vector registers)\n";
}

INSTANTIATE_TEST_SUITE_P(Modes, Rust, ::testing::Values("debug", "release"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace dynprobe::test

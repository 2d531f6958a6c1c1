#include "harness/fixture_table.h"

#include <algorithm>

#include "harness/known_gaps.h"

namespace dynprobe::harness {

namespace {

// Every function fixtures/cpp/shop prints ground truth for: the symbol
// demangled as LLVM prints it, with its parameter list (overloads need it).
std::vector<std::string> shop_functions() {
  return {
      "shop::Bool(bool)",
      "shop::Char(char)",
      "shop::SChar(signed char)",
      "shop::UChar(unsigned char)",
      "shop::Short(short)",
      "shop::UShort(unsigned short)",
      "shop::Int(int)",
      "shop::UInt(unsigned int)",
      "shop::Long(long)",
      "shop::ULong(unsigned long)",
      "shop::LongLong(long long)",
      "shop::ULongLong(unsigned long long)",
      "shop::Float(float)",
      "shop::Double(double)",
      "shop::Paint(shop::Color, shop::Size)",
      "shop::Narrow(signed char, unsigned char, short, unsigned short, int, unsigned int, bool)",
      "shop::Many(long, int, long, int, long, int, long, int)",
      "shop::Floats(float, double, float, double, float, double, float, double, float, double)",
      "shop::Deref(long const*, long*)",
      "shop::ByRef(shop::Item const&, long&)",
      "shop::MakeItem(long, int, shop::Color)",
      "shop::Split(long)",
      "shop::Mirror(shop::Point)",
      "shop::Mix(shop::Mixed, int)",
      "shop::Scale(shop::Quad, float)",
      "shop::Tag(shop::Tagged, char)",
      "shop::Grow(shop::Big, long)",
      "shop::Transpose(shop::Matrix const&)",
      "shop::Promote(shop::Base, long)",
      "shop::Spill(long, long, long, long, long, shop::Pair, long)",
      "shop::Find(shop::Item const*, int, long)",
      "shop::Use(shop::Handle, long)",
      "shop::Issue(long, int)",
      "shop::Renew(shop::Ticket, long)",
      "shop::Greet(std::__cxx11::basic_string<char, std::char_traits<char>, "
      "std::allocator<char>> const&, int)",
      "shop::Length(std::__cxx11::basic_string<char, std::char_traits<char>, "
      "std::allocator<char>>)",
      "shop::Evens(std::vector<long, std::allocator<long>> const&)",
      "shop::Total(std::vector<int, std::allocator<int>>)",
      "shop::Ledger::record(shop::Item const&, std::__cxx11::basic_string<char, "
      "std::char_traits<char>, std::allocator<char>> const&)",
      "shop::Ledger::record(long)",
      "shop::Ledger::span() const",
      "shop::Ledger::snapshot(long) const"};
}

}  // namespace

// A function a fixture prints truth for but that is missing here fails the
// run ("not in the fixture table"); one dynprobe cannot probe yet belongs in
// known-gaps.json as a probe-error, never left out of this table.
std::vector<FixtureSpec> fixture_table() {
  using enum Matching;
  using enum FixtureLanguage;
  // Its calls are matched per goroutine, and under gccgo a record carries no
  // goid: gccgo's goroutines are not gc's runtime.g, and dynprobe keys its
  // calls by thread (tid and SP) there.
  const std::string kNoGoid =
      "calls are matched by goid, which dynprobe does not read from gccgo's goroutines";
  auto in_order_all = [](std::vector<std::string> names) {
    std::vector<TracedFunction> out;
    for (auto& n : names) out.push_back({std::move(n), in_order});
    return out;
  };
  return {
      {"scalars",
       {},
       in_order_all({"main.Bool",    "main.Int",     "main.Int8",      "main.Int16",
                     "main.Int32",   "main.Int64",   "main.Uint",      "main.Uint8",
                     "main.Uint16",  "main.Uint32",  "main.Uint64",    "main.Uintptr",
                     "main.Float32", "main.Float64", "main.Complex64", "main.Complex128",
                     "main.PtrSwap", "main.PtrLoad", "main.Narrow",    "main.Kinds",
                     "main.Spill",   "main.Multi",   "main.Results",   "main.Divmod"})},
      {"money",
       {},
       in_order_all({"main.Sum", "main.(*ledger).Record", "main.ledger.Count", "main.Mix",
                     "main.Many", "main.Pair", "main.Floaty", "main.add", "main.sumTo",
                     "main.scaled", "main.fib"})},
      {"rich", {}, in_order_all({"main.Cat",    "main.Sum",    "main.Nest",   "main.NestPtr",
                                 "main.Embed",  "main.Scale",  "main.Deref2", "main.Prepend",
                                 "main.Second", "main.Ints",   "main.Monies", "main.Strs",
                                 "main.Bytes",  "main.Arrays", "main.With",   "main.Queue",
                                 "main.Apply",  "main.Wrap",   "main.Box",    "main.Swap",
                                 "main.Prices"})},
      {"goroutines", {}, {{"main.work", by_goid}, {"main.depth", by_goid}}, Go, kNoGoid},
      {"stackgrow", {}, {{"main.grow", by_goid}, {"main.leaf", in_order}}, Go, kNoGoid},
      {"cpp/shop", {}, in_order_all(shop_functions()), Cpp},
      {"rust/shop",
       {},
       in_order_all({"shop::greet",          "shop::shout",        "shop::sum",
                     "shop::evens",          "shop::find",         "shop::halve",
                     "shop::parse",          "shop::settle",       "shop::boxed",
                     "shop::unbox",          "shop::mid",          "shop::worth",
                     "shop::restock",        "shop::area",         "shop::grow",
                     "shop::scale",          "shop::flags",        "shop::paint",
                     "shop::Ledger::record", "shop::Ledger::count"}),
       Rust},
  };
}

std::vector<Family> families() {
  return {
      {"gc",
       {"default", "noopt", "pie", "trimpath", "stripped", "stripped-debug-file",
        "stripped-build-id"},
       {"default", "noopt"},
       FixtureLanguage::Go,
       "build-fixture"},
      {"gccgo", {"O0", "O2"}, {"O0", "O2"}, FixtureLanguage::Go, "build-gccgo-fixture"},
      {"c++", {"O0", "O2"}, {"O0", "O2"}, FixtureLanguage::Cpp, "build-cpp-fixture"},
      {"rust",
       {"debug", "release"},
       {"debug", "release"},
       FixtureLanguage::Rust,
       "build-rust-fixture"},
  };
}

const Family* family_of(const std::string& toolchain) {
  static const std::vector<Family> all = families();
  auto named = [&](const char* n) {
    return &*std::find_if(all.begin(), all.end(), [&](const Family& f) { return f.name == n; });
  };
  if (go_minor(toolchain)) return named("gc");
  if (toolchain == "gccgo") return named("gccgo");
  if (toolchain == "g++" || toolchain == "clang++") return named("c++");
  if (toolchain == "rustc") return named("rust");
  return nullptr;
}

bool builds(const std::string& toolchain, const std::string& mode, const FixtureSpec& fixture) {
  const Family* f = family_of(toolchain);
  if (f == nullptr || f->language != fixture.language) return false;
  if (std::find(f->modes.begin(), f->modes.end(), mode) == f->modes.end()) return false;
  return !(f->name == "gccgo" && !fixture.no_gccgo.empty());
}

std::vector<std::string> build_command(const std::string& source_root, const std::string& toolchain,
                                       const std::string& mode, const std::string& fixture) {
  const Family* f = family_of(toolchain);
  // Fixtures of other languages are named "cpp/shop", "rust/shop": their
  // builders take the directory under fixtures/LANGUAGE.
  const std::string dir = fixture.substr(fixture.find('/') + 1);
  std::string script = source_root + "/harness/" + (f ? f->builder : "build-fixture");
  if (f != nullptr && f->name == "gccgo") return {script, dir, mode};
  if (f != nullptr && f->name == "c++") return {script, toolchain, mode, dir};
  if (f != nullptr && f->name == "rust") return {script, mode, dir};
  std::string build_mode = mode;
  if (mode == "stripped-debug-file") build_mode = "stripped";
  if (mode == "stripped-build-id") build_mode = "buildid";
  return {script, toolchain, fixture, build_mode};
}

}  // namespace dynprobe::harness

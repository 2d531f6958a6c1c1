#include "harness/fixture_table.h"

namespace dynprobe::harness {

// A function a fixture prints truth for but that is missing here fails the
// run ("not in the fixture table"); one dynprobe cannot probe yet belongs in
// known-gaps.json as a probe-error, never left out of this table.
std::vector<FixtureSpec> fixture_table() {
  using enum Matching;
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
                                 "main.Apply",  "main.Wrap",   "main.Box",    "main.Swap"})},
      {"goroutines", {}, {{"main.work", by_goid}, {"main.depth", by_goid}}},
      {"stackgrow", {}, {{"main.grow", by_goid}, {"main.leaf", in_order}}},
  };
}

}  // namespace dynprobe::harness

// Rich Go values (issue 5) against the ground truth of fixtures/go/rich:
// strings (cut and invalid UTF-8), structs, pointers to --depth, slices,
// arrays, maps with their entries, chans, funcs, interfaces and errors
// (also errors wrapping errors).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <iostream>
#include <optional>

#include "tests/integration/trace_support.h"

namespace dynprobe::test {
namespace {

using ::testing::HasSubstr;

class Rich : public ::testing::TestWithParam<std::string> {};

TEST_P(Rich, EveryKindAsArgumentAndResultMatchesGroundTruth) {
  const std::vector<std::string> probes = {
      "main.Cat",    "main.Sum",     "main.Nest",   "main.NestPtr", "main.Embed",  "main.Scale",
      "main.Deref2", "main.Prepend", "main.Second", "main.Ints",    "main.Monies", "main.Strs",
      "main.Bytes",  "main.Arrays",  "main.With",   "main.Prices",  "main.Queue",  "main.Apply",
      "main.Wrap",   "main.Box",     "main.Swap"};
  for (const char* mode : {"default", "noopt"}) {
    SCOPED_TRACE(mode);
    std::string bin = build_fixture(GetParam(), "rich", mode);
    ASSERT_FALSE(bin.empty());
    auto run = trace_command(bin, probes);
    EXPECT_EQ(run.command.exit_code, 0) << run.command.err;
    EXPECT_THAT(run.command.err, HasSubstr(" 0 drops"));
    // Floats passed in X registers (Nest's In.Ratio under the register ABI)
    // are declared unavailable; everything else must equal the ground truth.
    std::string gap = register_abi(GetParam()) ? "vector register" : "";
    MatchCount n;
    for (const auto& p : probes) n += expect_calls_match(run.truth, run.records, p, gap);
    EXPECT_GT(n.compared, 1000u);
    if (gap.empty()) EXPECT_EQ(n.gaps, 0u);
    std::cout << "[ values ] rich " << GetParam() << " " << mode << ": " << n.compared
              << " matched, " << n.gaps << " unavailable (vector registers)\n";
  }
}

// Counts, in a truth value, map entries and interfaces nested in an
// interface's value: what the two tests below need the truth to hold, so
// that they cannot pass on a fixture that lost its maps or wrapped errors.
void count_nesting(const llvm::json::Value& v, bool in_interface, size_t& entries, size_t& nested) {
  if (const auto* a = v.getAsArray()) {
    for (const auto& x : *a) count_nesting(x, in_interface, entries, nested);
    return;
  }
  const auto* o = v.getAsObject();
  if (!o) return;
  if (const auto* m = o->getObject("$map"))
    if (const auto* e = m->getArray("entries")) entries += e->size();
  bool iface = o->get("type") && o->get("value") && o->size() == 2;
  if (iface && in_interface) ++nested;
  for (const auto& [k, x] : *o) count_nesting(x, in_interface || iface, entries, nested);
}

// Errors wrapping errors (fmt.Errorf %w twice and three times) are followed
// through each interface to --depth, and maps show their entries: several
// buckets (Go <= 1.23) or a table of groups (Go >= 1.24) for 20 entries.
TEST_P(Rich, NestedErrorsAndMapEntriesMatchGroundTruth) {
  std::string bin = build_fixture(GetParam(), "rich", "default");
  ASSERT_FALSE(bin.empty());
  auto run = trace_command(bin, {"main.Wrap", "main.With", "main.Prices"});
  EXPECT_EQ(run.command.exit_code, 0) << run.command.err;
  size_t entries = 0, nested = 0;
  for (const auto* line : of_probe(run.truth, "main.Wrap"))
    count_nesting(llvm::json::Value(llvm::json::Object(*line)), false, entries, nested);
  size_t biggest = 0;
  for (const char* p : {"main.With", "main.Prices"})
    for (const auto* line : of_probe(run.truth, p)) {
      size_t before = entries;
      count_nesting(llvm::json::Value(llvm::json::Object(*line)), false, entries, nested);
      biggest = std::max(biggest, entries - before);
    }
  EXPECT_GE(nested, 6u) << "the fixture wraps errors in errors";
  EXPECT_GE(biggest, 40u) << "the fixture passes and returns a 20-entry map";
  MatchCount n;
  for (const char* p : {"main.Wrap", "main.With", "main.Prices"})
    n += expect_calls_match(run.truth, run.records, p);
  EXPECT_EQ(n.gaps, 0u);
  EXPECT_GT(n.compared, 150u);
}

// What the ground truth says `m[key]` or `v.(T)` is: the entry's or the
// dynamic value, or nullopt where Go has none (nil map or interface, a
// missing key, another dynamic type), which dynprobe must mark unavailable.
std::optional<llvm::json::Value> truth_key(const llvm::json::Value& m,
                                           const llvm::json::Value& key) {
  const auto* o = m.getAsObject();
  const auto* map = o ? o->getObject("$map") : nullptr;
  if (!map) return std::nullopt;
  for (const auto& e : *map->getArray("entries"))
    if (json_diff(*e.getAsObject()->get("key"), key).empty()) return *e.getAsObject()->get("value");
  return std::nullopt;
}
std::optional<llvm::json::Value> truth_assert(const llvm::json::Value& v, llvm::StringRef type) {
  const auto* o = v.getAsObject();
  if (!o || o->getString("type") != type) return std::nullopt;
  return *o->get("value");
}

// Map index and type assertion expressions (checked against DWARF when
// planned) give what the truth's whole values say at that path, and a
// marked field where Go's value does not exist.
TEST_P(Rich, MapIndexAndTypeAssertionsMatchGroundTruth) {
  std::string bin = build_fixture(GetParam(), "rich", "default");
  ASSERT_FALSE(bin.empty());
  auto run = trace_command(
      bin, {R"(main.With(m["a"], m["key7"], len(m)))", R"(main.Prices(m[1].Currency, m[-7]))",
            R"(main.Wrap(e.(*fmt.wrapError).msg, e.(main.MyErr).Code))"});
  EXPECT_EQ(run.command.exit_code, 0) << run.command.err;
  size_t found = 0, absent = 0;
  auto check = [&](const llvm::json::Object* got, const std::string& key,
                   const std::optional<llvm::json::Value>& want) {
    const auto* g = got->getObject("args")->get(key);
    ASSERT_NE(g, nullptr) << key;
    if (want) {
      ++found;
      EXPECT_EQ(json_diff(*want, *g), "") << key;
    } else {
      ++absent;
      const auto* go = g->getAsObject();
      EXPECT_TRUE(go && go->get("$unavailable")) << key << ": " << harness::show(*g);
    }
  };
  using llvm::json::Value;
  for (const char* probe : {"main.With", "main.Prices", "main.Wrap"}) {
    auto want = of_probe(run.truth, probe);
    auto got = of_probe(run.records, probe);
    ASSERT_EQ(got.size(), want.size()) << probe;
    ASSERT_FALSE(want.empty()) << probe;
    for (size_t i = 0; i < want.size(); ++i) {
      const auto& args = *want[i]->getObject("args");
      if (std::string(probe) == "main.With") {
        check(got[i], R"(m["a"])", truth_key(*args.get("m"), Value("a")));
        check(got[i], R"(m["key7"])", truth_key(*args.get("m"), Value("key7")));
        const auto* map = args.get("m")->getAsObject();
        Value len = map ? *map->getObject("$map")->get("len") : Value(0);
        EXPECT_EQ(json_diff(len, *got[i]->getObject("args")->get("len(m)")), "");
      } else if (std::string(probe) == "main.Prices") {
        auto one = truth_key(*args.get("m"), Value(1));
        check(got[i], "m[1].Currency",
              one ? std::optional<Value>(*one->getAsObject()->get("Currency")) : std::nullopt);
        check(got[i], "m[-7]", truth_key(*args.get("m"), Value(-7)));
      } else {
        auto wrap = truth_assert(*args.get("e"), "*fmt.wrapError");
        check(got[i], "e.(*fmt.wrapError).msg",
              wrap ? std::optional<Value>(*wrap->getAsObject()->get("msg")) : std::nullopt);
        auto mine = truth_assert(*args.get("e"), "main.MyErr");
        check(got[i], "e.(main.MyErr).Code",
              mine ? std::optional<Value>(*mine->getAsObject()->get("Code")) : std::nullopt);
      }
    }
  }
  EXPECT_GE(found, 6u);
  EXPECT_GE(absent, 6u);
}

INSTANTIATE_TEST_SUITE_P(GoVersions, Rich, ::testing::ValuesIn(go_versions()),
                         [](const auto& info) { return go_version_test_name(info.param); });

}  // namespace
}  // namespace dynprobe::test

// Go map entries: the planner's deref ops for a classic (hash<K,V>) and a
// swiss-table (map<K,V>) map, run by a small interpreter over fake target
// memory with the BPF program's semantics (guards, zeroing on failure), and
// the decoder's reading of the record they produce: full slots only, the
// header's count as the judge of completeness, every cut said.
#include <gtest/gtest.h>

#include <cstring>
#include <map>

#include "backends/decode/node_decoder.h"
#include "core/plan/planner.h"
#include "tests/unit/deref_sim.h"

namespace dynprobe {
namespace {

using test::Memory;
using test::put;
using test::run_ops;

class MapDecode : public ::testing::Test {
 protected:
  MapDecode() {
    int_ = types_.add({.kind = TypeKind::Int, .name = "int", .size = 8});
    u8_ = types_.add({.kind = TypeKind::Uint, .name = "uint8", .size = 1});
    u64_ = types_.add({.kind = TypeKind::Uint, .name = "uint64", .size = 8});
    string_ = types_.add({.kind = TypeKind::String, .name = "string", .size = 16});
  }

  TypeId pointer_to(TypeId t) {
    return types_.add({.kind = TypeKind::Pointer, .name = "*", .size = 8, .elem = t});
  }
  TypeId array_of(TypeId t, uint64_t n) {
    return types_.add({.kind = TypeKind::Array,
                       .name = "[8]",
                       .size = n * types_.get(t).size,
                       .elem = t,
                       .count = n});
  }
  TypeId map_of(TypeId header) {
    return types_.add({.kind = TypeKind::Map,
                       .name = "map[string]int",
                       .size = 8,
                       .elem = int_,
                       .key = string_,
                       .fields = {{.name = "header", .type = pointer_to(header)}}});
  }

  // hash<string,int> and bucket<string,int> as Go <= 1.23 emits them.
  TypeId classic() {
    TypeId bucket = types_.add({.kind = TypeKind::Struct, .name = "bucket<string,int>"});
    TypeId bp = pointer_to(bucket);
    types_.mut(bucket).size = 208;
    types_.mut(bucket).fields = {{.name = "tophash", .type = array_of(u8_, 8), .offset = 0},
                                 {.name = "keys", .type = array_of(string_, 8), .offset = 8},
                                 {.name = "values", .type = array_of(int_, 8), .offset = 136},
                                 {.name = "overflow", .type = bp, .offset = 200}};
    TypeId hash = types_.add({.kind = TypeKind::Struct,
                              .name = "hash<string,int>",
                              .size = 48,
                              .fields = {{.name = "count", .type = int_, .offset = 0},
                                         {.name = "flags", .type = u8_, .offset = 8},
                                         {.name = "B", .type = u8_, .offset = 9},
                                         {.name = "buckets", .type = bp, .offset = 16},
                                         {.name = "oldbuckets", .type = bp, .offset = 24}}});
    return map_of(hash);
  }

  // map<string,int>, table<string,int>, groupReference and the group as Go
  // >= 1.24 emits them.
  TypeId swiss() {
    TypeId slot = types_.add({.kind = TypeKind::Struct,
                              .name = "struct { key string; elem int }",
                              .size = 24,
                              .fields = {{.name = "key", .type = string_, .offset = 0},
                                         {.name = "elem", .type = int_, .offset = 16}}});
    TypeId group =
        types_.add({.kind = TypeKind::Struct,
                    .name = "noalg.map.group[string]int",
                    .size = 200,
                    .fields = {{.name = "ctrl", .type = u64_, .offset = 0},
                               {.name = "slots", .type = array_of(slot, 8), .offset = 8}}});
    TypeId ref = types_.add({.kind = TypeKind::Struct,
                             .name = "groupReference<string,int>",
                             .size = 16,
                             .fields = {{.name = "data", .type = pointer_to(group), .offset = 0},
                                        {.name = "lengthMask", .type = u64_, .offset = 8}}});
    TypeId table = types_.add({.kind = TypeKind::Struct,
                               .name = "table<string,int>",
                               .size = 32,
                               .fields = {{.name = "index", .type = int_, .offset = 8},
                                          {.name = "groups", .type = ref, .offset = 16}}});
    TypeId header = types_.add(
        {.kind = TypeKind::Struct,
         .name = "map<string,int>",
         .size = 48,
         .fields = {{.name = "used", .type = u64_, .offset = 0},
                    {.name = "dirPtr", .type = pointer_to(pointer_to(table)), .offset = 16},
                    {.name = "dirLen", .type = int_, .offset = 24}}});
    return map_of(header);
  }

  // A string's bytes in memory; the header goes into a slot.
  void put_string(std::vector<uint8_t>& b, size_t at, const std::string& s) {
    uint64_t p = mem_.add(std::vector<uint8_t>(s.begin(), s.end()));
    put<uint64_t>(b, at, p);
    put<int64_t>(b, at + 8, static_cast<int64_t>(s.size()));
  }

  // Plans the map as an argument at the record's start, runs the ops with
  // the map pointer `m` in its slot, decodes.
  std::string capture(TypeId map, uint64_t m, uint32_t max_elems = 64) {
    ValueNode root{.type = map, .offset = 0};
    CaptureLimits limits{.max_elems = max_elems};
    uint32_t next = 8;
    std::vector<DerefOp> ops;
    plan_follows(types_, {&root}, limits, next, 16000, ops);
    std::vector<uint8_t> rec(16000);
    put<uint64_t>(rec, 0, m);
    run_ops(ops, mem_, rec);
    DecodeContext ctx{.types = &types_};
    std::string s;
    llvm::raw_string_ostream os(s);
    os << decode_node(ctx, root, rec);
    return os.str();
  }

  std::vector<uint8_t> bucket(std::vector<std::pair<std::string, int64_t>> slots,
                              uint64_t overflow = 0) {
    std::vector<uint8_t> b(208);
    for (size_t i = 0; i < slots.size(); ++i) {
      if (slots[i].first.empty()) continue;  // an empty slot
      b[i] = static_cast<uint8_t>(0x40 + i);
      put_string(b, 8 + 16 * i, slots[i].first);
      put<int64_t>(b, 136 + 8 * i, slots[i].second);
    }
    put<uint64_t>(b, 200, overflow);
    return b;
  }

  uint64_t hmap(int64_t count, uint8_t log2, uint64_t buckets, uint64_t old = 0) {
    std::vector<uint8_t> h(48);
    put<int64_t>(h, 0, count);
    h[9] = log2;
    put<uint64_t>(h, 16, buckets);
    put<uint64_t>(h, 24, old);
    return mem_.add(h);
  }

  // A group whose slot i is full when ctrl[i]'s high bit is clear.
  std::vector<uint8_t> group(std::vector<std::pair<std::string, int64_t>> slots,
                             std::vector<uint8_t> ctrl) {
    std::vector<uint8_t> g(200);
    ctrl.resize(8, 0x80);
    for (size_t i = 0; i < 8; ++i) g[i] = ctrl[i];
    for (size_t i = 0; i < slots.size(); ++i) {
      if (slots[i].first.empty()) continue;
      put_string(g, 8 + 24 * i, slots[i].first);
      put<int64_t>(g, 8 + 24 * i + 16, slots[i].second);
    }
    return g;
  }

  uint64_t swiss_map(uint64_t used, uint64_t dir, int64_t dir_len) {
    std::vector<uint8_t> h(48);
    put<uint64_t>(h, 0, used);
    put<uint64_t>(h, 16, dir);
    put<int64_t>(h, 24, dir_len);
    return mem_.add(h);
  }

  TypeTable types_;
  Memory mem_;
  TypeId int_, u8_, u64_, string_;
};

TEST_F(MapDecode, ClassicBucketKeepsFullSlotsOnly) {
  TypeId m = classic();
  auto b0 = bucket({{"bb", 2}, {"", 0}, {"a", 1}});
  b0[1] = 1;  // emptyOne: a deleted slot
  uint64_t h = hmap(2, 0, mem_.add(b0));
  EXPECT_EQ(capture(m, h),
            R"({"$map":{"entries":[{"key":"a","value":1},{"key":"bb","value":2}],"len":2}})");
  EXPECT_EQ(capture(m, 0), "null");
  EXPECT_EQ(capture(m, hmap(0, 0, 0)), R"({"$map":{"entries":[],"len":0}})");
}

TEST_F(MapDecode, ClassicReadsTwoToTheBBucketsAndOneOverflowEach) {
  TypeId m = classic();
  uint64_t overflow = mem_.add(bucket({{"z", 26}}));
  std::vector<uint8_t> two = bucket({{"x", 24}});
  auto b1 = bucket({{"y", 25}}, overflow);
  two.insert(two.end(), b1.begin(), b1.end());
  uint64_t buckets = mem_.add(two);
  EXPECT_EQ(
      capture(m, hmap(3, 1, buckets)),
      R"({"$map":{"entries":[{"key":"x","value":24},{"key":"y","value":25},{"key":"z","value":26}],"len":3}})");
  // B = 0 says one bucket: the second is never looked at, and the count
  // says entries are missing.
  std::string cut = capture(m, hmap(3, 0, buckets));
  EXPECT_NE(cut.find(R"("$cut":{"len":3)"), std::string::npos) << cut;
}

TEST_F(MapDecode, ABucketOnAPageBoundaryReadsItsWrittenPage) {
  // Only the first 150 bytes of the bucket are on a mapped page (the rest
  // of a fresh heap page is untouched): they hold the one full slot.
  TypeId m = classic();
  std::vector<uint8_t> page(4096);
  auto b = bucket({{"x", 7}});
  std::copy(b.begin(), b.begin() + 150, page.end() - 150);
  uint64_t at = mem_.add(page) + 4096 - 150;
  EXPECT_EQ(capture(m, hmap(1, 0, at)), R"({"$map":{"entries":[{"key":"x","value":7}],"len":1}})");
}

TEST_F(MapDecode, ClassicCutsSayWhy) {
  TypeId m = classic();
  uint64_t b = mem_.add(bucket({{"x", 1}}));
  std::string growing = capture(m, hmap(2, 0, b, /*old=*/b));
  EXPECT_NE(growing.find("growing"), std::string::npos) << growing;
  EXPECT_NE(growing.find(R"("entries":[{"key":"x","value":1}])"), std::string::npos) << growing;
  // 2^10 buckets: more than --max-elems 64 reads; found 1 of 5.
  std::vector<uint8_t> many(208 * 8);
  auto first = bucket({{"x", 1}});
  std::copy(first.begin(), first.end(), many.begin());
  std::string big = capture(m, hmap(5, 10, mem_.add(many)));
  EXPECT_NE(big.find("more buckets than --max-elems reads"), std::string::npos) << big;
  // ... but when the count says every entry was found, nothing is cut.
  EXPECT_EQ(capture(m, hmap(1, 10, mem_.add(many))),
            R"({"$map":{"entries":[{"key":"x","value":1}],"len":1}})");
  // Unreadable buckets are not empty ones.
  std::string bad = capture(m, hmap(1, 0, 0xdead0000));
  EXPECT_NE(bad.find("unreadable"), std::string::npos) << bad;
}

TEST_F(MapDecode, ClassicEntriesBeyondMaxElemsAreCut) {
  TypeId m = classic();
  uint64_t b = mem_.add(bucket({{"a", 1}, {"b", 2}, {"c", 3}}));
  std::string cut = capture(m, hmap(3, 0, b), /*max_elems=*/2);
  EXPECT_NE(cut.find(R"("entries":[{"key":"a","value":1},{"key":"b","value":2}])"),
            std::string::npos)
      << cut;
  EXPECT_NE(cut.find("more than --max-elems entries"), std::string::npos) << cut;
}

TEST_F(MapDecode, SwissSmallMapIsOneGroup) {
  TypeId m = swiss();
  // ctrl: full (h2 0x12), empty, deleted, full (h2 0).
  uint64_t g =
      mem_.add(group({{"a", 1}, {"junk", 9}, {"gone", 8}, {"b", 2}}, {0x12, 0x80, 0xfe, 0}));
  EXPECT_EQ(capture(m, swiss_map(2, g, 0)),
            R"({"$map":{"entries":[{"key":"a","value":1},{"key":"b","value":2}],"len":2}})");
  EXPECT_EQ(capture(m, swiss_map(0, 0, 0)), R"({"$map":{"entries":[],"len":0}})");
}

TEST_F(MapDecode, SwissTableGroupsUpToTheLengthMask) {
  TypeId m = swiss();
  auto groups = group({{"a", 1}}, {0x01});
  auto g1 = group({{"", 0}, {"b", 2}}, {0x80, 0x02});
  auto g2 = group({{"never", 3}}, {0x03});  // past lengthMask: not the table's
  groups.insert(groups.end(), g1.begin(), g1.end());
  groups.insert(groups.end(), g2.begin(), g2.end());
  std::vector<uint8_t> table(32);
  put<uint64_t>(table, 16, mem_.add(groups));
  put<uint64_t>(table, 24, 1);  // two groups
  std::vector<uint8_t> dir(8);
  put<uint64_t>(dir, 0, mem_.add(table));
  uint64_t d = mem_.add(dir);
  EXPECT_EQ(capture(m, swiss_map(2, d, 1)),
            R"({"$map":{"entries":[{"key":"a","value":1},{"key":"b","value":2}],"len":2}})");
  // A directory of two tables: only the first is read, and the count shows
  // what is missing.
  std::string cut = capture(m, swiss_map(5, d, 2));
  EXPECT_NE(cut.find("only the first of the map's tables is read"), std::string::npos) << cut;
}

}  // namespace
}  // namespace dynprobe

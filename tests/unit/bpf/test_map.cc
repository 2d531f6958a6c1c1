#include <bpf/libbpf.h>
#include <gtest/gtest.h>

#include "backends/bpf/map.h"

namespace dynprobe::bpf {
namespace {

struct Key {
  uint64_t goid;
  uint64_t depth;
};
struct Value {
  uint64_t entry_ns;
  uint32_t probe;
  uint32_t pad;
};

TEST(BpfMap, HashRoundTrip) {
  auto m = Map::create({.type = MapType::Hash,
                        .name = "inflight",
                        .key_size = sizeof(Key),
                        .value_size = sizeof(Value),
                        .max_entries = 64});
  ASSERT_TRUE(m) << m.error().message;
  Key k{18, 4096};
  ASSERT_TRUE(m->put(k, Value{123456789, 7, 0}));
  auto got = m->get<Value>(k);
  ASSERT_TRUE(got);
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->entry_ns, 123456789u);
  EXPECT_EQ((*got)->probe, 7u);

  auto absent = m->get<Value>(Key{18, 4097});
  ASSERT_TRUE(absent);
  EXPECT_FALSE(absent->has_value());

  auto erased = m->erase(&k);
  ASSERT_TRUE(erased);
  EXPECT_TRUE(*erased);
  auto again = m->get<Value>(k);
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->has_value());
  auto erased_twice = m->erase(&k);
  ASSERT_TRUE(erased_twice);
  EXPECT_FALSE(*erased_twice);
}

TEST(BpfMap, HashRefusesMoreThanItsCapacity) {
  auto m = Map::create(
      {.type = MapType::Hash, .name = "small", .key_size = 8, .value_size = 8, .max_entries = 4});
  ASSERT_TRUE(m);
  for (uint64_t i = 0; i < 4; ++i) ASSERT_TRUE(m->put(i, i));
  auto full = m->put(uint64_t{99}, uint64_t{99});
  ASSERT_FALSE(full);
  EXPECT_NE(full.error().message.find("small"), std::string::npos);
}

TEST(BpfMap, LruHashEvictsInsteadOfRefusing) {
  auto m = Map::create({.type = MapType::LruHash,
                        .name = "lru",
                        .key_size = 8,
                        .value_size = 8,
                        .max_entries = 128});
  ASSERT_TRUE(m) << m.error().message;
  for (uint64_t i = 0; i < 1000; ++i) ASSERT_TRUE(m->put(i, i * 2)) << i;
  auto last = m->get<uint64_t>(uint64_t{999});
  ASSERT_TRUE(last && last->has_value());
  EXPECT_EQ(**last, 1998u);
  int present = 0;
  for (uint64_t i = 0; i < 1000; ++i) {
    auto v = m->get<uint64_t>(i);
    ASSERT_TRUE(v);
    present += v->has_value();
  }
  EXPECT_LE(present, 128);
}

TEST(BpfMap, PerCpuArrayHasOneValuePerPossibleCpu) {
  auto m = Map::create({.type = MapType::PerCpuArray,
                        .name = "scratch",
                        .key_size = 4,
                        .value_size = 12,
                        .max_entries = 2});
  ASSERT_TRUE(m) << m.error().message;
  struct Twelve {
    uint32_t a, b, c;
  };
  auto values = m->get_per_cpu<Twelve>(uint32_t{1});
  ASSERT_TRUE(values) << values.error().message;
  EXPECT_EQ(values->size(), static_cast<size_t>(libbpf_num_possible_cpus()));
  for (const Twelve& t : *values) EXPECT_EQ(t.a | t.b | t.c, 0u);
}

TEST(BpfMap, RingBufferSizeMustBeAPowerOfTwoPages) {
  auto bad = Map::create({.type = MapType::RingBuf, .name = "rb", .max_entries = 3 * 4096});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("power of two"), std::string::npos);
  auto good = Map::create({.type = MapType::RingBuf, .name = "rb", .max_entries = 1 << 16});
  ASSERT_TRUE(good) << good.error().message;
}

TEST(BpfMap, TypedAccessChecksSizes) {
  auto m = Map::create(
      {.type = MapType::Hash, .name = "sized", .key_size = 8, .value_size = 8, .max_entries = 4});
  ASSERT_TRUE(m);
  auto wrong = m->put(uint32_t{1}, uint64_t{1});
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.error().message.find("8-byte keys"), std::string::npos);
}

}  // namespace
}  // namespace dynprobe::bpf

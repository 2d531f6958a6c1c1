// gccgo's values that gc's model does not cover: a map without key and value
// types (its length, entries marked cut) and interfaces whose dynamic type
// is named by the descriptor's own name string, as the planner reads them
// and the decoder shows them.
#include <gtest/gtest.h>

#include <string>

#include "backends/decode/node_decoder.h"
#include "core/gccgo_types.h"
#include "core/plan/planner.h"
#include "tests/unit/deref_sim.h"

namespace dynprobe {
namespace {

using test::Memory;
using test::put;
using test::run_ops;

TEST(GccgoReflectionName, DropsThePackagePathsBetweenTabs) {
  EXPECT_EQ(gccgo_reflection_name("*\terrors\terrors.errorString"), "*errors.errorString");
  EXPECT_EQ(gccgo_reflection_name("\tmain\tmain.Money"), "main.Money");
  EXPECT_EQ(gccgo_reflection_name("int"), "int");
  EXPECT_EQ(gccgo_reflection_name("map[\tmain\tmain.K]\texample.com/v\tv.V"), "map[main.K]v.V");
  EXPECT_EQ(gccgo_reflection_name("\tunclosed"), "\tunclosed");
}

class GccgoDecode : public ::testing::Test {
 protected:
  GccgoDecode() {
    string_ = types_.add({.kind = TypeKind::String, .name = "string", .size = 16});
    msg_ = types_.add({.kind = TypeKind::Struct,
                       .name = "main.Msg",
                       .size = 16,
                       .fields = {{.name = "s", .type = string_, .offset = 0}}});
    // As recognize_gccgo_type and recognize_gccgo_pointer leave them.
    any_ = types_.add({.kind = TypeKind::Interface,
                       .name = "interface {}",
                       .size = 16,
                       .empty_interface = true,
                       .itab_type_at = 0,
                       .descriptor_name_at = 40});
    error_ = types_.add({.kind = TypeKind::Interface,
                         .name = "error",
                         .size = 16,
                         .itab_type_at = 0,
                         .descriptor_name_at = 40});
    map_ = types_.add({.kind = TypeKind::Map, .name = "map", .size = 8});
  }

  uint64_t bytes(const std::string& s) {
    return mem_.add(std::vector<uint8_t>(s.begin(), s.end()));
  }

  // A libgo _type whose _string (at +40) points at a string header.
  uint64_t descriptor(const std::string& name) {
    std::vector<uint8_t> header(16);
    put<uint64_t>(header, 0, bytes(name));
    put<int64_t>(header, 8, static_cast<int64_t>(name.size()));
    std::vector<uint8_t> d(64);
    put<uint64_t>(d, 40, mem_.add(header));
    return mem_.add(d);
  }

  // A main.Msg{s} boxed where an interface's data word points, in 64
  // readable bytes as on the heap (the probe reads a 64-byte chunk there).
  uint64_t boxed_msg(const std::string& s) {
    std::vector<uint8_t> v(64);
    put<uint64_t>(v, 0, bytes(s));
    put<int64_t>(v, 8, static_cast<int64_t>(s.size()));
    return mem_.add(v);
  }

  // Plans `type` as an argument at the record's start holding the words
  // `w0`, `w1`, runs the ops, decodes with `ctx`.
  std::string capture(TypeId type, uint64_t w0, uint64_t w1, DecodeContext ctx) {
    ValueNode root{.type = type, .offset = 0};
    uint32_t next = 16;
    std::vector<DerefOp> ops;
    plan_follows(types_, {&root}, CaptureLimits{}, next, 16000, ops);
    std::vector<uint8_t> rec(16000);
    put<uint64_t>(rec, 0, w0);
    put<uint64_t>(rec, 8, w1);
    run_ops(ops, mem_, rec);
    ctx.types = &types_;
    std::string s;
    llvm::raw_string_ostream os(s);
    os << decode_node(ctx, root, rec);
    return os.str();
  }

  // The decoder's view of the binary: no type is known by address; by
  // name, only main.Msg.
  DecodeContext by_name() {
    return {.dynamic_type = [](uint64_t) { return std::optional<TypeId>(); },
            .descriptor_type =
                [this](std::string_view raw) {
                  NamedType t{.name = gccgo_reflection_name(raw)};
                  if (t.name == "main.Msg") t.type = msg_;
                  return t;
                }};
  }

  TypeTable types_;
  Memory mem_;
  TypeId string_, msg_, any_, error_, map_;
};

TEST_F(GccgoDecode, MapWithoutLayoutIsItsLengthAndACut) {
  std::vector<uint8_t> hmap(48);
  put<int64_t>(hmap, 0, 3);
  EXPECT_EQ(
      capture(map_, mem_.add(hmap), 0, {}),
      R"({"$cut":{"len":3,"value":{"$map":{"entries":[],"len":3}},"why":"entries not read: no key and value types in the DWARF"}})");
  std::vector<uint8_t> empty(48);
  EXPECT_EQ(capture(map_, mem_.add(empty), 0, {}), R"({"$map":{"entries":[],"len":0}})");
  EXPECT_EQ(capture(map_, 0, 0, {}), "null");
}

TEST_F(GccgoDecode, EmptyInterfaceNamedByItsDescriptor) {
  uint64_t d = descriptor("\tmain\tmain.Msg");
  EXPECT_EQ(capture(any_, d, boxed_msg("hi"), by_name()),
            R"({"type":"main.Msg","value":{"s":"hi"}})");
  EXPECT_EQ(capture(any_, 0, 0, by_name()), "null");
}

TEST_F(GccgoDecode, NonEmptyInterfaceFindsTheDescriptorFirstInItsMethodTable) {
  std::vector<uint8_t> methods(16);
  put<uint64_t>(methods, 0, descriptor("*\terrors\terrors.errorString"));
  put<uint64_t>(methods, 8, 0x401000);  // Error's code
  // A type the binary's DWARF lacks: named, its value marked.
  EXPECT_EQ(
      capture(error_, mem_.add(methods), boxed_msg("boom"), by_name()),
      R"({"type":"*errors.errorString","value":{"$unavailable":"type not in the binary's DWARF"}})");
}

TEST_F(GccgoDecode, UnreadableDescriptorNameMarksTheInterface) {
  std::vector<uint8_t> d(64);
  put<uint64_t>(d, 40, 0xdead0000);  // a wild *string
  uint64_t desc = mem_.add(d);
  char want[96];
  snprintf(want, sizeof want, R"({"$unavailable":"dynamic type 0x%llx not in DWARF"})",
           static_cast<unsigned long long>(desc));
  EXPECT_EQ(capture(any_, desc, boxed_msg("x"), by_name()), want);
}

}  // namespace
}  // namespace dynprobe

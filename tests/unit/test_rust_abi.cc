// The rust plugin against rustc's Rust ABI on x86-64, the Rust type
// recognizer (core/rust_types.h), enum variant selection and Rust names.
// Each ABI expectation was checked against code rustc 1.95 emits for the
// same signature at opt-level 3 (objdump: which register the body reads),
// see docs/abi-plugins.md "rust".
#include <gtest/gtest.h>

#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "abi/abi.h"
#include "core/rust_name.h"
#include "core/rust_types.h"
#include "tests/unit/abi_test_support.h"

namespace dynprobe {
std::unique_ptr<AbiPlugin> make_rust_abi();

namespace {

using abi_test::at;
using abi_test::reg;
using abi_test::sp;

struct RustTypes {
  TypeTable t;
  TypeId b = t.add({.kind = TypeKind::Bool, .name = "bool", .size = 1});
  TypeId u8 = t.add({.kind = TypeKind::Uint, .name = "u8", .size = 1});
  TypeId i32 = t.add({.kind = TypeKind::Int, .name = "i32", .size = 4});
  TypeId u32 = t.add({.kind = TypeKind::Uint, .name = "u32", .size = 4});
  TypeId i64 = t.add({.kind = TypeKind::Int, .name = "i64", .size = 8});
  TypeId usize = t.add({.kind = TypeKind::Uint, .name = "usize", .size = 8});
  TypeId f64 = t.add({.kind = TypeKind::Float, .name = "f64", .size = 8});
  TypeId unit = t.add({.kind = TypeKind::Struct, .name = "()", .size = 0});
  TypeId u8p = ptr(u8);
  TypeId str = t.add({.kind = TypeKind::String,
                      .name = "&str",
                      .size = 16,
                      .seq = {.ptr = 0, .len = 8, .cap = -1},
                      .fields = {{"data_ptr", u8p, 0}, {"length", usize, 8}}});

  TypeId ptr(TypeId elem) {
    return t.add(
        {.kind = TypeKind::Pointer, .name = "&" + t.get(elem).name, .size = 8, .elem = elem});
  }
  TypeId strct(std::string name, uint64_t size, std::vector<Field> fields) {
    return t.add({.kind = TypeKind::Struct,
                  .name = std::move(name),
                  .size = size,
                  .fields = std::move(fields)});
  }
  // An enum with data as rustc describes it: one struct per variant.
  TypeId enm(std::string name, uint64_t size, TypeId discr, uint64_t discr_offset,
             std::vector<Variant> variants) {
    Type e{.kind = TypeKind::Struct, .name = std::move(name), .size = size};
    e.variant_part = {.discr_offset = discr_offset, .discr_type = discr, .variants = variants};
    return t.add(std::move(e));
  }
  // Option<T> with T's bytes at `at`: tagged (discr 0 = None, 1 = Some) or,
  // with niche, None as the value 0 of the pointer T and Some the default.
  TypeId option(TypeId elem, uint64_t size, uint64_t at, bool niche) {
    TypeId none = strct("None", size, {});
    TypeId some = strct("Some", size, {{"__0", elem, at}});
    if (niche)
      return enm("Option", size, elem, 0,
                 {{.name = "None", .type = none, .has_discr = true, .discr = 0},
                  {.name = "Some", .type = some}});
    return enm("Option", size, t.get(elem).size == 8 ? usize : u32, 0,
               {{.name = "None", .type = none, .has_discr = true, .discr = 0},
                {.name = "Some", .type = some, .has_discr = true, .discr = 1}});
  }
};

Variable var(std::string name, TypeId type) {
  return Variable{.name = std::move(name), .type = type};
}

Function rust_fn(std::vector<Variable> params, TypeId ret = kNoType) {
  Function fn{.name = "shop::f", .low_pc = 0x1000, .high_pc = 0x1100, .language = Language::Rust};
  fn.producer = "clang LLVM (rustc version 1.95.0)";
  fn.params = std::move(params);
  fn.return_type = ret;
  return fn;
}

Location via(Reg r, uint32_t size) {
  return at({Piece{.kind = PieceKind::Memory, .size = size, .reg = r, .base = MemBase::Register}});
}

class RustAbiTest : public ::testing::Test {
 protected:
  std::vector<Location> params(const Function& fn) {
    auto r = abi->params_at_entry(fn, g.t);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
    std::vector<Location> out;
    if (r)
      for (auto& v : *r) out.push_back(v.location);
    return out;
  }
  Location ret(TypeId type, std::vector<Variable> ps = {}) {
    auto r = abi->results_at_return(rust_fn(std::move(ps), type), g.t);
    EXPECT_TRUE(r.has_value() && r->size() == 1);
    return r && r->size() == 1 ? (*r)[0].location : Location{};
  }

  RustTypes g;
  std::unique_ptr<AbiPlugin> abi = make_rust_abi();
};

TEST_F(RustAbiTest, ClaimsRustFunctionsOnly) {
  EXPECT_EQ(abi->match({}, rust_fn({})), 10);
  Function c = rust_fn({});
  c.language = Language::C;
  EXPECT_EQ(abi->match({}, c), 0);
  EXPECT_EQ(abi->context_source(), ContextSource::Thread);
}

// greet(name: &str, times: u32): a scalar pair takes two integer registers.
TEST_F(RustAbiTest, ScalarPairsTakeOneRegisterPerScalar) {
  TypeId point = g.strct("Point", 8, {{"x", g.i32, 0}, {"y", g.i32, 4}});
  TypeId mixed = g.strct("Mixed", 16, {{"a", g.i64, 0}, {"b", g.f64, 8}});
  auto in =
      params(rust_fn({var("name", g.str), var("times", g.u32), var("p", point), var("m", mixed)}));
  ASSERT_EQ(in.size(), 4u);
  EXPECT_EQ(in[0], at({reg(Reg::RDI, 8), reg(Reg::RSI, 8, 8)}));
  EXPECT_EQ(in[1], at({reg(Reg::RDX, 4)}));
  EXPECT_EQ(in[2], at({reg(Reg::RCX, 4), reg(Reg::R8, 4, 4)}));
  EXPECT_EQ(in[3], at({reg(Reg::R9, 8), reg(Reg::XMM0, 8, 8)}));
  EXPECT_EQ(ret(point), at({reg(Reg::RAX, 4), reg(Reg::RDX, 4, 4)}));
  EXPECT_EQ(ret(mixed), at({reg(Reg::RAX, 8), reg(Reg::XMM0, 8, 8)}));
}

// Option<u32> is (tag, u32); Option<&T> is the pointer (None = null);
// Result<u64, u64> is (tag, u64).
TEST_F(RustAbiTest, EnumsWithOneOrTwoScalarsTravelInRegisters) {
  TypeId opt_u32 = g.option(g.u32, 8, 4, false);
  TypeId opt_ref = g.option(g.ptr(g.i64), 8, 0, true);
  TypeId ok = g.strct("Ok", 16, {{"__0", g.usize, 8}});
  TypeId err = g.strct("Err", 16, {{"__0", g.usize, 8}});
  TypeId result = g.enm("Result", 16, g.usize, 0,
                        {{.name = "Ok", .type = ok, .has_discr = true, .discr = 0},
                         {.name = "Err", .type = err, .has_discr = true, .discr = 1}});
  auto in = params(rust_fn({var("a", opt_u32), var("b", opt_ref), var("r", result)}));
  ASSERT_EQ(in.size(), 3u);
  EXPECT_EQ(in[0], at({reg(Reg::RDI, 4), reg(Reg::RSI, 4, 4)}));
  EXPECT_EQ(in[1], at({reg(Reg::RDX, 8)}));
  EXPECT_EQ(in[2], at({reg(Reg::RCX, 8), reg(Reg::R8, 8, 8)}));
  EXPECT_EQ(ret(opt_u32), at({reg(Reg::RAX, 4), reg(Reg::RDX, 4, 4)}));
  EXPECT_EQ(ret(opt_ref), at({reg(Reg::RAX, 8)}));
}

// Item {i64, i32, u32} and a three-variant Shape: memory layout; over 8
// bytes they are passed by reference, and returned through a hidden pointer
// that takes RDI first. A 3-byte array is cast to an integer.
TEST_F(RustAbiTest, LargerValuesGoByReferenceAndComeBackThroughRax) {
  TypeId item = g.strct("Item", 16, {{"id", g.i64, 0}, {"qty", g.i32, 8}, {"price", g.u32, 12}});
  TypeId circle = g.strct("Circle", 12, {{"r", g.u32, 4}});
  TypeId rect = g.strct("Rect", 12, {{"w", g.u32, 4}, {"h", g.u32, 8}});
  TypeId shape = g.enm("Shape", 12, g.u32, 0,
                       {{.name = "Circle", .type = circle, .has_discr = true, .discr = 0},
                        {.name = "Rect", .type = rect, .has_discr = true, .discr = 1}});
  TypeId rgb =
      g.t.add({.kind = TypeKind::Array, .name = "[u8; 3]", .size = 3, .elem = g.u8, .count = 3});
  Function fn = rust_fn({var("it", item), var("s", shape), var("c", rgb), var("k", g.i32)}, item);
  auto in = params(fn);
  ASSERT_EQ(in.size(), 4u);
  EXPECT_EQ(in[0], via(Reg::RSI, 16));
  EXPECT_EQ(in[1], via(Reg::RDX, 12));
  EXPECT_EQ(in[2], at({reg(Reg::RCX, 3)}));
  EXPECT_EQ(in[3], at({reg(Reg::R8, 4)}));
  EXPECT_EQ(ret(item), via(Reg::RAX, 16));
  EXPECT_EQ(ret(shape), via(Reg::RAX, 12));
  EXPECT_EQ(ret(rgb), at({reg(Reg::RAX, 3)}));
}

TEST_F(RustAbiTest, ZeroSizedValuesTakeNothingAndScalarsSpillToTheStack) {
  std::vector<Variable> ps = {var("u", g.unit)};
  for (int i = 0; i < 7; ++i) ps.push_back(var("a" + std::to_string(i), g.i64));
  ps.push_back(var("x", g.f64));
  auto in = params(rust_fn(ps));
  ASSERT_EQ(in.size(), 9u);
  EXPECT_TRUE(in[0].empty());
  EXPECT_EQ(in[6], at({reg(Reg::R9, 8)}));
  EXPECT_EQ(in[7], sp(8, 8));
  EXPECT_EQ(in[8], at({reg(Reg::XMM0, 8)}));
}

// A location list entry at the entry PC is the compiler's word: when it
// names another register than the model, the model is not used at all.
TEST_F(RustAbiTest, DwarfAtEntryOverridesAModelItContradicts) {
  Variable a = var("a", g.i64), b = var("b", g.i64);
  b.has_location = true;
  b.locations.push_back({.low = 0x1000, .high = 0x1010, .location = at({reg(Reg::RDI, 8)})});
  auto r = abi->params_at_entry(rust_fn({a, b}, g.i64), g.t);
  ASSERT_TRUE(r);
  EXPECT_FALSE((*r)[0].location.available());
  EXPECT_EQ((*r)[1].location, at({reg(Reg::RDI, 8)}));
  EXPECT_EQ((*r)[1].source, LocationSource::Dwarf);
  EXPECT_FALSE(ret(g.i64, {a, b}).available());
  // A whole-function frame slot (fbreg) says nothing about the entry.
  Variable c = var("c", g.i64);
  c.has_location = true;
  c.locations.push_back({.low = 0,
                         .high = std::numeric_limits<uint64_t>::max(),
                         .location = at({Piece{.kind = PieceKind::Memory,
                                               .size = 8,
                                               .reg = Reg::RSP,
                                               .base = MemBase::Register,
                                               .offset = 16}})});
  auto r2 = abi->params_at_entry(rust_fn({var("a", g.i64), c}), g.t);
  ASSERT_TRUE(r2);
  EXPECT_EQ((*r2)[1].location, at({reg(Reg::RSI, 8)}));
  EXPECT_EQ((*r2)[1].source, LocationSource::Abi);
}

// Vec<T> as rustc 1.95 lays it out: {buf: RawVec {inner: RawVecInner {ptr
// at 8, cap at 0}}, len at 16}; String is {vec: Vec<u8>}.
TEST(RustTypes, VecAndStringBecomeSequencesWithTheirFieldOffsets) {
  RustTypes g;
  TypeId cap = g.strct("core::num::niche_types::UsizeNoHighBit", 8, {{"__0", g.usize, 0}});
  TypeId nonnull = g.strct("NonNull<u8>", 8, {{"pointer", g.u8p, 0}});
  TypeId unique = g.strct("Unique<u8>", 8, {{"pointer", nonnull, 0}});
  TypeId inner = g.strct("RawVecInner", 16, {{"ptr", unique, 8}, {"cap", cap, 0}});
  TypeId raw = g.strct("RawVec<u32>", 16, {{"inner", inner, 0}});
  Type vec{.kind = TypeKind::Struct,
           .name = "alloc::vec::Vec<u32, alloc::alloc::Global>",
           .size = 24,
           .fields = {{"buf", raw, 0}, {"len", g.usize, 16}}};
  ASSERT_TRUE(rust_needs_element_type(vec.name));
  EXPECT_FALSE(recognize_rust_sequence(vec, g.t, kNoType)) << "no element type, no slice";
  ASSERT_TRUE(recognize_rust_sequence(vec, g.t, g.u32));
  EXPECT_EQ(vec.kind, TypeKind::Slice);
  EXPECT_EQ(vec.elem, g.u32);
  EXPECT_EQ(vec.seq.ptr, 8u);
  EXPECT_EQ(vec.seq.len, 16u);
  EXPECT_EQ(vec.seq.cap, 0);
  EXPECT_FALSE(vec.seq.len_is_end);
  TypeId vec_id = g.t.add(vec);

  Type string{.kind = TypeKind::Struct,
              .name = "alloc::string::String",
              .size = 24,
              .fields = {{"vec", vec_id, 0}}};
  ASSERT_TRUE(recognize_rust_sequence(string, g.t, kNoType));
  EXPECT_EQ(string.kind, TypeKind::String);
  EXPECT_EQ(string.seq.ptr, 8u);
  EXPECT_EQ(string.seq.len, 16u);
}

TEST(RustTypes, FatPointersBecomeStringsAndSlices) {
  RustTypes g;
  TypeId i64p = g.ptr(g.i64);
  Type str{.kind = TypeKind::Struct,
           .name = "&str",
           .size = 16,
           .fields = {{"data_ptr", g.u8p, 0}, {"length", g.usize, 8}}};
  ASSERT_TRUE(recognize_rust_sequence(str, g.t, kNoType));
  EXPECT_EQ(str.kind, TypeKind::String);
  EXPECT_EQ(str.seq.cap, -1);
  Type slice{.kind = TypeKind::Struct,
             .name = "&[i64]",
             .size = 16,
             .fields = {{"data_ptr", i64p, 0}, {"length", g.usize, 8}}};
  ASSERT_TRUE(recognize_rust_sequence(slice, g.t, kNoType));
  EXPECT_EQ(slice.kind, TypeKind::Slice);
  EXPECT_EQ(slice.elem, g.i64);
  EXPECT_EQ(slice.seq.len, 8u);
  // A user struct that merely has a `len` stays a struct.
  Type other{.kind = TypeKind::Struct,
             .name = "shop::Span",
             .size = 16,
             .fields = {{"start", g.usize, 0}, {"len", g.usize, 8}}};
  EXPECT_FALSE(recognize_rust_sequence(other, g.t, kNoType));
  EXPECT_EQ(other.kind, TypeKind::Struct);
}

TEST(RustTypes, ActiveVariantByDiscriminantOrDefault) {
  RustTypes g;
  const Type& niche = g.t.get(g.option(g.ptr(g.i64), 8, 0, true));
  uint8_t null[8] = {}, some[8] = {0x10, 0x20, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(active_variant(g.t, niche, null, 8), std::optional<size_t>(0));
  EXPECT_EQ(active_variant(g.t, niche, some, 8), std::optional<size_t>(1));
  const Type& tagged = g.t.get(g.option(g.u32, 8, 4, false));
  uint8_t one[8] = {1, 0, 0, 0, 7, 0, 0, 0}, bad[8] = {9, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(active_variant(g.t, tagged, one, 8), std::optional<size_t>(1));
  EXPECT_EQ(active_variant(g.t, tagged, bad, 8), std::nullopt);
  EXPECT_EQ(active_variant(g.t, tagged, one, 2), std::nullopt) << "short image";
}

TEST(RustNames, LegacyAndV0SymbolsNameFunctionsAsRustDoes) {
  EXPECT_EQ(rust_function_name("shop::Ledger::record::h5bcbd6af37929e96"), "shop::Ledger::record");
  EXPECT_EQ(rust_function_name("<shop::Ledger>::record"), "shop::Ledger::record");
  EXPECT_EQ(rust_function_name("<shop::Ledger as core::fmt::Debug>::fmt"),
            "<shop::Ledger as core::fmt::Debug>::fmt");
  EXPECT_EQ(rust_function_name(
                "core::ptr::drop_in_place$LT$alloc..string..String$GT$::h0123456789abcdef"),
            "core::ptr::drop_in_place<alloc::string::String>");
  EXPECT_EQ(rust_function_name("shop::evens::_$u7b$$u7b$closure$u7d$$u7d$::h6789d9b14d16fa1c"),
            "shop::evens::{{closure}}");
  EXPECT_EQ(rust_function_name("shop::halve"), "shop::halve");
  EXPECT_TRUE(has_legacy_rust_hash("shop::mid::ha993b5a7dc0b30cd"));
  EXPECT_FALSE(has_legacy_rust_hash("shop::mid"));
  EXPECT_FALSE(has_legacy_rust_hash("ns::f(int)"));
}

}  // namespace
}  // namespace dynprobe

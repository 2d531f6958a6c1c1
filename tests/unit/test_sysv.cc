// The sysv plugin against the x86-64 System V psABI, section 3.2.3
// "Parameter Passing" (classification of eightbytes, register sequences,
// MEMORY class, hidden result pointer) and the Itanium C++ ABI (`this`
// first, invisible references). Each expectation was also checked against
// code GCC 12 and clang 14 emit for the same signature (objdump: which
// register or N(SP) slot the body reads), see docs/abi-plugins.md.
#include <gtest/gtest.h>

#include <limits>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "abi/abi.h"
#include "abi/registry.h"
#include "tests/unit/abi_test_support.h"

namespace dynprobe {
std::unique_ptr<AbiPlugin> make_sysv_abi();

namespace {

struct CTypes {
  TypeTable t;
  TypeId b = t.add({.kind = TypeKind::Bool, .name = "bool", .size = 1});
  TypeId c = t.add({.kind = TypeKind::Int, .name = "char", .size = 1});
  TypeId i16 = t.add({.kind = TypeKind::Int, .name = "short", .size = 2});
  TypeId i32 = t.add({.kind = TypeKind::Int, .name = "int", .size = 4});
  TypeId i64 = t.add({.kind = TypeKind::Int, .name = "long", .size = 8});
  TypeId u64 = t.add({.kind = TypeKind::Uint, .name = "unsigned long", .size = 8});
  TypeId i128 = t.add({.kind = TypeKind::Int, .name = "__int128", .size = 16});
  TypeId f32 = t.add({.kind = TypeKind::Float, .name = "float", .size = 4});
  TypeId f64 = t.add({.kind = TypeKind::Float, .name = "double", .size = 8});
  TypeId f80 = t.add({.kind = TypeKind::Float, .name = "long double", .size = 16});
  TypeId c128 = t.add({.kind = TypeKind::Complex, .name = "complex double", .size = 16});
  TypeId e32 = t.add({.kind = TypeKind::Enum, .name = "shop::Color", .size = 4});
  TypeId unknown = t.add({.kind = TypeKind::Unknown, .name = "mystery", .size = 8});

  TypeId ptr(TypeId elem) {
    return t.add(
        {.kind = TypeKind::Pointer, .name = t.get(elem).name + "*", .size = 8, .elem = elem});
  }
  TypeId array(TypeId elem, uint64_t n) {
    return t.add({.kind = TypeKind::Array,
                  .name = t.get(elem).name + "[" + std::to_string(n) + "]",
                  .size = n * t.get(elem).size,
                  .elem = elem,
                  .count = n});
  }
  // Offsets and sizes written out as the C compiler lays them out.
  TypeId strct(std::string name, uint64_t size, std::vector<Field> fields,
               TypeKind kind = TypeKind::Struct) {
    return t.add(
        {.kind = kind, .name = std::move(name), .size = size, .fields = std::move(fields)});
  }
};

Variable var(std::string name, TypeId type) {
  return Variable{.name = std::move(name), .type = type};
}

// A DWARF location list with one entry covering the function's entry.
Variable with_dwarf(Variable v, Location loc, uint64_t low = 0x1000, uint64_t high = 0x1010) {
  v.has_location = true;
  v.locations.push_back(LocationRange{.low = low, .high = high, .location = std::move(loc)});
  return v;
}

Function c_fn(std::vector<Variable> params, TypeId ret = kNoType,
              Language lang = Language::CPlusPlus) {
  Function fn{.name = "shop::f(...)", .low_pc = 0x1000, .high_pc = 0x1100, .language = lang};
  fn.producer = "GNU C++17 12.2.0 -O2 -g";
  fn.params = std::move(params);
  fn.return_type = ret;
  return fn;
}

Piece reg(Reg r, uint32_t size, uint32_t value_offset = 0) {
  return Piece::in_register(r, size, value_offset);
}
Location at(std::vector<Piece> pieces) { return Location{std::move(pieces)}; }
Location sp(int64_t offset, uint32_t size) { return at({Piece::at_stack(offset, size)}); }
Location via(Reg r, uint32_t size) {
  return at({Piece{.kind = PieceKind::Memory, .size = size, .reg = r, .base = MemBase::Register}});
}
Location gone(uint32_t size) { return at({Piece::unavailable(size)}); }

class Sysv : public ::testing::Test {
 protected:
  std::vector<ValueLocation> params(const Function& fn) {
    auto r = abi->params_at_entry(fn, g.t);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
    return r ? *r : std::vector<ValueLocation>{};
  }
  std::vector<ValueLocation> results(const Function& fn) {
    auto r = abi->results_at_return(fn, g.t);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
    return r ? *r : std::vector<ValueLocation>{};
  }
  Location ret(TypeId type) {
    auto out = results(c_fn({}, type));
    EXPECT_EQ(out.size(), 1u);
    return out.empty() ? Location{} : out[0].location;
  }

  CTypes g;
  std::unique_ptr<AbiPlugin> abi = make_sysv_abi();
};

TEST_F(Sysv, ScalarsTakeTheNextRegisterOfTheirClass) {
  Function fn = c_fn({var("a", g.i32), var("x", g.f64), var("b", g.c), var("y", g.f32),
                      var("p", g.ptr(g.i32)), var("e", g.e32), var("k", g.b)});
  auto in = params(fn);
  ASSERT_EQ(in.size(), 7u);
  EXPECT_EQ(in[0].location, at({reg(Reg::RDI, 4)}));
  EXPECT_EQ(in[1].location, at({reg(Reg::XMM0, 8)}));
  EXPECT_EQ(in[2].location, at({reg(Reg::RSI, 1)}));
  EXPECT_EQ(in[3].location, at({reg(Reg::XMM1, 4)}));
  EXPECT_EQ(in[4].location, at({reg(Reg::RDX, 8)}));
  EXPECT_EQ(in[5].location, at({reg(Reg::RCX, 4)}));
  EXPECT_EQ(in[6].location, at({reg(Reg::R8, 1)}));
  for (const auto& v : in) EXPECT_EQ(v.source, LocationSource::Abi);
}

// {int a; float b; double c}: a and b share the first eightbyte, INTEGER
// merged with SSE is INTEGER; c alone is SSE.
TEST_F(Sysv, MixedStructIsIntegerThenSse) {
  TypeId mixed = g.strct("Mixed", 16,
                         {{.name = "a", .type = g.i32, .offset = 0},
                          {.name = "b", .type = g.f32, .offset = 4},
                          {.name = "c", .type = g.f64, .offset = 8}});
  auto in = params(c_fn({var("m", mixed), var("k", g.i32)}));
  ASSERT_EQ(in.size(), 2u);
  EXPECT_EQ(in[0].location, at({reg(Reg::RDI, 8, 0), reg(Reg::XMM0, 8, 8)}));
  EXPECT_EQ(to_string(in[0].location), "RDI,X0");
  EXPECT_EQ(in[1].location, at({reg(Reg::RSI, 4)}));
  EXPECT_EQ(ret(mixed), at({reg(Reg::RAX, 8, 0), reg(Reg::XMM0, 8, 8)}));
}

// Two eightbytes fit in registers; a third makes the aggregate MEMORY.
TEST_F(Sysv, SixteenByteBoundary) {
  TypeId two = g.strct(
      "Two", 16,
      {{.name = "a", .type = g.i64, .offset = 0}, {.name = "b", .type = g.i64, .offset = 8}});
  TypeId three = g.strct("Three", 24,
                         {{.name = "a", .type = g.i64, .offset = 0},
                          {.name = "b", .type = g.i64, .offset = 8},
                          {.name = "c", .type = g.i64, .offset = 16}});
  auto in = params(c_fn({var("t", two), var("u", three), var("k", g.i64), var("v", three)}));
  ASSERT_EQ(in.size(), 4u);
  EXPECT_EQ(in[0].location, at({reg(Reg::RDI, 8, 0), reg(Reg::RSI, 8, 8)}));
  EXPECT_EQ(in[1].location, sp(8, 24));
  EXPECT_EQ(in[2].location, at({reg(Reg::RDX, 8)}));  // MEMORY took no register
  EXPECT_EQ(in[3].location, sp(32, 24));
  EXPECT_EQ(ret(two), at({reg(Reg::RAX, 8, 0), reg(Reg::RDX, 8, 8)}));
  // A 12-byte struct: the second eightbyte has 4 bytes of it.
  TypeId twelve = g.strct("Arr", 12, {{.name = "a", .type = g.array(g.i32, 3), .offset = 0}});
  auto arr = params(c_fn({var("a", twelve)}));
  ASSERT_EQ(arr.size(), 1u);
  EXPECT_EQ(arr[0].location, at({reg(Reg::RDI, 8, 0), reg(Reg::RSI, 4, 8)}));
}

TEST_F(Sysv, FourFloatsAreTwoSseEightbytes) {
  TypeId quad = g.strct("Quad", 16,
                        {{.name = "x", .type = g.f32, .offset = 0},
                         {.name = "y", .type = g.f32, .offset = 4},
                         {.name = "z", .type = g.f32, .offset = 8},
                         {.name = "w", .type = g.f32, .offset = 12}});
  auto in = params(c_fn({var("q", quad), var("c", g.c128)}));
  ASSERT_EQ(in.size(), 2u);
  EXPECT_EQ(in[0].location, at({reg(Reg::XMM0, 8, 0), reg(Reg::XMM1, 8, 8)}));
  EXPECT_EQ(in[1].location, at({reg(Reg::XMM2, 8, 0), reg(Reg::XMM3, 8, 8)}));
  EXPECT_EQ(ret(quad), at({reg(Reg::XMM0, 8, 0), reg(Reg::XMM1, 8, 8)}));
}

// A union is classified like a struct whose members all start at 0.
TEST_F(Sysv, UnionMergesItsMembers) {
  TypeId u = g.strct("U", 8,
                     {{.name = "i", .type = g.i32, .offset = 0},
                      {.name = "f", .type = g.f32, .offset = 0},
                      {.name = "d", .type = g.f64, .offset = 0}},
                     TypeKind::Union);
  TypeId fu = g.strct(
      "FU", 8,
      {{.name = "f", .type = g.f32, .offset = 0}, {.name = "d", .type = g.f64, .offset = 0}},
      TypeKind::Union);
  auto in = params(c_fn({var("u", u), var("fu", fu)}));
  ASSERT_EQ(in.size(), 2u);
  EXPECT_EQ(in[0].location, at({reg(Reg::RDI, 8)}));
  EXPECT_EQ(in[1].location, at({reg(Reg::XMM0, 8)}));
}

// The psABI's parameter passing example (figure 3.5) without its vector
// arguments: func(int e, int f, structparm s, int g, int h, long double ld,
// double m, double n, int i, int j, int k), structparm {int a, b; double d}.
TEST_F(Sysv, PsAbiParameterPassingExample) {
  TypeId sp_t = g.strct("structparm", 16,
                        {{.name = "a", .type = g.i32, .offset = 0},
                         {.name = "b", .type = g.i32, .offset = 4},
                         {.name = "d", .type = g.f64, .offset = 8}});
  Function fn = c_fn({var("e", g.i32), var("f", g.i32), var("s", sp_t), var("g", g.i32),
                      var("h", g.i32), var("ld", g.f80), var("m", g.f64), var("n", g.f64),
                      var("i", g.i32), var("j", g.i32), var("k", g.i32)},
                     kNoType, Language::C);
  auto in = params(fn);
  ASSERT_EQ(in.size(), 11u);
  EXPECT_EQ(to_string(in[0].location), "RDI");
  EXPECT_EQ(to_string(in[1].location), "RSI");
  EXPECT_EQ(in[2].location, at({reg(Reg::RDX, 8, 0), reg(Reg::XMM0, 8, 8)}));
  EXPECT_EQ(to_string(in[3].location), "RCX");
  EXPECT_EQ(to_string(in[4].location), "R8");
  // long double is passed in memory (class X87); its value is not decoded.
  EXPECT_EQ(in[5].location, gone(16));
  EXPECT_EQ(to_string(in[6].location), "X1");
  EXPECT_EQ(to_string(in[7].location), "X2");
  EXPECT_EQ(to_string(in[8].location), "R9");
  EXPECT_EQ(in[9].location, sp(24, 4));  // after ld's 16 bytes at 8(SP)
  EXPECT_EQ(in[10].location, sp(32, 4));
  EXPECT_TRUE(results(fn).empty()) << "void";
}

TEST_F(Sysv, RunningOutOfRegisters) {
  TypeId two = g.strct(
      "Two", 16,
      {{.name = "a", .type = g.i64, .offset = 0}, {.name = "b", .type = g.i64, .offset = 8}});
  // Five integers leave only R9: the two-eightbyte struct goes wholly to the
  // stack, and the next integer still gets R9.
  std::vector<Variable> ps;
  for (int i = 0; i < 5; ++i) ps.push_back(var("i" + std::to_string(i), g.i64));
  ps.push_back(var("t", two));
  ps.push_back(var("last", g.i64));
  ps.push_back(var("more", g.i32));
  auto in = params(c_fn(ps));
  ASSERT_EQ(in.size(), 8u);
  EXPECT_EQ(to_string(in[4].location), "R8");
  EXPECT_EQ(in[5].location, sp(8, 16));
  EXPECT_EQ(in[6].location, at({reg(Reg::R9, 8)}));
  EXPECT_EQ(in[7].location, sp(24, 4));

  // Nine doubles: X0-X7, then the stack.
  std::vector<Variable> fs;
  for (int i = 0; i < 9; ++i) fs.push_back(var("f" + std::to_string(i), g.f64));
  auto fl = params(c_fn(fs));
  ASSERT_EQ(fl.size(), 9u);
  EXPECT_EQ(to_string(fl[7].location), "X7");
  EXPECT_EQ(fl[8].location, sp(8, 8));
}

// A MEMORY-class result: the caller passes its address in RDI, which shifts
// every integer argument by one; the callee returns the address in RAX.
TEST_F(Sysv, MemoryResultThroughHiddenPointer) {
  TypeId big = g.strct("Big", 24,
                       {{.name = "a", .type = g.i64, .offset = 0},
                        {.name = "b", .type = g.i64, .offset = 8},
                        {.name = "c", .type = g.i64, .offset = 16}});
  Function fn = c_fn({var("x", g.i64), var("d", g.f64), var("y", g.i32)}, big);
  auto in = params(fn);
  ASSERT_EQ(in.size(), 3u);
  EXPECT_EQ(to_string(in[0].location), "RSI");
  EXPECT_EQ(to_string(in[1].location), "X0");
  EXPECT_EQ(to_string(in[2].location), "RDX");
  auto out = results(fn);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].location, via(Reg::RAX, 24));
  EXPECT_EQ(to_string(out[0].location), "0(RAX)");
}

// `this` is the first parameter in DWARF and an INTEGER argument; with a
// hidden result pointer it comes second (Itanium C++ ABI).
TEST_F(Sysv, ThisAndReferences) {
  TypeId ledger = g.strct("shop::Ledger", 8, {{.name = "total_", .type = g.i64, .offset = 0}});
  TypeId item = g.strct(
      "shop::Item", 16,
      {{.name = "id", .type = g.i64, .offset = 0}, {.name = "qty", .type = g.i32, .offset = 8}});
  TypeId ref =
      g.t.add({.kind = TypeKind::Pointer, .name = "const shop::Item &", .size = 8, .elem = item});
  Function m = c_fn({var("this", g.ptr(ledger)), var("it", ref), var("n", g.i32)}, g.i64);
  auto in = params(m);
  ASSERT_EQ(in.size(), 3u);
  EXPECT_EQ(in[0].location, at({reg(Reg::RDI, 8)}));
  EXPECT_EQ(in[1].location, at({reg(Reg::RSI, 8)}));
  EXPECT_EQ(in[2].location, at({reg(Reg::RDX, 4)}));
  EXPECT_EQ(results(m)[0].location, at({reg(Reg::RAX, 8)}));

  TypeId big = g.strct("Big", 32, {{.name = "a", .type = g.array(g.i64, 4), .offset = 0}});
  auto shifted = params(c_fn({var("this", g.ptr(ledger)), var("it", ref)}, big));
  ASSERT_EQ(shifted.size(), 2u);
  EXPECT_EQ(to_string(shifted[0].location), "RSI");
  EXPECT_EQ(to_string(shifted[1].location), "RDX");
}

TEST_F(Sysv, ScalarResults) {
  EXPECT_EQ(ret(g.b), at({reg(Reg::RAX, 1)}));
  EXPECT_EQ(ret(g.i16), at({reg(Reg::RAX, 2)}));
  EXPECT_EQ(ret(g.u64), at({reg(Reg::RAX, 8)}));
  EXPECT_EQ(ret(g.f32), at({reg(Reg::XMM0, 4)}));
  EXPECT_EQ(ret(g.c128), at({reg(Reg::XMM0, 8, 0), reg(Reg::XMM1, 8, 8)}));
  TypeId dl = g.strct(
      "DL", 16,
      {{.name = "d", .type = g.f64, .offset = 0}, {.name = "l", .type = g.i64, .offset = 8}});
  EXPECT_EQ(ret(dl), at({reg(Reg::XMM0, 8, 0), reg(Reg::RAX, 8, 8)}));
  EXPECT_EQ(ret(g.f80), gone(16));  // in ST0
}

// __int128 takes two INTEGER registers; the decoder cannot show it, but its
// place is known, so later arguments are still placed.
TEST_F(Sysv, Int128AndLongDoubleKeepLaterPlaces) {
  auto in = params(c_fn(
      {var("a", g.i32), var("w", g.i128), var("b", g.i32), var("ld", g.f80), var("c", g.i64)}));
  ASSERT_EQ(in.size(), 5u);
  EXPECT_EQ(to_string(in[0].location), "RDI");
  EXPECT_EQ(in[1].location, gone(16));
  EXPECT_EQ(to_string(in[2].location), "RCX");
  EXPECT_EQ(in[3].location, gone(16));
  EXPECT_EQ(to_string(in[4].location), "R8");
  // Only R9 left: __int128 goes to the stack, 16-aligned in the argument area.
  std::vector<Variable> ps;
  for (int i = 0; i < 5; ++i) ps.push_back(var("i" + std::to_string(i), g.i64));
  ps.push_back(var("w", g.i128));
  ps.push_back(var("x", g.i64));
  ps.push_back(var("y", g.i64));
  auto spill = params(c_fn(ps));
  ASSERT_EQ(spill.size(), 8u);
  EXPECT_EQ(spill[5].location, gone(16));
  EXPECT_EQ(to_string(spill[6].location), "R9");
  EXPECT_EQ(spill[7].location, sp(24, 8));
}

TEST_F(Sysv, EmptyClassTakesNoRegister) {
  TypeId empty = g.strct("Tag", 1, {});
  auto in = params(c_fn({var("t", empty), var("x", g.i64)}));
  ASSERT_EQ(in.size(), 2u);
  EXPECT_TRUE(in[0].location.empty());
  EXPECT_EQ(to_string(in[1].location), "RDI");
}

// A type the model does not know, or an unaligned field (packed struct or a
// bit-field the model placed at a byte offset), leaves the class unknown:
// that value and every later one take DWARF's entry location when it can be
// true at entry, else are unavailable. Never a guess.
TEST_F(Sysv, UnknownShapeFallsBackToDwarfAtEntry) {
  TypeId packed =
      g.strct("Packed", 5,
              {{.name = "c", .type = g.c, .offset = 0}, {.name = "i", .type = g.i32, .offset = 1}});
  Function fn = c_fn({var("a", g.i32), with_dwarf(var("p", packed), at({reg(Reg::RSI, 5)})),
                      with_dwarf(var("b", g.i32), at({reg(Reg::RDX, 4)})),
                      with_dwarf(var("c", g.i32), at({Piece::at_cfa(-20, 4)})), var("d", g.i32)},
                     g.i32);
  auto in = params(fn);
  ASSERT_EQ(in.size(), 5u);
  EXPECT_EQ(to_string(in[0].location), "RDI");
  EXPECT_EQ(in[0].source, LocationSource::Abi);
  EXPECT_EQ(to_string(in[1].location), "RSI");
  EXPECT_EQ(in[1].source, LocationSource::Dwarf);
  EXPECT_EQ(to_string(in[2].location), "RDX");
  EXPECT_EQ(in[2].source, LocationSource::Dwarf);
  // CFA-20 is a frame slot the prologue writes: not true at entry.
  EXPECT_EQ(in[3].location, gone(4));
  EXPECT_EQ(in[4].location, gone(4));
  EXPECT_EQ(results(fn)[0].location, at({reg(Reg::RAX, 4)})) << "results restart at RAX";

  auto unk = params(c_fn({var("m", g.unknown), var("x", g.i64)}));
  ASSERT_EQ(unk.size(), 2u);
  EXPECT_EQ(unk[0].location, gone(8));
  EXPECT_EQ(unk[1].location, gone(8));
}

// -O0 code describes parameters by frame slots (CFA - n for GCC, RBP - n for
// clang) valid only after the prologue; the model is used, not contradicted.
TEST_F(Sysv, FrameSlotsDoNotOverrideTheModel) {
  Function fn = c_fn({with_dwarf(var("a", g.i32), at({Piece::at_cfa(-20, 4)}), 0, UINT64_MAX),
                      with_dwarf(var("b", g.i64),
                                 at({Piece{.kind = PieceKind::Memory,
                                           .size = 8,
                                           .reg = Reg::RBP,
                                           .base = MemBase::Register,
                                           .offset = -16}}),
                                 0, UINT64_MAX)});
  auto in = params(fn);
  ASSERT_EQ(in.size(), 2u);
  EXPECT_EQ(to_string(in[0].location), "RDI");
  EXPECT_EQ(to_string(in[1].location), "RSI");
  EXPECT_EQ(in[1].source, LocationSource::Abi);
}

// A class that is non-trivial for calls is passed by invisible reference:
// DWARF places it in memory at an argument register (clang; GCC -O2), or, at
// GCC -O0, gives one dereferencing expression the model reads as unavailable.
TEST_F(Sysv, ClassPassedByInvisibleReference) {
  TypeId handle = g.strct("Handle", 8, {{.name = "fd", .type = g.i64, .offset = 0}});
  Function o2 = c_fn(
      {var("k", g.i32), with_dwarf(var("h", handle), via(Reg::RSI, 8)), var("x", g.i64)}, g.i64);
  auto in = params(o2);
  ASSERT_EQ(in.size(), 3u);
  EXPECT_EQ(to_string(in[0].location), "RDI");
  EXPECT_EQ(in[1].location, via(Reg::RSI, 8));
  EXPECT_EQ(to_string(in[2].location), "RDX");

  Function o0 = c_fn({with_dwarf(var("h", handle), gone(8), 0, UINT64_MAX), var("x", g.i64)});
  auto in0 = params(o0);
  ASSERT_EQ(in0.size(), 2u);
  EXPECT_EQ(in0[0].location, via(Reg::RDI, 8));
  EXPECT_EQ(to_string(in0[1].location), "RSI");

  // An optimized-out struct (no location list at all) is not such evidence.
  Function plain = c_fn({var("h", handle), var("x", g.i64)});
  EXPECT_EQ(to_string(params(plain)[0].location), "RDI");
}

// A small class returned by value that is non-trivial for calls comes back
// through a hidden pointer; the parameters' entry registers show the shift.
TEST_F(Sysv, HiddenPointerSeenInDwarf) {
  TypeId handle = g.strct("Handle", 8, {{.name = "fd", .type = g.i64, .offset = 0}});
  Function fn = c_fn({with_dwarf(var("x", g.i64), at({reg(Reg::RSI, 8)})),
                      with_dwarf(var("y", g.i64), at({reg(Reg::RDX, 8)}))},
                     handle);
  auto in = params(fn);
  ASSERT_EQ(in.size(), 2u);
  EXPECT_EQ(to_string(in[0].location), "RSI");
  EXPECT_EQ(in[0].source, LocationSource::Abi);
  EXPECT_EQ(to_string(in[1].location), "RDX");
  EXPECT_EQ(results(fn)[0].location, via(Reg::RAX, 8));
}

// The type model's own flag (clang's DW_AT_calling_convention, GCC's user
// copy constructor or destructor, libstdc++'s std::string): no DWARF evidence
// needed, as at -O0 where parameters are described by frame slots.
TEST_F(Sysv, NonTrivialClassFromTheTypeModel) {
  TypeId ticket = g.t.add({.kind = TypeKind::Struct,
                           .name = "Ticket",
                           .size = 8,
                           .fields = {{.name = "id", .type = g.i64, .offset = 0}},
                           .pass_by_reference = true});
  TypeId str = g.t.add({.kind = TypeKind::String,
                        .name = "std::string",
                        .size = 32,
                        .seq = SeqLayout{.ptr = 0, .len = 8, .cap = -1},
                        .pass_by_reference = true});
  Function renew = c_fn({var("t", ticket), var("k", g.i64)}, ticket);
  auto in = params(renew);
  ASSERT_EQ(in.size(), 2u);
  EXPECT_EQ(in[0].location, via(Reg::RSI, 8)) << "RDI holds the result's address";
  EXPECT_EQ(to_string(in[1].location), "RDX");
  EXPECT_EQ(results(renew)[0].location, via(Reg::RAX, 8));

  Function length = c_fn({var("s", str)}, g.i64);
  EXPECT_EQ(params(length)[0].location, via(Reg::RDI, 32));
  EXPECT_EQ(to_string(results(length)[0].location), "RAX");
  Function greet = c_fn({var("name", g.ptr(str)), var("n", g.i32)}, str);
  EXPECT_EQ(to_string(params(greet)[0].location), "RSI");
  EXPECT_EQ(results(greet)[0].location, via(Reg::RAX, 32));
}

// gccgo returns several Go results as one struct: each result is its part of
// where the struct is (RAX:RDX, or memory through the hidden pointer).
TEST_F(Sysv, GccgoSeveralResultsArePartsOfOneStruct) {
  auto gccgo_fn = [&](std::vector<Variable> params, TypeId ret) {
    Function fn = c_fn(std::move(params), ret, Language::Go);
    fn.producer = "GNU Go 12.2.0 -mtune=generic -march=x86-64 -g -O2";
    for (const Field& f : g.t.get(ret).fields)
      fn.results.push_back(Variable{.name = f.name, .type = f.type, .is_result = true});
    return fn;
  };
  TypeId str = g.t.add({.kind = TypeKind::String,
                        .name = "string",
                        .size = 16,
                        .seq = SeqLayout{.ptr = 0, .len = 8, .cap = -1}});
  TypeId divmod = g.strct(
      "", 16,
      {{.name = "q", .type = g.i64, .offset = 0}, {.name = "r", .type = g.i64, .offset = 8}});
  Function d = gccgo_fn({var("a", g.i64), var("b", g.i64)}, divmod);
  auto r = results(d);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(to_string(r[0].location), "RAX");
  EXPECT_EQ(to_string(r[1].location), "RDX");
  EXPECT_EQ(to_string(params(d)[0].location), "RDI");

  TypeId cat = g.strct(
      "", 24, {{.name = "", .type = str, .offset = 0}, {.name = "", .type = g.i64, .offset = 16}});
  Function c = gccgo_fn({var("a", str), var("b", str)}, cat);
  auto in = params(c);
  ASSERT_EQ(in.size(), 2u);
  EXPECT_EQ(to_string(in[0].location), "RSI,RDX") << "RDI holds the results' address";
  EXPECT_EQ(to_string(in[1].location), "RCX,R8");
  auto rc = results(c);
  ASSERT_EQ(rc.size(), 2u);
  EXPECT_EQ(rc[0].location, via(Reg::RAX, 16));
  Piece second = via(Reg::RAX, 8).pieces[0];
  second.offset = 16;
  EXPECT_EQ(rc[1].location, at({second}));

  // Two int32s share RAX: the second is in its upper half, which a register
  // piece (the low bytes of a register) cannot say.
  TypeId pair32 = g.strct(
      "", 8, {{.name = "", .type = g.i32, .offset = 0}, {.name = "", .type = g.i32, .offset = 4}});
  auto rp = results(gccgo_fn({}, pair32));
  ASSERT_EQ(rp.size(), 2u);
  EXPECT_EQ(rp[0].location, at({reg(Reg::RAX, 4)}));
  EXPECT_EQ(rp[1].location, gone(4));
}

// When DWARF's entry registers contradict the model in a way no convention
// explains (clang's dead-argument elimination, a GCC clone), parameters come
// from DWARF where it can be true at entry, and the result is not trusted.
TEST_F(Sysv, ContradictionUsesDwarfAndDropsTheResult) {
  Function fn =
      c_fn({var("unused", g.i64), with_dwarf(var("x", g.i64), at({reg(Reg::RDI, 8)}))}, g.i64);
  auto in = params(fn);
  ASSERT_EQ(in.size(), 2u);
  EXPECT_EQ(in[0].location, gone(8));
  EXPECT_EQ(to_string(in[1].location), "RDI");
  EXPECT_EQ(in[1].source, LocationSource::Dwarf);
  EXPECT_EQ(results(fn)[0].location, gone(8));

  // A GCC clone is never read by the source signature.
  Function clone =
      c_fn({with_dwarf(var("this", g.ptr(g.i64)), at({reg(Reg::RDI, 8)})), var("it", g.ptr(g.i64)),
            with_dwarf(var("note", g.ptr(g.i64)), at({reg(Reg::RDX, 8)}))},
           g.i64);
  clone.name = "shop::Ledger::record(shop::Item const&, std::string const&) (.isra.0)";
  auto c = params(clone);
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[0].source, LocationSource::Dwarf);
  EXPECT_EQ(c[1].location, gone(8));
  EXPECT_EQ(to_string(c[2].location), "RDX");
  EXPECT_EQ(results(clone)[0].location, gone(8));
}

// DWARF that agrees (GCC -O2 location lists at the entry PC) changes nothing;
// a stack argument at CFA+n is (n+8)(SP).
TEST_F(Sysv, AgreeingDwarfKeepsTheModel) {
  std::vector<Variable> ps;
  for (int i = 0; i < 6; ++i) ps.push_back(var("i" + std::to_string(i), g.i64));
  ps[1] = with_dwarf(ps[1], at({reg(Reg::RSI, 8)}));
  ps.push_back(with_dwarf(var("s", g.i64), at({Piece::at_cfa(0, 8)})));
  auto in = params(c_fn(ps, g.i64));
  ASSERT_EQ(in.size(), 7u);
  EXPECT_EQ(in[6].location, sp(8, 8));
  for (const auto& v : in) EXPECT_EQ(v.source, LocationSource::Abi);
}

TEST_F(Sysv, MatchesCAndCxxOnly) {
  BinaryFacts none;
  EXPECT_EQ(abi->match(none, c_fn({}, kNoType, Language::C)), 10);
  EXPECT_EQ(abi->match(none, c_fn({}, kNoType, Language::CPlusPlus)), 10);
  EXPECT_EQ(abi->match(none, c_fn({}, kNoType, Language::Go)), 0);
  // gccgo: Go compiled by GCC follows the SysV convention.
  Function gccgo = c_fn({}, kNoType, Language::Go);
  gccgo.producer = "GNU Go 12.2.0 -mtune=generic -march=x86-64 -g -O2 -fsplit-stack";
  EXPECT_EQ(abi->match(none, gccgo), 10);
  AbiRegistry plugins;  // owns the plugin `chosen` points to
  auto chosen = plugins.select(BinaryFacts{.language = Language::Go}, gccgo);
  ASSERT_TRUE(chosen);
  EXPECT_EQ((*chosen)->name(), "sysv");
  EXPECT_EQ(abi->match(none, c_fn({}, kNoType, Language::Rust)), 0);
  EXPECT_EQ(abi->match(BinaryFacts{.language = Language::C}, c_fn({}, kNoType, Language::Unknown)),
            10);
  EXPECT_EQ(abi->context_source(), ContextSource::Thread);
  AbiRegistry registry;
  auto picked = registry.select(BinaryFacts{}, c_fn({}, kNoType, Language::CPlusPlus));
  ASSERT_TRUE(picked.has_value());
  EXPECT_EQ((*picked)->name(), "sysv");
}

TEST_F(Sysv, MalformedInputIsAnErrorNotACrash) {
  Function bad = c_fn({var("x", 9999)});
  auto p = abi->params_at_entry(bad, g.t);
  ASSERT_FALSE(p.has_value());
  EXPECT_NE(p.error().message.find("outside the type table"), std::string::npos);
  EXPECT_FALSE(abi->results_at_return(c_fn({}, 12345), g.t).has_value());
  // A struct that contains itself by value (a corrupt table) ends in "unknown".
  TypeId self = g.strct("Self", 8, {});
  g.t.mut(self).fields.push_back({.name = "s", .type = self, .offset = 0});
  auto in = params(c_fn({var("s", self), var("x", g.i64)}));
  ASSERT_EQ(in.size(), 2u);
  EXPECT_EQ(in[0].location, gone(8));
}

}  // namespace
}  // namespace dynprobe

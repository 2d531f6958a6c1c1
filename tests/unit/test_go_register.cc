// The go_register plugin against Go's register assignment (abi-internal.md).
// Every expectation below was also checked against code and DWARF that
// go1.19.8 produced for the same signature (objdump of the function body:
// which register or N(SP) slot it reads each argument from).
#include <gtest/gtest.h>

#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "abi/abi.h"
#include "abi/registry.h"
#include "tests/unit/abi_test_support.h"

namespace dynprobe {
std::unique_ptr<AbiPlugin> make_go_register_abi();

namespace {

using namespace abi_test;

Function go_fn(std::vector<Variable> params, std::vector<Variable> results) {
  return abi_test::go_fn(std::move(params), std::move(results), "Go cmd/compile go1.19.8; regabi");
}

using GoRegister = AbiFixture<make_go_register_abi>;

// abi-internal.md "Example": f(a1 uint8, a2 [2]uintptr, a3 uint8)
// (r1 struct{x uintptr; y [2]uintptr}, r2 string). On amd64 its R0, R1 are RAX, RBX.
TEST_F(GoRegister, SpecWorkedExample) {
  TypeId a2 = g.array(g.uptr, 2);
  TypeId r1 = g.strct("struct { x uintptr; y [2]uintptr }", 24,
                      {{.name = "x", .type = g.uptr, .offset = 0},
                       {.name = "y", .type = g.array(g.uptr, 2), .offset = 8}});
  Function fn = go_fn({var("a1", g.u8), var("a2", a2), var("a3", g.u8)},
                      {var("r1", r1, true), var("r2", g.str, true)});

  auto in = params(fn);
  ASSERT_EQ(in.size(), 3u);
  EXPECT_EQ(in[0].location, at({reg(Reg::RAX, 1)}));
  EXPECT_EQ(in[1].location, sp(8, 16));  // contains an array: stack, first field of S
  EXPECT_EQ(in[2].location, at({reg(Reg::RBX, 1)}));
  for (const auto& v : in) EXPECT_EQ(v.source, LocationSource::Abi);

  auto out = results(fn);
  ASSERT_EQ(out.size(), 2u);
  // S: a2 at 0..16, pointer alignment, r1 at 16 -> 24(SP) since 0(SP) is the return PC.
  EXPECT_EQ(out[0].location, sp(24, 24));
  EXPECT_EQ(out[1].location, at({reg(Reg::RAX, 8, 0), reg(Reg::RBX, 8, 8)}));
  EXPECT_EQ(to_string(out[1].location), "RAX,RBX");
}

struct MoneyFixture {
  explicit MoneyFixture(GoTypes& g)
      : money(g.strct("main.Money", 32,
                      {{.name = "Currency", .type = g.str, .offset = 0},
                       {.name = "Units", .type = g.i64, .offset = 16},
                       {.name = "Nanos", .type = g.i32, .offset = 24}})),
        fn(go_fn({var("l", money), var("r", money)},
                 {var("~r0", money, true), var("~r1", g.error, true)})) {}
  TypeId money;
  Function fn;
};

TEST_F(GoRegister, MoneySumSplitsStructsFieldByField) {
  MoneyFixture m(g);
  auto in = params(m.fn);
  ASSERT_EQ(in.size(), 2u);
  EXPECT_EQ(in[0].location, at({reg(Reg::RAX, 8, 0), reg(Reg::RBX, 8, 8), reg(Reg::RCX, 8, 16),
                                reg(Reg::RDI, 4, 24)}));
  EXPECT_EQ(in[1].location, at({reg(Reg::RSI, 8, 0), reg(Reg::R8, 8, 8), reg(Reg::R9, 8, 16),
                                reg(Reg::R10, 4, 24)}));
  EXPECT_EQ(to_string(in[1].location), "RSI,R8,R9,R10");

  auto out = results(m.fn);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].location, at({reg(Reg::RAX, 8, 0), reg(Reg::RBX, 8, 8), reg(Reg::RCX, 8, 16),
                                 reg(Reg::RDI, 4, 24)}));
  EXPECT_EQ(out[1].location, at({reg(Reg::RSI, 8, 0), reg(Reg::R8, 8, 8)}));
}

TEST_F(GoRegister, MixedIntegerAndFloatSequencesAdvanceIndependently) {
  TypeId ab = g.strct(
      "struct { A int64; B float64 }", 16,
      {{.name = "A", .type = g.i64, .offset = 0}, {.name = "B", .type = g.f64, .offset = 8}});
  Function fn =
      go_fn({var("a", g.f64), var("b", g.i64), var("c", g.f32), var("d", g.c128), var("e", ab)},
            {var("~r0", g.f64, true), var("~r1", g.i64, true)});
  auto in = params(fn);
  ASSERT_EQ(in.size(), 5u);
  EXPECT_EQ(in[0].location, at({reg(xmm(0), 8)}));
  EXPECT_EQ(in[1].location, at({reg(Reg::RAX, 8)}));
  EXPECT_EQ(in[2].location, at({reg(xmm(1), 4)}));
  EXPECT_EQ(in[3].location, at({reg(xmm(2), 8, 0), reg(xmm(3), 8, 8)}));
  EXPECT_EQ(in[4].location, at({reg(Reg::RBX, 8, 0), reg(xmm(4), 8, 8)}));
  EXPECT_EQ(to_string(in[4].location), "RBX,X4");

  auto out = results(fn);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].location, at({reg(xmm(0), 8)}));
  EXPECT_EQ(out[1].location, at({reg(Reg::RAX, 8)}));
}

TEST_F(GoRegister, TenIntegersUseNineRegistersThenTheStack) {
  std::vector<Variable> ps;
  for (char c = 'a'; c <= 'j'; ++c) ps.push_back(var(std::string(1, c), g.i64));
  Function fn = go_fn(ps, {var("~r0", g.i64, true)});
  auto in = params(fn);
  ASSERT_EQ(in.size(), 10u);
  const Reg order[] = {Reg::RAX, Reg::RBX, Reg::RCX, Reg::RDI, Reg::RSI,
                       Reg::R8,  Reg::R9,  Reg::R10, Reg::R11};
  for (int i = 0; i < 9; ++i) EXPECT_EQ(in[i].location, at({reg(order[i], 8)})) << i;
  EXPECT_EQ(in[9].location, sp(8, 8));
  // Results restart at RAX even though the arguments used every register.
  auto out = results(fn);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].location, at({reg(Reg::RAX, 8)}));
}

TEST_F(GoRegister, FifteenFloatRegistersThenTheStack) {
  std::vector<Variable> ps;
  for (int i = 0; i < 16; ++i) ps.push_back(var("f" + std::to_string(i), g.f64));
  ps.push_back(var("q", g.i64));
  Function fn = go_fn(ps, {var("~r0", g.f64, true)});
  auto in = params(fn);
  ASSERT_EQ(in.size(), 17u);
  for (int i = 0; i < 15; ++i) EXPECT_EQ(in[i].location, at({reg(xmm(i), 8)})) << i;
  EXPECT_EQ(in[15].location, sp(8, 8));  // X15 is the zero register, never an argument
  EXPECT_EQ(in[16].location, at({reg(Reg::RAX, 8)}));
}

TEST_F(GoRegister, ComplexThatNeedsTheSixteenthFloatRegisterGoesWhollyToTheStack) {
  std::vector<Variable> ps;
  for (int i = 0; i < 14; ++i) ps.push_back(var("f" + std::to_string(i), g.f64));
  ps.push_back(var("z", g.c128));
  ps.push_back(var("o", g.f64));
  Function fn = go_fn(ps, {});
  auto in = params(fn);
  ASSERT_EQ(in.size(), 16u);
  EXPECT_EQ(in[13].location, at({reg(xmm(13), 8)}));
  EXPECT_EQ(in[14].location, sp(8, 16));              // X14 alone cannot hold it: no split
  EXPECT_EQ(in[15].location, at({reg(xmm(14), 8)}));  // the rollback freed X14
}

TEST_F(GoRegister, StructThatDoesNotFitRollsBackAndLaterArgumentsStillUseRegisters) {
  std::vector<Field> nine;
  for (int i = 0; i < 9; ++i)
    nine.push_back({.name = std::string(1, 'A' + i), .type = g.i64, .offset = 8u * i});
  TypeId big9 = g.strct("main.Big9", 72, nine);
  Function fn = go_fn({var("x", g.i64), var("big", big9), var("y", g.i64), var("s", g.str)},
                      {var("~r0", g.i64, true)});
  auto in = params(fn);
  ASSERT_EQ(in.size(), 4u);
  EXPECT_EQ(in[0].location, at({reg(Reg::RAX, 8)}));
  EXPECT_EQ(in[1].location, sp(8, 72));
  EXPECT_EQ(in[2].location, at({reg(Reg::RBX, 8)}));
  EXPECT_EQ(in[3].location, at({reg(Reg::RCX, 8, 0), reg(Reg::RDI, 8, 8)}));
}

// go1.19.8 compiles the body to read s.len at 24(SP) but its DWARF says
// fbreg+16 (CFA+16 = 24(SP)) for s itself: the ABI model must win.
TEST_F(GoRegister, AbiModelWinsOverWrongDwarfForStackArguments) {
  std::vector<Field> eight;
  for (int i = 0; i < 8; ++i)
    eight.push_back({.name = std::string(1, 'A' + i), .type = g.i64, .offset = 8u * i});
  TypeId big = g.strct("main.Big", 64, eight);
  Variable s = var("s", g.str);
  s.has_location = true;
  s.locations.push_back({.low = 0x1000, .high = 0x1100, .location = at({Piece::at_cfa(16, 0)})});
  Function fn = go_fn({var("x", g.i64), var("big", big), var("y", g.i64), s}, {});
  auto in = params(fn);
  ASSERT_EQ(in.size(), 4u);
  EXPECT_EQ(to_string(in[1].location), "RBX,RCX,RDI,RSI,R8,R9,R10,R11");  // exactly fits
  EXPECT_EQ(in[2].location, sp(8, 8));
  EXPECT_EQ(in[3].location, sp(16, 16));
  EXPECT_EQ(in[3].source, LocationSource::Abi);
}

TEST_F(GoRegister, EveryReferenceKindTakesItsWordsAndRollsBackWhenShort) {
  std::vector<Variable> ps;
  for (int i = 0; i < 8; ++i) ps.push_back(var("i" + std::to_string(i), g.i64));
  for (auto [n, t] : std::vector<std::pair<const char*, TypeId>>{{"s", g.str},
                                                                 {"sl", g.slice},
                                                                 {"er", g.error},
                                                                 {"m", g.map},
                                                                 {"ch", g.chan},
                                                                 {"fn", g.func},
                                                                 {"p", g.ptr},
                                                                 {"last", g.i64}})
    ps.push_back(var(n, t));
  Function fn = go_fn(ps, {});
  auto in = params(fn);
  ASSERT_EQ(in.size(), 16u);
  EXPECT_EQ(in[7].location, at({reg(Reg::R10, 8)}));
  EXPECT_EQ(in[8].location, sp(8, 16));                // string needs 2, only R11 is left
  EXPECT_EQ(in[9].location, sp(24, 24));               // slice needs 3
  EXPECT_EQ(in[10].location, sp(48, 16));              // interface needs 2
  EXPECT_EQ(in[11].location, at({reg(Reg::R11, 8)}));  // a map is one word
  EXPECT_EQ(in[12].location, sp(64, 8));
  EXPECT_EQ(in[13].location, sp(72, 8));
  EXPECT_EQ(in[14].location, sp(80, 8));
  EXPECT_EQ(in[15].location, sp(88, 8));
}

TEST_F(GoRegister, SliceAndInterfaceInRegisters) {
  Function fn = go_fn({var("sl", g.slice), var("e", g.error)}, {});
  auto in = params(fn);
  ASSERT_EQ(in.size(), 2u);
  EXPECT_EQ(in[0].location, at({reg(Reg::RAX, 8, 0), reg(Reg::RBX, 8, 8), reg(Reg::RCX, 8, 16)}));
  EXPECT_EQ(in[1].location, at({reg(Reg::RDI, 8, 0), reg(Reg::RSI, 8, 8)}));
}

TEST_F(GoRegister, OneElementArrayIsItsElementAndZeroSizedStructTakesNothing) {
  TypeId a1 = g.array(g.i32, 1);
  Function fn = go_fn({var("a", a1), var("z", g.empty), var("b", g.i8)}, {var("~r0", g.i32, true)});
  auto in = params(fn);
  ASSERT_EQ(in.size(), 3u);
  EXPECT_EQ(in[0].location, at({reg(Reg::RAX, 4)}));
  EXPECT_TRUE(in[1].location.empty());  // nothing to read: the value is struct{}{}
  EXPECT_EQ(in[1].source, LocationSource::Abi);
  EXPECT_EQ(in[2].location, at({reg(Reg::RBX, 1)}));
}

TEST_F(GoRegister, ZeroSizedValuesStillAlignTheStackSequence) {
  TypeId two = g.array(g.u8, 2);
  TypeId zero64 = g.array(g.i64, 0);
  Function fn = go_fn({var("a", two), var("z", zero64), var("b", two)}, {});
  auto in = params(fn);
  ASSERT_EQ(in.size(), 3u);
  EXPECT_EQ(in[0].location, sp(8, 2));
  EXPECT_TRUE(in[1].location.empty());
  EXPECT_EQ(in[2].location, sp(16, 2));  // [0]int64 moved S to an 8-byte boundary
}

// func (p Pair) Method(q complex64, arr [1]Pair) (Pair, [3]int16, bool) with
// Pair{A int8; B float32; C [0]int64; D bool}: byte-sized fields take whole
// registers, a [0] field takes none, and a stack result needs no stack argument.
TEST_F(GoRegister, MethodWithSmallFieldsComplex64AndArrayOfOne) {
  TypeId pair = g.strct("main.Pair", 16,
                        {{.name = "A", .type = g.i8, .offset = 0},
                         {.name = "B", .type = g.f32, .offset = 4},
                         {.name = "C", .type = g.array(g.i64, 0), .offset = 8},
                         {.name = "D", .type = g.b, .offset = 8}});
  Function fn =
      go_fn({var("p", pair), var("q", g.c64), var("arr", g.array(pair, 1))},
            {var("~r0", pair, true), var("~r1", g.array(g.i16, 3), true), var("~r2", g.b, true)});
  auto in = params(fn);
  ASSERT_EQ(in.size(), 3u);
  EXPECT_EQ(in[0].location, at({reg(Reg::RAX, 1, 0), reg(xmm(0), 4, 4), reg(Reg::RBX, 1, 8)}));
  EXPECT_EQ(in[1].location, at({reg(xmm(1), 4, 0), reg(xmm(2), 4, 4)}));
  EXPECT_EQ(in[2].location, at({reg(Reg::RCX, 1, 0), reg(xmm(3), 4, 4), reg(Reg::RDI, 1, 8)}));

  auto out = results(fn);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].location, at({reg(Reg::RAX, 1, 0), reg(xmm(0), 4, 4), reg(Reg::RBX, 1, 8)}));
  EXPECT_EQ(out[1].location, sp(8, 6));
  EXPECT_EQ(out[2].location, at({reg(Reg::RCX, 1)}));
}

TEST_F(GoRegister, StackResultsFollowStackArgumentsPointerAligned) {
  TypeId two = g.array(g.u8, 2);
  Function fn = go_fn({var("a", g.array(g.u8, 3)), var("x", g.i64)},
                      {var("~r0", two, true), var("~r1", g.array(g.i32, 2), true)});
  auto out = results(fn);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].location, sp(16, 2));  // a ends at S offset 3, aligned up to 8
  EXPECT_EQ(out[1].location, sp(20, 8));
}

TEST_F(GoRegister, UnknownShapeUsesFullDwarfLocationAndLaterValuesFollowSuit) {
  TypeId opaque = g.t.add({.kind = TypeKind::Unknown, .name = "main.opaque", .size = 16});
  Variable u = var("u", opaque);
  u.locations.push_back(
      {.low = 0x1000, .high = 0x1010, .location = at({reg(Reg::RBX, 8, 0), reg(Reg::RCX, 8, 8)})});
  Variable after = var("after", g.i64);
  after.locations.push_back({.low = 0x1000, .high = 0x1010, .location = at({reg(Reg::RDI, 0)})});
  Variable lost = var("lost", g.i64);  // no DWARF location at all
  Function fn = go_fn({var("x", g.i64), u, after, lost},
                      {var("~r0", g.i64, true), var("~r1", g.array(g.i64, 2), true)});

  auto in = params(fn);
  ASSERT_EQ(in.size(), 4u);
  EXPECT_EQ(in[0].location, at({reg(Reg::RAX, 8)}));
  EXPECT_EQ(in[0].source, LocationSource::Abi);
  EXPECT_EQ(in[1].location, at({reg(Reg::RBX, 8, 0), reg(Reg::RCX, 8, 8)}));
  EXPECT_EQ(in[1].source, LocationSource::Dwarf);
  // Which registers u used is not known to the model, so neither is where later values are.
  EXPECT_EQ(in[2].source, LocationSource::Dwarf);
  EXPECT_EQ(to_string(in[2].location), "RDI");
  EXPECT_FALSE(in[3].location.available());
  EXPECT_EQ(in[3].location, at({Piece::unavailable(8)}));

  // Results restart at RAX, but the stack sequence after u is unknown.
  auto out = results(fn);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].location, at({reg(Reg::RAX, 8)}));
  EXPECT_EQ(out[1].location, at({Piece::unavailable(16)}));
}

TEST_F(GoRegister, UnknownShapeWithPartialDwarfIsUnavailableNotAnError) {
  TypeId opaque = g.t.add({.kind = TypeKind::Unknown, .name = "main.opaque", .size = 16});
  Variable u = var("u", opaque);
  u.locations.push_back({.low = 0x1000,
                         .high = 0x1010,
                         .location = at({reg(Reg::RAX, 8, 0), Piece::unavailable(8, 8)})});
  Function fn = go_fn({u}, {var("~r0", opaque, true), var("~r1", g.i64, true)});
  auto in = params(fn);
  ASSERT_EQ(in.size(), 1u);
  EXPECT_EQ(in[0].location, at({Piece::unavailable(16)}));
  auto out = results(fn);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].location, at({Piece::unavailable(16)}));
  EXPECT_EQ(out[1].location, at({Piece::unavailable(8)}));
}

TEST_F(GoRegister, StructWithUnknownFieldIsUnknownShape) {
  TypeId opaque = g.t.add({.kind = TypeKind::Unknown, .name = "main.opaque", .size = 8});
  TypeId s = g.strct(
      "main.S", 16,
      {{.name = "a", .type = g.i64, .offset = 0}, {.name = "o", .type = opaque, .offset = 8}});
  Function fn = go_fn({var("s", s)}, {});
  auto in = params(fn);
  ASSERT_EQ(in.size(), 1u);
  EXPECT_EQ(in[0].location, at({Piece::unavailable(16)}));
}

// A zero-size value of unknown alignment cannot move registers, only S.
TEST_F(GoRegister, ZeroSizeUnknownTypeLosesOnlyStackPlaces) {
  TypeId opaque0 = g.t.add({.kind = TypeKind::Unknown, .name = "main.opaque0", .size = 0});
  Function fn =
      go_fn({var("a", g.i64), var("z", opaque0), var("s", g.array(g.i64, 2)), var("b", g.i64)},
            {var("~r0", g.i64, true), var("~r1", g.array(g.i64, 2), true)});
  auto in = params(fn);
  ASSERT_EQ(in.size(), 4u);
  EXPECT_EQ(in[0].location, at({reg(Reg::RAX, 8)}));
  EXPECT_TRUE(in[1].location.empty());
  EXPECT_EQ(in[2].location, at({Piece::unavailable(16)}));
  EXPECT_EQ(in[3].location, at({reg(Reg::RBX, 8)}));
  auto out = results(fn);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].location, at({reg(Reg::RAX, 8)}));
  EXPECT_EQ(out[1].location, at({Piece::unavailable(16)}));
}

TEST_F(GoRegister, BadTypeIdIsAnErrorNotACrash) {
  Function fn = go_fn({var("x", 9999)}, {});
  auto r = abi->params_at_entry(fn, g.t);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("main.f"), std::string::npos);
  EXPECT_FALSE(abi->results_at_return(fn, g.t).has_value());
}

TEST_F(GoRegister, MatchesGoFrom117) {
  Function fn = go_fn({}, {});
  BinaryFacts go119{.language = Language::Go, .go_version = GoVersion{1, 19, 8}};
  BinaryFacts go117{.language = Language::Go, .go_version = GoVersion{1, 17, 0}};
  BinaryFacts go116{.language = Language::Go, .go_version = GoVersion{1, 16, 15}};
  EXPECT_EQ(abi->match(go119, fn), 10);
  EXPECT_EQ(abi->match(go117, fn), 10);
  EXPECT_EQ(abi->match(go116, fn), 0);

  BinaryFacts unknown{.language = Language::Go};
  fn.producer = "Go cmd/compile devel; -N -l regabi";
  EXPECT_EQ(abi->match(unknown, fn), 5);
  fn.producer = "Go cmd/compile devel";
  EXPECT_EQ(abi->match(unknown, fn), 0);
  fn.producer = "Go cmd/compile devel; regabiwrappers";  // not the regabi flag itself
  EXPECT_EQ(abi->match(unknown, fn), 0);

  Function gccgo = go_fn({}, {});
  gccgo.producer = "GNU Go 12.2.0 -mtune=generic -march=x86-64 -g -O2";
  EXPECT_EQ(abi->match(go119, gccgo), 0);
  Function c = go_fn({}, {});
  c.language = Language::C;
  EXPECT_EQ(abi->match(BinaryFacts{.language = Language::C}, c), 0);
  EXPECT_EQ(abi->context_source(), ContextSource::GoRegisterG);
  EXPECT_EQ(abi->name(), "go-register");
}

TEST_F(GoRegister, MatchReadsTheVersionFromTheProducerWithoutBuildInfo) {
  BinaryFacts unknown{.language = Language::Go};
  Function fn = go_fn({}, {});
  fn.producer = "Go cmd/compile go1.21.0; regabi";
  EXPECT_EQ(abi->match(unknown, fn), 10);
  fn.producer = "Go cmd/compile go1.15.15";
  EXPECT_EQ(abi->match(unknown, fn), 0);
}

TEST_F(GoRegister, RegistryPicksGoRegisterFor119AndGoStackFor115) {
  AbiRegistry registry;
  Function fn = go_fn({}, {});
  auto r = registry.select({.language = Language::Go, .go_version = GoVersion{1, 19, 8}}, fn);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ((*r)->name(), "go-register");
  fn.producer = "Go cmd/compile go1.15.15";
  auto s = registry.select({.language = Language::Go, .go_version = GoVersion{1, 15, 15}}, fn);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ((*s)->name(), "go-stack");
}

}  // namespace
}  // namespace dynprobe

namespace dynprobe {
namespace {

// Go < 1.22 omits `_` parameters from DWARF: for f(_ int, s string, n int) it
// lists s in RBX,RCX and n in RDI, while a model of (s, n) alone says RAX,RBX
// and RCX. The entry location lists expose the gap; the plugin then trusts
// DWARF, and leaves what DWARF does not place unavailable, never guessed.
TEST_F(GoRegister, EntryLocationListsThatContradictTheModelRevealHiddenParameters) {
  Variable s = var("s", g.str);
  s.locations.push_back(
      {.low = 0x1000, .high = 0x1004, .location = at({reg(Reg::RBX, 8, 0), reg(Reg::RCX, 8, 8)})});
  Variable n = var("n", g.i64);  // no entry location in this build
  Function fn = go_fn({s, n}, {var("~r0", g.i64, true)});
  auto in = params(fn);
  ASSERT_EQ(in.size(), 2u);
  EXPECT_EQ(to_string(in[0].location), "RBX,RCX");
  EXPECT_EQ(in[0].source, LocationSource::Dwarf);
  EXPECT_FALSE(in[1].location.available());
}

TEST_F(GoRegister, EntryLocationListsThatAgreeKeepTheModel) {
  Variable s = var("s", g.str);
  s.locations.push_back(
      {.low = 0x1000, .high = 0x1004, .location = at({reg(Reg::RAX, 8, 0), reg(Reg::RBX, 8, 8)})});
  Function fn = go_fn({s, var("n", g.i64)}, {var("~r0", g.i64, true)});
  auto in = params(fn);
  ASSERT_EQ(in.size(), 2u);
  EXPECT_EQ(in[0].source, LocationSource::Abi);
  EXPECT_EQ(to_string(in[1].location), "RCX");
  EXPECT_EQ(in[1].source, LocationSource::Abi);
}

}  // namespace
}  // namespace dynprobe

namespace dynprobe {
namespace {

// Go 1.19 describes some 24-byte slices as four 8-byte register pieces
// (RAX,RAX,RBX,RCX). Such DWARF is no evidence: the model stays.
TEST_F(GoRegister, MalformedEntryLocationsDoNotOverrideTheModel) {
  TypeId slice = g.t.add({.kind = TypeKind::Slice, .name = "[]string", .size = 24, .elem = g.str});
  Variable ss = var("ss", slice);
  ss.locations.push_back({.low = 0x1000,
                          .high = 0x1004,
                          .location = at({reg(Reg::RAX, 8, 0), reg(Reg::RAX, 8, 8),
                                          reg(Reg::RBX, 8, 16), reg(Reg::RCX, 8, 24)})});
  Function fn = go_fn({ss, var("sep", g.str)}, {});
  auto in = params(fn);
  ASSERT_EQ(in.size(), 2u);
  EXPECT_EQ(to_string(in[0].location), "RAX,RBX,RCX");
  EXPECT_EQ(in[0].source, LocationSource::Abi);
  EXPECT_EQ(to_string(in[1].location), "RDI,RSI");
}

}  // namespace
}  // namespace dynprobe

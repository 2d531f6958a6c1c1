// Shared by the ABI plugin unit tests: a table of Go types, function and
// location builders, and a readable printer for gtest failures.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "abi/abi.h"

namespace dynprobe {

// Readable failures: gtest would otherwise print a Location as raw bytes.
inline void PrintTo(const Location& loc, std::ostream* os) {
  *os << to_string(loc) << " [";
  for (const Piece& p : loc.pieces) *os << " " << p.size << "@" << p.value_offset;
  *os << " ]";
}

namespace abi_test {

struct GoTypes {
  TypeTable t;
  TypeId b = t.add({.kind = TypeKind::Bool, .name = "bool", .size = 1});
  TypeId i8 = t.add({.kind = TypeKind::Int, .name = "int8", .size = 1});
  TypeId u8 = t.add({.kind = TypeKind::Uint, .name = "uint8", .size = 1});
  TypeId i16 = t.add({.kind = TypeKind::Int, .name = "int16", .size = 2});
  TypeId i32 = t.add({.kind = TypeKind::Int, .name = "int32", .size = 4});
  TypeId i64 = t.add({.kind = TypeKind::Int, .name = "int64", .size = 8});
  TypeId uptr = t.add({.kind = TypeKind::Uint, .name = "uintptr", .size = 8});
  TypeId f32 = t.add({.kind = TypeKind::Float, .name = "float32", .size = 4});
  TypeId f64 = t.add({.kind = TypeKind::Float, .name = "float64", .size = 8});
  TypeId c64 = t.add({.kind = TypeKind::Complex, .name = "complex64", .size = 8});
  TypeId c128 = t.add({.kind = TypeKind::Complex, .name = "complex128", .size = 16});
  TypeId str = t.add({.kind = TypeKind::String, .name = "string", .size = 16});
  TypeId slice = t.add({.kind = TypeKind::Slice, .name = "[]int", .size = 24, .elem = i64});
  TypeId error = t.add({.kind = TypeKind::Interface, .name = "error", .size = 16});
  TypeId map = t.add({.kind = TypeKind::Map, .name = "map[int]int", .size = 8});
  TypeId chan = t.add({.kind = TypeKind::Chan, .name = "chan int", .size = 8});
  TypeId func = t.add({.kind = TypeKind::Func, .name = "func()", .size = 8});
  TypeId ptr = t.add({.kind = TypeKind::Pointer, .name = "*int", .size = 8, .elem = i64});
  TypeId empty = t.add({.kind = TypeKind::Struct, .name = "struct {}", .size = 0});

  TypeId array(TypeId elem, uint64_t n) {
    return t.add({.kind = TypeKind::Array,
                  .name = "[" + std::to_string(n) + "]" + t.get(elem).name,
                  .size = n * t.get(elem).size,
                  .elem = elem,
                  .count = n});
  }
  // Offsets and sizes are written out by each test, as Go lays them out.
  TypeId strct(std::string name, uint64_t size, std::vector<Field> fields) {
    return t.add({.kind = TypeKind::Struct,
                  .name = std::move(name),
                  .size = size,
                  .fields = std::move(fields)});
  }
};

inline Variable var(std::string name, TypeId type, bool result = false) {
  return Variable{.name = std::move(name), .type = type, .is_result = result};
}

// A Go function at 0x1000 whose CU names `producer`.
inline Function go_fn(std::vector<Variable> params, std::vector<Variable> results,
                      std::string producer) {
  Function fn{.name = "main.f", .low_pc = 0x1000, .high_pc = 0x1100, .language = Language::Go};
  fn.producer = std::move(producer);
  fn.params = std::move(params);
  fn.results = std::move(results);
  return fn;
}

inline Piece reg(Reg r, uint32_t size, uint32_t value_offset = 0) {
  return Piece::in_register(r, size, value_offset);
}
inline Location at(std::vector<Piece> pieces) { return Location{std::move(pieces)}; }
inline Location sp(int64_t offset, uint32_t size) { return at({Piece::at_stack(offset, size)}); }

// A test fixture over one plugin: `make()` builds it, params()/results() ask
// it about a function and record a failure when it answers with an error.
template <std::unique_ptr<AbiPlugin> (*make)()>
class AbiFixture : public ::testing::Test {
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

  GoTypes g;
  std::unique_ptr<AbiPlugin> abi = make();
};

}  // namespace abi_test
}  // namespace dynprobe

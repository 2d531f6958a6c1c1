#include "core/signature.h"

#include <gtest/gtest.h>

namespace dynprobe {
namespace {

struct Fixture {
  TypeTable types;
  TypeId money = types.add(Type{.kind = TypeKind::Struct, .name = "main.Money", .size = 32});
  TypeId error = types.add(Type{.kind = TypeKind::Interface, .name = "error", .size = 16});
  TypeId i64 = types.add(Type{.kind = TypeKind::Int, .name = "int64", .size = 8});
  TypeId f64 = types.add(Type{.kind = TypeKind::Float, .name = "double", .size = 8});
};

TEST(Signature, GoUnnamedResultsAreOmittedAndParenthesized) {
  Fixture f;
  Function fn{.name = "main.Sum", .language = Language::Go};
  fn.params = {{.name = "l", .type = f.money}, {.name = "r", .type = f.money}};
  fn.results = {{.name = "~r2", .type = f.money, .is_result = true},
                {.name = "~r3", .type = f.error, .is_result = true}};
  EXPECT_EQ(signature(fn, f.types), "func(l main.Money, r main.Money) (main.Money, error)");
}

TEST(Signature, GoSingleUnnamedResultHasNoParentheses) {
  Fixture f;
  Function fn{.name = "main.f", .language = Language::Go};
  fn.params = {{.name = "n", .type = f.i64}};
  fn.results = {{.name = "~r1", .type = f.i64, .is_result = true}};
  EXPECT_EQ(signature(fn, f.types), "func(n int64) int64");
}

TEST(Signature, GoNamedResultsKeepTheirNames) {
  Fixture f;
  Function fn{.name = "main.g", .language = Language::Go};
  fn.results = {{.name = "n", .type = f.i64, .is_result = true},
                {.name = "err", .type = f.error, .is_result = true}};
  EXPECT_EQ(signature(fn, f.types), "func() (n int64, err error)");
}

TEST(Signature, CStyle) {
  Fixture f;
  Function fn{.name = "scale", .language = Language::CPlusPlus, .return_type = f.f64};
  fn.params = {{.name = "x", .type = f.f64}, {.name = "", .type = f.i64}};
  EXPECT_EQ(signature(fn, f.types), "double (double x, int64)");
  EXPECT_EQ(result_key(1), "$1");
}

}  // namespace
}  // namespace dynprobe

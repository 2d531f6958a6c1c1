#include <gtest/gtest.h>

#include "core/function.h"
#include "core/location.h"

namespace dynprobe {
namespace {

TEST(Location, RendersRegistersStackAndCfa) {
  Location l{{Piece::in_register(Reg::RAX, 8, 0), Piece::in_register(Reg::RBX, 8, 8)}};
  EXPECT_EQ(to_string(l), "RAX,RBX");
  EXPECT_EQ(to_string(Location{{Piece::at_stack(40, 32)}}), "40(SP)");
  EXPECT_EQ(to_string(Location{{Piece::at_cfa(0, 8)}}), "CFA+0");
  EXPECT_EQ(to_string(Location{{Piece::in_register(xmm(3), 8)}}), "X3");
}

TEST(Location, AvailabilityOfPartlyOptimizedValues) {
  Location partly{{Piece::in_register(Reg::RCX, 8, 0), Piece::unavailable(8, 8)}};
  EXPECT_TRUE(partly.available());
  EXPECT_FALSE(partly.fully_available());
  EXPECT_EQ(to_string(partly), "RCX,<optimized out>");
  Location gone{{Piece::unavailable(8)}};
  EXPECT_FALSE(gone.available());
  EXPECT_EQ(to_string(gone), "<optimized out>");
  EXPECT_EQ(to_string(Location{}), "<unknown>");
}

TEST(Location, NormalizingMergesContiguousMemoryOnly) {
  Location dwarf{{Piece::at_cfa(0, 16, 0), Piece::at_cfa(16, 8, 16), Piece::at_cfa(24, 4, 24)}};
  EXPECT_EQ(to_string(normalized(dwarf)), "CFA+0");
  EXPECT_EQ(normalized(dwarf).pieces[0].size, 28u);
  Location gap{{Piece::at_cfa(0, 8, 0), Piece::at_cfa(16, 8, 8)}};
  EXPECT_EQ(to_string(normalized(gap)), "CFA+0,CFA+16");
  Location regs{{Piece::in_register(Reg::RAX, 8, 0), Piece::in_register(Reg::RBX, 8, 8)}};
  EXPECT_EQ(normalized(regs), regs);
}

TEST(Location, VariableLocationListLookupIsHalfOpen) {
  Variable v;
  v.locations = {{.low = 0x100, .high = 0x110, .location = {{Piece::in_register(Reg::RAX, 8)}}},
                 {.low = 0x110, .high = 0x120, .location = {{Piece::at_stack(8, 8)}}}};
  EXPECT_EQ(to_string(v.location_at(0x100)), "RAX");
  EXPECT_EQ(to_string(v.location_at(0x110)), "8(SP)");
  EXPECT_TRUE(v.location_at(0x120).empty());
}

TEST(Types, AlignmentFollowsGoAndSysV) {
  TypeTable t;
  TypeId i8 = t.add({.kind = TypeKind::Int, .name = "int8", .size = 1});
  TypeId i32 = t.add({.kind = TypeKind::Int, .name = "int32", .size = 4});
  TypeId c64 = t.add({.kind = TypeKind::Complex, .name = "complex64", .size = 8});
  TypeId s = t.add(
      {.kind = TypeKind::Struct, .name = "S", .size = 8, .fields = {{"a", i8, 0}, {"b", i32, 4}}});
  TypeId arr =
      t.add({.kind = TypeKind::Array, .name = "[3]int8", .size = 3, .elem = i8, .count = 3});
  EXPECT_EQ(t.align(i8), 1u);
  EXPECT_EQ(t.align(c64), 4u);
  EXPECT_EQ(t.align(s), 4u);
  EXPECT_EQ(t.align(arr), 1u);
}

}  // namespace
}  // namespace dynprobe

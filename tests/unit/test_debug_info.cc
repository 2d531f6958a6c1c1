// DebugInfo read from this test binary's own DWARF (it is built with -g).
// The fixtures below fix the facts: names, signatures, struct layout (checked
// against offsetof/sizeof) and the System V argument registers.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/debug_info.h"
#include "core/elf_file.h"

namespace dbgtest {

struct Pt {
  int x;
  double y;
};

struct Node {
  int value;
  Node* next;  // a cycle through a pointer
};

struct Pair {
  long a;
  long b;
};

struct Base {
  long id;
};

struct Derived : Base {
  char tag[3];
  Pt where;
};

__attribute__((always_inline)) inline int dbg_tripled(int v) { return v * 3 + 1; }

constexpr int kFixtureLine = __LINE__ + 1;
__attribute__((noinline)) double dbg_fixture(int a, Pt p, const char* s) {
  double r = p.y * a + p.x;
  for (const char* c = s; *c; ++c) r += dbg_tripled(*c);
  return r;
}

__attribute__((noinline)) long dbg_pair(Pair q, int k) { return q.a * k + q.b; }

__attribute__((noinline)) long dbg_walk(const Node* n, const Derived& d) {
  long sum = d.id + d.tag[0] + d.where.x;
  for (; n; n = n->next) sum += dbg_tripled(n->value);
  return sum;
}

}  // namespace dbgtest

namespace dynprobe {
namespace {

// Keep the fixtures alive and called, so the optimizer keeps their code.
double call_fixtures() {
  dbgtest::Node b{2, nullptr}, a{1, &b};
  dbgtest::Derived d{};
  d.id = 7;
  volatile double r = dbgtest::dbg_fixture(3, {1, 2.5}, "xy") + dbgtest::dbg_walk(&a, d) +
                      dbgtest::dbg_pair({4, 5}, 6);
  return r;
}

// Link-time address of a function of this (position-independent) executable.
uint64_t link_address(const ElfFile& elf, const void* fn) {
  Dl_info info{};
  if (dladdr(fn, &info) == 0) return 0;
  uint64_t runtime = reinterpret_cast<uint64_t>(fn);
  if (!elf.is_pie()) return runtime;
  uint64_t first_vaddr = UINT64_MAX;
  for (const Segment& s : elf.load_segments()) first_vaddr = std::min(first_vaddr, s.vaddr);
  uint64_t bias = reinterpret_cast<uint64_t>(info.dli_fbase) - (first_vaddr & ~uint64_t{0xfff});
  return runtime - bias;
}

class DebugInfoSelf : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    call_fixtures();
    auto elf = ElfFile::open("/proc/self/exe");
    ASSERT_TRUE(elf) << elf.error().message;
    elf_ = new ElfFile(std::move(*elf));
    auto di = DebugInfo::load(*elf_);
    ASSERT_TRUE(di) << di.error().message;
    di_ = new DebugInfo(std::move(*di));
  }
  static void TearDownTestSuite() {
    delete di_;
    delete elf_;
    di_ = nullptr;
    elf_ = nullptr;
  }

  static const Type& type(TypeId id) { return di_->types().get(id); }

  static ElfFile* elf_;
  static DebugInfo* di_;
};

ElfFile* DebugInfoSelf::elf_ = nullptr;
DebugInfo* DebugInfoSelf::di_ = nullptr;

TEST_F(DebugInfoSelf, FunctionAtEntryAndInside) {
  ASSERT_NE(di_, nullptr);
  uint64_t addr = link_address(*elf_, reinterpret_cast<const void*>(&dbgtest::dbg_fixture));
  ASSERT_NE(addr, 0u);
  auto fn = di_->function_at(addr);
  ASSERT_TRUE(fn) << fn.error().message;
  EXPECT_EQ(fn->name, "dbgtest::dbg_fixture");
  EXPECT_EQ(fn->low_pc, addr);
  EXPECT_GT(fn->high_pc, fn->low_pc);
  EXPECT_EQ(fn->language, Language::CPlusPlus);
  EXPECT_TRUE(fn->linkage_name.starts_with("_ZN7dbgtest11dbg_fixture")) << fn->linkage_name;
  EXPECT_TRUE(fn->decl_file.ends_with("test_debug_info.cc")) << fn->decl_file;
  EXPECT_EQ(fn->decl_line, static_cast<uint32_t>(dbgtest::kFixtureLine));
  EXPECT_TRUE(fn->cu_name.ends_with("test_debug_info.cc")) << fn->cu_name;
  EXPECT_NE(fn->producer.find("GNU C++"), std::string::npos) << fn->producer;

  // Any PC inside the function finds the same function.
  auto inside = di_->function_at(fn->low_pc + (fn->high_pc - fn->low_pc) / 2);
  ASSERT_TRUE(inside) << inside.error().message;
  EXPECT_EQ(inside->name, fn->name);
  EXPECT_EQ(inside->low_pc, fn->low_pc);
}

TEST_F(DebugInfoSelf, ParamsTypesAndStructLayout) {
  ASSERT_NE(di_, nullptr);
  uint64_t addr = link_address(*elf_, reinterpret_cast<const void*>(&dbgtest::dbg_fixture));
  auto fn = di_->function_at(addr);
  ASSERT_TRUE(fn) << fn.error().message;
  ASSERT_EQ(fn->params.size(), 3u);
  EXPECT_TRUE(fn->results.empty());
  EXPECT_EQ(fn->params[0].name, "a");
  EXPECT_EQ(fn->params[1].name, "p");
  EXPECT_EQ(fn->params[2].name, "s");

  const Type& a = type(fn->params[0].type);
  EXPECT_EQ(a.kind, TypeKind::Int);
  EXPECT_EQ(a.size, sizeof(int));
  EXPECT_EQ(a.name, "int");

  const Type& p = type(fn->params[1].type);
  EXPECT_EQ(p.kind, TypeKind::Struct);
  EXPECT_EQ(p.name, "dbgtest::Pt");
  EXPECT_EQ(p.size, sizeof(dbgtest::Pt));
  ASSERT_EQ(p.fields.size(), 2u);
  EXPECT_EQ(p.fields[0].name, "x");
  EXPECT_EQ(p.fields[0].offset, offsetof(dbgtest::Pt, x));
  EXPECT_EQ(type(p.fields[0].type).kind, TypeKind::Int);
  EXPECT_EQ(p.fields[1].name, "y");
  EXPECT_EQ(p.fields[1].offset, offsetof(dbgtest::Pt, y));
  EXPECT_EQ(type(p.fields[1].type).kind, TypeKind::Float);
  EXPECT_EQ(type(p.fields[1].type).size, sizeof(double));

  const Type& s = type(fn->params[2].type);
  EXPECT_EQ(s.kind, TypeKind::Pointer);
  EXPECT_EQ(s.size, sizeof(const char*));
  EXPECT_EQ(type(s.elem).size, 1u);  // const is looked through: char

  const Type& ret = type(fn->return_type);
  EXPECT_EQ(ret.kind, TypeKind::Float);
  EXPECT_EQ(ret.size, sizeof(double));
}

TEST_F(DebugInfoSelf, EntryLocationsFollowSysV) {
  ASSERT_NE(di_, nullptr);
  uint64_t addr = link_address(*elf_, reinterpret_cast<const void*>(&dbgtest::dbg_fixture));
  auto fn = di_->function_at(addr);
  ASSERT_TRUE(fn) << fn.error().message;
  ASSERT_EQ(fn->params.size(), 3u);
  // int a -> EDI, const char* s -> RDX (Pt p takes RSI and XMM0 in between;
  // GCC gives it no location at -O2, so it is not checked here).
  Location a = fn->params[0].location_at(fn->low_pc);
  ASSERT_EQ(a.pieces.size(), 1u) << to_string(a);
  EXPECT_EQ(a.pieces[0], Piece::in_register(Reg::RDI, sizeof(int)));
  Location s = fn->params[2].location_at(fn->low_pc);
  ASSERT_EQ(s.pieces.size(), 1u) << to_string(s);
  EXPECT_EQ(s.pieces[0], Piece::in_register(Reg::RDX, sizeof(char*)));
}

TEST_F(DebugInfoSelf, StructSplitOverTwoRegisters) {
  ASSERT_NE(di_, nullptr);
  uint64_t addr = link_address(*elf_, reinterpret_cast<const void*>(&dbgtest::dbg_pair));
  auto fn = di_->function_at(addr);
  ASSERT_TRUE(fn) << fn.error().message;
  ASSERT_EQ(fn->params.size(), 2u);
  EXPECT_EQ(type(fn->params[0].type).size, sizeof(dbgtest::Pair));
  // Pair{long; long} is two INTEGER eightbytes: RDI then RSI; k follows in EDX.
  Location q = fn->params[0].location_at(fn->low_pc);
  ASSERT_EQ(q.pieces.size(), 2u) << to_string(q);
  EXPECT_EQ(q.pieces[0], Piece::in_register(Reg::RDI, 8, offsetof(dbgtest::Pair, a)));
  EXPECT_EQ(q.pieces[1], Piece::in_register(Reg::RSI, 8, offsetof(dbgtest::Pair, b)));
  Location k = fn->params[1].location_at(fn->low_pc);
  ASSERT_EQ(k.pieces.size(), 1u) << to_string(k);
  EXPECT_EQ(k.pieces[0].reg, Reg::RDX);
}

TEST_F(DebugInfoSelf, RecursiveTypesReferencesAndInheritance) {
  ASSERT_NE(di_, nullptr);
  uint64_t addr = link_address(*elf_, reinterpret_cast<const void*>(&dbgtest::dbg_walk));
  auto fn = di_->function_at(addr);
  ASSERT_TRUE(fn) << fn.error().message;
  ASSERT_EQ(fn->params.size(), 2u);

  const Type& n = type(fn->params[0].type);
  ASSERT_EQ(n.kind, TypeKind::Pointer);
  const Type& node = type(n.elem);
  EXPECT_EQ(node.kind, TypeKind::Struct);
  EXPECT_EQ(node.size, sizeof(dbgtest::Node));
  ASSERT_EQ(node.fields.size(), 2u);
  EXPECT_EQ(node.fields[1].offset, offsetof(dbgtest::Node, next));
  const Type& next = type(node.fields[1].type);
  EXPECT_EQ(next.kind, TypeKind::Pointer);
  EXPECT_EQ(next.elem, n.elem);  // the cycle closes on the same entry

  const Type& d = type(fn->params[1].type);
  ASSERT_EQ(d.kind, TypeKind::Pointer);  // a reference is a pointer to read through
  const Type& derived = type(d.elem);
  EXPECT_EQ(derived.name, "dbgtest::Derived");
  EXPECT_EQ(derived.size, sizeof(dbgtest::Derived));
  ASSERT_EQ(derived.fields.size(), 3u);
  EXPECT_TRUE(derived.fields[0].embedded);
  EXPECT_EQ(derived.fields[0].name, "dbgtest::Base");
  EXPECT_EQ(derived.fields[0].offset, 0u);
  EXPECT_EQ(derived.fields[1].name, "tag");
  EXPECT_EQ(derived.fields[1].offset, offsetof(dbgtest::Derived, tag));
  const Type& tag = type(derived.fields[1].type);
  EXPECT_EQ(tag.kind, TypeKind::Array);
  EXPECT_EQ(tag.count, 3u);
  EXPECT_EQ(tag.size, 3u);
  EXPECT_EQ(derived.fields[2].offset, offsetof(dbgtest::Derived, where));
  EXPECT_EQ(type(derived.fields[2].type).name, "dbgtest::Pt");
}

TEST_F(DebugInfoSelf, FunctionsIndexAndLookupByName) {
  ASSERT_NE(di_, nullptr);
  const auto& all = di_->functions();
  auto find = [&](std::string_view name) {
    return std::find_if(all.begin(), all.end(),
                        [&](const FunctionEntry& e) { return e.name == name; });
  };
  auto fixture = find("dbgtest::dbg_fixture");
  ASSERT_NE(fixture, all.end());
  EXPECT_FALSE(fixture->inlined_only);
  uint64_t addr = link_address(*elf_, reinterpret_cast<const void*>(&dbgtest::dbg_fixture));
  EXPECT_EQ(fixture->low_pc, addr);

  auto by_name = di_->function_named("dbgtest::dbg_fixture");
  ASSERT_TRUE(by_name) << by_name.error().message;
  EXPECT_EQ(by_name->low_pc, addr);

  auto missing = di_->function_named("dbgtest::no_such_function");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("no_such_function"), std::string::npos);
}

TEST_F(DebugInfoSelf, InlinedOnlyFunctionHasInstancesInItsCallers) {
  ASSERT_NE(di_, nullptr);
  const auto& all = di_->functions();
  auto it = std::find_if(all.begin(), all.end(),
                         [](const FunctionEntry& e) { return e.name == "dbgtest::dbg_tripled"; });
  ASSERT_NE(it, all.end());
  EXPECT_TRUE(it->inlined_only);

  auto fn = di_->function_named("dbgtest::dbg_tripled", {.inline_instances = true});
  ASSERT_TRUE(fn) << fn.error().message;
  EXPECT_EQ(fn->low_pc, 0u);
  ASSERT_EQ(fn->params.size(), 1u);
  EXPECT_EQ(fn->params[0].name, "v");
  EXPECT_EQ(type(fn->params[0].type).kind, TypeKind::Int);

  std::vector<std::string> callers;
  for (const InlineInstance& inst : fn->inline_instances) {
    callers.push_back(inst.caller);
    EXPECT_FALSE(inst.ranges.empty());
    EXPECT_GE(inst.entry_pc, inst.ranges.front().low);
    EXPECT_LT(inst.entry_pc, inst.ranges.front().high);
    EXPECT_TRUE(inst.call_file.ends_with("test_debug_info.cc")) << inst.call_file;
    EXPECT_GT(inst.call_line, 0u);
    ASSERT_EQ(inst.params.size(), 1u);
    EXPECT_EQ(inst.params[0].name, "v");
  }
  EXPECT_NE(std::find(callers.begin(), callers.end(), "dbgtest::dbg_fixture"), callers.end());
  EXPECT_NE(std::find(callers.begin(), callers.end(), "dbgtest::dbg_walk"), callers.end());

  // Without the option the scan is skipped.
  auto plain = di_->function_named("dbgtest::dbg_tripled", {.inline_instances = false});
  ASSERT_TRUE(plain);
  EXPECT_TRUE(plain->inline_instances.empty());
}

TEST_F(DebugInfoSelf, TypeNamed) {
  ASSERT_NE(di_, nullptr);
  auto pt = di_->type_named("dbgtest::Pt");
  ASSERT_TRUE(pt) << pt.error().message;
  EXPECT_EQ(type(*pt).kind, TypeKind::Struct);
  EXPECT_EQ(type(*pt).size, sizeof(dbgtest::Pt));
  EXPECT_FALSE(di_->type_named("dbgtest::NoSuchType"));
}

TEST(DebugInfoErrors, BinaryWithoutDwarf) {
  // A copy of this binary whose .debug_* sections are renamed away.
  auto self = ElfFile::open("/proc/self/exe");
  ASSERT_TRUE(self) << self.error().message;
  const Section* names = self->section(".shstrtab");
  ASSERT_NE(names, nullptr);
  std::ifstream in("/proc/self/exe", std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GE(bytes.size(), names->offset + names->size);
  std::string_view table(bytes.data() + names->offset, names->size);
  size_t renamed = 0;
  for (size_t at = table.find(".debug_"); at != std::string_view::npos;
       at = table.find(".debug_", at + 1)) {
    std::copy_n(".nodbg_", 7, bytes.begin() + static_cast<long>(names->offset + at));
    ++renamed;
  }
  ASSERT_GT(renamed, 0u);
  auto path =
      std::filesystem::temp_directory_path() / ("dynprobe-nodwarf-" + std::to_string(::getpid()));
  {
    std::ofstream out(path, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  auto elf = ElfFile::open(path.string());
  ASSERT_TRUE(elf) << elf.error().message;
  auto di = DebugInfo::load(*elf);
  std::filesystem::remove(path);
  ASSERT_FALSE(di);
  EXPECT_EQ(di.error().message,
            path.string() +
                ": no DWARF debug info (stripped?); rebuild without -ldflags=-w/-s or pass "
                "--debug-file");
}

}  // namespace
}  // namespace dynprobe

// rustc's "Rust" calling convention on x86-64. It is not a stable ABI: it is
// what rustc_target's `adjust_for_rust_abi` makes of each value's layout
// before LLVM applies the C convention to the scalars that result:
//
// - a value whose layout is one scalar (integers, bool, char, pointers,
//   references, Box<T>, Option<&T>, a newtype around one of them) is one
//   LLVM argument: the next integer register, or the next XMM register for
//   f32/f64;
// - a scalar pair (&str, &[T], &dyn T, Option<u32>, Result<u64, u64>, a
//   struct of two scalars) is two LLVM arguments, each placed as above;
// - any other sized value ("memory" layout) of at most 8 bytes is cast to an
//   integer of its size (one integer register); a larger one is passed by
//   reference: the caller passes the address of a copy;
// - zero-sized values take nothing.
//
// Results: a scalar in RAX or XMM0, a pair in RAX/RDX and XMM0/XMM1 by class,
// a memory value of at most 8 bytes in RAX, anything larger through a hidden
// pointer the caller passes first (in RDI) and the callee returns in RAX.
// Checked against rustc 1.95 at opt-level 0 and 3 (docs/abi-plugins.md).
#include <algorithm>
#include <array>
#include <limits>
#include <memory>
#include <optional>

#include "abi/abi.h"
#include "abi/entry_dwarf.h"

namespace dynprobe {

namespace {

constexpr std::array<Reg, 6> kIntArgRegs = {Reg::RDI, Reg::RSI, Reg::RDX,
                                            Reg::RCX, Reg::R8,  Reg::R9};
constexpr unsigned kSseArgRegs = 8;  // XMM0-XMM7
constexpr std::array<Reg, 2> kIntResultRegs = {Reg::RAX, Reg::RDX};
constexpr int64_t kFirstStackArg = 8;
constexpr uint64_t kWord = 8;
constexpr int kMaxTypeDepth = 32;

constexpr uint64_t align_up(uint64_t x, uint64_t a) { return a <= 1 ? x : (x + a - 1) / a * a; }

// One scalar of a value's layout: where it is in the value and whether it
// travels in an XMM register.
struct Prim {
  uint64_t offset = 0;
  uint64_t size = 0;
  bool sse = false;
  bool operator==(const Prim&) const = default;
};

// rustc's BackendRepr, as far as the calling convention looks at it.
struct Shape {
  enum class Kind : uint8_t { Zst, Scalar, Pair, Memory, Unknown };
  Kind kind = Kind::Unknown;
  std::array<Prim, 2> prims{};
  // i128/u128: one LLVM scalar in two integer registers, placed but not
  // decodable (the decoder has no 128-bit integers).
  bool wide = false;

  static Shape of(Kind k) { return Shape{.kind = k}; }
  static Shape scalar(Prim p) { return Shape{.kind = Kind::Scalar, .prims = {p, Prim{}}}; }
};

class ShapeOf {
 public:
  explicit ShapeOf(const TypeTable& types) : types_(types) {}

  Shape operator()(TypeId id, int depth = 0) const {
    if (id >= types_.size() || depth > kMaxTypeDepth) return Shape::of(Shape::Kind::Unknown);
    const Type& t = types_.get(id);
    if (t.size == 0) return Shape::of(Shape::Kind::Zst);
    switch (t.kind) {
      case TypeKind::Bool:
      case TypeKind::Int:
      case TypeKind::Uint:
      case TypeKind::Enum:
        if (t.size == 16) {
          Shape s = pair({0, 8, false}, {8, 8, false});
          s.wide = true;
          return s;
        }
        if (t.size > 8 || (t.size & (t.size - 1)) != 0) break;
        return Shape::scalar({0, t.size, false});
      case TypeKind::Pointer:
      case TypeKind::Func:
        if (t.size != kWord) break;
        return Shape::scalar({0, t.size, false});
      case TypeKind::Float:
        if (t.size != 4 && t.size != 8) break;
        return Shape::scalar({0, t.size, true});
      case TypeKind::String:
      case TypeKind::Slice:
        // &str, &[T]: {ptr, len}; String, Vec<T>: three words.
        if (t.size == 2 * kWord) {
          Prim a{t.seq.ptr, kWord, false}, b{t.seq.len, kWord, false};
          return a.offset < b.offset ? pair(a, b) : pair(b, a);
        }
        return Shape::of(Shape::Kind::Memory);
      case TypeKind::Array:
      case TypeKind::Union:
        return Shape::of(Shape::Kind::Memory);
      case TypeKind::Struct:
        return t.variant_part.variants.empty() ? of_struct(t, depth) : of_enum(t, depth);
      default:
        break;
    }
    return Shape::of(Shape::Kind::Unknown);
  }

 private:
  static Shape pair(Prim a, Prim b) { return Shape{.kind = Shape::Kind::Pair, .prims = {a, b}}; }

  // rustc's univariant rule: one non-ZST field of the struct's size lends
  // the struct its repr (newtypes); two scalar fields laid out as a pair
  // make a pair; anything else is memory.
  Shape of_struct(const Type& t, int depth) const {
    std::vector<Prim> prims;
    for (const Field& f : t.fields) {
      if (f.type >= types_.size()) return Shape::of(Shape::Kind::Unknown);
      Shape s = (*this)(f.type, depth + 1);
      switch (s.kind) {
        case Shape::Kind::Zst:
          continue;
        case Shape::Kind::Unknown:
          return s;
        case Shape::Kind::Memory:
          return s;
        case Shape::Kind::Scalar:
        case Shape::Kind::Pair:
          if (s.wide) return Shape::of(Shape::Kind::Memory);
          for (unsigned i = 0; i < (s.kind == Shape::Kind::Pair ? 2u : 1u); ++i)
            prims.push_back({s.prims[i].offset + f.offset, s.prims[i].size, s.prims[i].sse});
          break;
      }
    }
    return from_prims(std::move(prims), t);
  }

  // An enum with data: its discriminant and every variant's scalars. rustc
  // gives it a scalar or pair repr when they all fit one or two scalars
  // (Option<&T>'s niche is its pointer; Option<u32> is (tag, u32)).
  Shape of_enum(const Type& t, int depth) const {
    std::vector<Prim> prims;
    const VariantPart& vp = t.variant_part;
    if (vp.discr_type != kNoType) {
      if (vp.discr_type >= types_.size()) return Shape::of(Shape::Kind::Unknown);
      uint64_t size = types_.get(vp.discr_type).size;
      if (size == 0 || size > kWord) return Shape::of(Shape::Kind::Unknown);
      prims.push_back({vp.discr_offset, size, false});
    }
    for (const Variant& v : vp.variants) {
      if (v.type >= types_.size()) return Shape::of(Shape::Kind::Unknown);
      for (const Field& f : types_.get(v.type).fields) {
        Shape s = (*this)(f.type, depth + 1);
        if (s.kind == Shape::Kind::Zst) continue;
        if (s.kind == Shape::Kind::Unknown || s.kind == Shape::Kind::Memory) return s;
        if (s.wide) return Shape::of(Shape::Kind::Memory);
        for (unsigned i = 0; i < (s.kind == Shape::Kind::Pair ? 2u : 1u); ++i)
          prims.push_back(
              {s.prims[i].offset + f.offset + v.offset, s.prims[i].size, s.prims[i].sse});
      }
    }
    return from_prims(std::move(prims), t);
  }

  static Shape from_prims(std::vector<Prim> prims, const Type& t) {
    std::sort(prims.begin(), prims.end(), [](const Prim& a, const Prim& b) {
      return a.offset != b.offset ? a.offset < b.offset : a.size < b.size;
    });
    prims.erase(std::unique(prims.begin(), prims.end()), prims.end());
    for (size_t i = 1; i < prims.size(); ++i)
      if (prims[i].offset < prims[i - 1].offset + prims[i - 1].size)
        return Shape::of(Shape::Kind::Memory);  // different scalars share bytes
    if (prims.size() == 1 && prims[0].offset == 0 && prims[0].size == t.size)
      return Shape::scalar(prims[0]);
    if (prims.size() == 2) {
      const Prim &a = prims[0], &b = prims[1];
      uint64_t align = std::max(a.size, b.size);
      if (a.offset == 0 && b.offset == align_up(a.size, b.size) &&
          t.size == align_up(b.offset + b.size, align))
        return pair(a, b);
    }
    if (prims.empty()) return Shape::of(Shape::Kind::Unknown);  // sized, yet no data
    return Shape::of(Shape::Kind::Memory);
  }

  const TypeTable& types_;
};

Piece at_address_in(Reg r, uint64_t size) {
  return Piece{.kind = PieceKind::Memory,
               .size = static_cast<uint32_t>(size),
               .reg = r,
               .base = MemBase::Register,
               .offset = 0};
}

Location unavailable(uint64_t size) {
  if (size == 0) return {};
  return Location{{Piece::unavailable(static_cast<uint32_t>(size))}};
}

// Assigns LLVM-level scalar arguments in order, as the C convention does:
// integers to RDI..R9, floats to XMM0-7, the rest to 8-byte stack slots.
class ArgSequence {
 public:
  explicit ArgSequence(bool hidden_result) : next_int_(hidden_result ? 1 : 0) {}

  Piece scalar(const Prim& p) {
    if (p.sse && next_sse_ < kSseArgRegs)
      return Piece::in_register(xmm(next_sse_++), static_cast<uint32_t>(p.size),
                                static_cast<uint32_t>(p.offset));
    if (!p.sse && next_int_ < kIntArgRegs.size())
      return Piece::in_register(kIntArgRegs[next_int_++], static_cast<uint32_t>(p.size),
                                static_cast<uint32_t>(p.offset));
    return Piece::at_stack(stack_slot(kWord), static_cast<uint32_t>(p.size),
                           static_cast<uint32_t>(p.offset));
  }

  std::optional<Reg> int_register() {
    if (next_int_ < kIntArgRegs.size()) return kIntArgRegs[next_int_++];
    stack_slot(kWord);
    return std::nullopt;
  }

  // i128: both halves in registers, else a 16-aligned stack slot.
  void wide() {
    if (next_int_ + 2 <= kIntArgRegs.size())
      next_int_ += 2;
    else
      stack_slot(16);
  }

 private:
  int64_t stack_slot(uint64_t size) {
    uint64_t at = align_up(area_, size > kWord ? 16 : kWord);
    area_ = at + align_up(size, kWord);
    return kFirstStackArg + static_cast<int64_t>(at);
  }

  unsigned next_int_;
  unsigned next_sse_ = 0;
  uint64_t area_ = 0;
};

bool returns_through_memory(const Shape& s, uint64_t size) {
  return s.kind == Shape::Kind::Memory && size > kWord;
}

struct RustLayout {
  std::vector<ValueLocation> params;
  std::vector<ValueLocation> results;
};

class RustSolver {
 public:
  RustSolver(const Function& fn, const TypeTable& types)
      : fn_(fn), types_(types), shape_of_(types) {}

  RustLayout solve() const {
    const bool returns_value = fn_.return_type != kNoType;
    Shape ret = returns_value ? shape_of_(fn_.return_type) : Shape::of(Shape::Kind::Zst);
    uint64_t ret_size = returns_value ? types_.get(fn_.return_type).size : 0;
    const bool hidden = returns_through_memory(ret, ret_size);

    std::vector<std::optional<Location>> model = place_params(hidden);
    // Where DWARF can be trusted at the entry PC and names another place,
    // the compiler did not follow the declared signature (LLVM may rewrite
    // the arguments of a function no other crate calls): trust DWARF alone.
    bool use_model = true;
    for (size_t i = 0; i < fn_.params.size(); ++i) {
      if (!model[i] || !model[i]->fully_available()) continue;
      auto d = trusted_dwarf(fn_.params[i]);
      if (d && entry_spelling(*d) != entry_spelling(*model[i])) use_model = false;
    }

    RustLayout out;
    for (size_t i = 0; i < fn_.params.size(); ++i) {
      const Variable& p = fn_.params[i];
      uint64_t size = types_.get(p.type).size;
      if (use_model && model[i]) {
        out.params.push_back({std::move(*model[i]), LocationSource::Abi});
      } else if (auto d = trusted_dwarf(p)) {
        out.params.push_back({std::move(*d), LocationSource::Dwarf});
      } else {
        out.params.push_back({unavailable(size), LocationSource::Abi});
      }
    }
    if (returns_value)
      out.results.push_back(use_model ? result(ret, ret_size, hidden)
                                      : ValueLocation{unavailable(ret_size), LocationSource::Abi});
    return out;
  }

 private:
  // DWARF at the entry PC from a location list entry that starts there
  // (optimized code tracks the incoming registers this way). A single
  // expression for the whole function is a frame slot that the prologue
  // fills (fbreg at opt-level 0, and for values rustc spills at 3), no
  // evidence at the first instruction.
  std::optional<Location> trusted_dwarf(const Variable& v) const {
    bool listed = std::any_of(v.locations.begin(), v.locations.end(), [&](const LocationRange& r) {
      return !(r.low == 0 && r.high == std::numeric_limits<uint64_t>::max()) &&
             r.low <= fn_.low_pc && fn_.low_pc < r.high;
    });
    if (!listed) return std::nullopt;
    return dwarf_at_entry(v, fn_.low_pc, kIntArgRegs);
  }

  std::vector<std::optional<Location>> place_params(bool hidden) const {
    ArgSequence seq(hidden);
    bool known = true;
    std::vector<std::optional<Location>> out;
    for (const Variable& p : fn_.params) {
      if (!known) {
        out.emplace_back();
        continue;
      }
      uint64_t size = types_.get(p.type).size;
      Shape s = shape_of_(p.type);
      switch (s.kind) {
        case Shape::Kind::Unknown:
          known = false;
          out.emplace_back();
          break;
        case Shape::Kind::Zst:
          out.push_back(Location{});
          break;
        case Shape::Kind::Scalar:
        case Shape::Kind::Pair: {
          if (s.wide) {
            seq.wide();
            out.push_back(unavailable(size));
            break;
          }
          Location loc;
          loc.pieces.push_back(seq.scalar(s.prims[0]));
          if (s.kind == Shape::Kind::Pair) loc.pieces.push_back(seq.scalar(s.prims[1]));
          out.push_back(std::move(loc));
          break;
        }
        case Shape::Kind::Memory:
          if (size <= kWord) {
            // Cast to an integer of its size.
            out.push_back(Location{{seq.scalar(Prim{0, size, false})}});
          } else if (auto r = seq.int_register()) {
            out.push_back(Location{{at_address_in(*r, size)}});
          } else {
            out.push_back(unavailable(size));  // its address is on the stack: not followed
          }
          break;
      }
    }
    return out;
  }

  ValueLocation result(const Shape& s, uint64_t size, bool hidden) const {
    if (hidden) return {Location{{at_address_in(Reg::RAX, size)}}, LocationSource::Abi};
    switch (s.kind) {
      case Shape::Kind::Zst:
        return {Location{}, LocationSource::Abi};
      case Shape::Kind::Scalar:
      case Shape::Kind::Pair: {
        if (s.wide) return {unavailable(size), LocationSource::Abi};
        Location loc;
        unsigned next_int = 0, next_sse = 0;
        for (unsigned i = 0; i < (s.kind == Shape::Kind::Pair ? 2u : 1u); ++i) {
          const Prim& p = s.prims[i];
          Reg r = p.sse ? xmm(next_sse++) : kIntResultRegs[next_int++];
          loc.pieces.push_back(Piece::in_register(r, static_cast<uint32_t>(p.size),
                                                  static_cast<uint32_t>(p.offset)));
        }
        return {std::move(loc), LocationSource::Abi};
      }
      case Shape::Kind::Memory:
        return {Location{{Piece::in_register(Reg::RAX, static_cast<uint32_t>(size))}},
                LocationSource::Abi};
      case Shape::Kind::Unknown:
        break;
    }
    return {unavailable(size), LocationSource::Abi};
  }

  const Function& fn_;
  const TypeTable& types_;
  ShapeOf shape_of_;
};

Status check_function(const Function& fn, const TypeTable& types) {
  auto check = [&](TypeId id, const std::string& what) -> Status {
    if (id >= types.size())
      return fail(fn.name + ": " + what + " refers to type #" + std::to_string(id) +
                  " outside the type table");
    if (types.get(id).size > std::numeric_limits<uint32_t>::max())
      return fail(fn.name + ": " + what + " is too large to locate (" +
                  std::to_string(types.get(id).size) + " bytes)");
    return {};
  };
  for (const Variable& v : fn.params)
    if (auto s = check(v.type, v.name.empty() ? "a parameter" : v.name); !s) return s;
  return check(fn.return_type, "the result");
}

class RustAbi final : public AbiPlugin {
 public:
  std::string_view name() const override { return "rust"; }

  int match(const BinaryFacts& binary, const Function& fn) const override {
    Language l = fn.language != Language::Unknown ? fn.language : binary.language;
    return l == Language::Rust ? 10 : 0;
  }

  Result<std::vector<ValueLocation>> params_at_entry(const Function& fn,
                                                     const TypeTable& types) const override {
    if (auto ok = check_function(fn, types); !ok) return std::unexpected(ok.error());
    return RustSolver(fn, types).solve().params;
  }

  Result<std::vector<ValueLocation>> results_at_return(const Function& fn,
                                                       const TypeTable& types) const override {
    if (auto ok = check_function(fn, types); !ok) return std::unexpected(ok.error());
    return RustSolver(fn, types).solve().results;
  }

  ContextSource context_source() const override { return ContextSource::Thread; }
};

}  // namespace

std::unique_ptr<AbiPlugin> make_rust_abi() { return std::make_unique<RustAbi>(); }

}  // namespace dynprobe

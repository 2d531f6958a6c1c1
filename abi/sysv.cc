// The x86-64 System V calling convention for C and C++: "System V Application
// Binary Interface, AMD64 Architecture Processor Supplement" (the psABI),
// section 3.2.3 "Parameter Passing", plus what the Itanium C++ ABI adds:
// `this` is the first parameter, and a class that is non-trivial for the
// purposes of calls is passed by invisible reference and returned through a
// hidden pointer. docs/abi-plugins.md ("sysv") has the rules and examples.
#include <algorithm>
#include <array>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "abi/abi.h"
#include "abi/entry_dwarf.h"

namespace dynprobe {

namespace {

constexpr std::array<Reg, 6> kIntArgRegs = {Reg::RDI, Reg::RSI, Reg::RDX,
                                            Reg::RCX, Reg::R8,  Reg::R9};
constexpr unsigned kSseArgRegs = 8;  // XMM0-XMM7
constexpr std::array<Reg, 2> kIntResultRegs = {Reg::RAX, Reg::RDX};
constexpr unsigned kSseResultRegs = 2;  // XMM0, XMM1
// At a function's first instruction 0(SP) holds the return address; the
// caller's first stack argument is at 8(SP). At RET SP is back there.
constexpr int64_t kFirstStackArg = 8;
constexpr uint64_t kEightbyte = 8;
// Aggregates larger than two eightbytes are MEMORY (there are no vector
// types in the model, for which the limit would be eight).
constexpr uint64_t kMaxRegisterAggregate = 2 * kEightbyte;
constexpr int kMaxTypeDepth = 64;

constexpr uint64_t align_up(uint64_t x, uint64_t a) { return a <= 1 ? x : (x + a - 1) / a * a; }

// psABI classes; X87, X87UP, COMPLEX_X87 and SSEUP only arise from long
// double, __float128 and vector types, which classify() reports as not
// decodable before they get here.
enum class Class : uint8_t { None, Integer, Sse, Memory };

// The merge rule of step 4 of the classification of aggregates.
Class merge(Class a, Class b) {
  if (a == b) return a;
  if (a == Class::None) return b;
  if (b == Class::None) return a;
  if (a == Class::Memory || b == Class::Memory) return Class::Memory;
  if (a == Class::Integer || b == Class::Integer) return Class::Integer;
  return Class::Sse;
}

struct Classification {
  enum class Kind : uint8_t {
    Empty,      // nothing to pass: size 0, or an aggregate of padding only (C++ empty class)
    Registers,  // eightbytes[0..count) each in an INTEGER or SSE register
    Memory,     // on the stack as an argument; through a hidden pointer as a result
    Unknown,    // the type model does not fix the class: later places are lost too
  };
  Kind kind = Kind::Unknown;
  std::array<Class, 2> eightbytes{Class::None, Class::None};
  unsigned count = 0;
  // Placed by the rules, but the decoder cannot show it (long double,
  // __int128): its place is known, its value is reported unavailable.
  bool decodable = true;
  uint64_t stack_align = kEightbyte;  // 16 for long double and __int128
  bool x87 = false;                   // long double: passed in memory, but returned in ST0
  bool by_reference = false;          // Memory by the C++ ABI: an argument's address in a register
};

bool is_aggregate(TypeKind k) {
  return k == TypeKind::Struct || k == TypeKind::Union || k == TypeKind::Array;
}

class Classifier {
 public:
  explicit Classifier(const TypeTable& types) : types_(types) {}

  Classification classify(TypeId id) {
    Classification c;
    if (id >= types_.size()) return c;
    const Type& t = types_.get(id);
    if (t.size == 0) {
      if (t.kind == TypeKind::Void || is_aggregate(t.kind)) c.kind = Classification::Kind::Empty;
      return c;
    }
    // Scalars the decoder cannot show, placed as the psABI says.
    if ((t.kind == TypeKind::Int || t.kind == TypeKind::Uint) && t.size == 16) {
      c.kind = Classification::Kind::Registers;  // __int128: two INTEGER eightbytes
      c.eightbytes = {Class::Integer, Class::Integer};
      c.count = 2;
      c.decodable = false;
      c.stack_align = 16;
      return c;
    }
    if (t.kind == TypeKind::Float && t.size == 16) {
      c.kind = Classification::Kind::Memory;  // long double: X87, passed in memory
      c.decodable = false;
      c.x87 = true;
      c.stack_align = 16;
      return c;
    }
    // A C++ class non-trivial for calls (core/cpp_std_types.h): the caller
    // passes the address of a temporary and, for a result, of the space to
    // build it in, whatever its size (Itanium C++ ABI 3.1.2).
    if (t.pass_by_reference) {
      c.kind = Classification::Kind::Memory;
      c.by_reference = true;
      return c;
    }
    if (t.size > kMaxRegisterAggregate) {
      // Rule 1 of the aggregate classification: larger than two eightbytes
      // is MEMORY whatever it holds (Go's 24-byte slice header, libstdc++'s
      // 32-byte std::string).
      if (is_aggregate(t.kind) || t.kind == TypeKind::Slice || t.kind == TypeKind::String ||
          t.kind == TypeKind::Interface)
        c.kind = Classification::Kind::Memory;
      return c;
    }
    ok_ = true;
    eightbytes_ = {Class::None, Class::None};
    add(id, 0, 0);
    if (!ok_) return c;
    c.count = static_cast<unsigned>((t.size + kEightbyte - 1) / kEightbyte);
    c.eightbytes = eightbytes_;
    // Post-merger cleanup (a): any MEMORY eightbyte makes the whole value MEMORY.
    if (std::any_of(c.eightbytes.begin(), c.eightbytes.begin() + c.count,
                    [](Class k) { return k == Class::Memory; })) {
      c.kind = Classification::Kind::Memory;
      return c;
    }
    bool all_none = std::all_of(c.eightbytes.begin(), c.eightbytes.begin() + c.count,
                                [](Class k) { return k == Class::None; });
    c.kind = all_none ? Classification::Kind::Empty : Classification::Kind::Registers;
    return c;
  }

 private:
  void put(uint64_t offset, uint64_t size, Class k) {
    for (uint64_t eb = offset / kEightbyte; eb <= (offset + size - 1) / kEightbyte; ++eb) {
      if (eb >= eightbytes_.size()) {
        ok_ = false;
        return;
      }
      eightbytes_[eb] = merge(eightbytes_[eb], k);
    }
  }

  // Step 4: each field classified recursively into the eightbyte(s) it occupies.
  void add(TypeId id, uint64_t offset, int depth) {
    if (!ok_) return;
    if (id >= types_.size() || depth > kMaxTypeDepth) {
      ok_ = false;
      return;
    }
    const Type& t = types_.get(id);
    if (t.size == 0) return;
    // An unaligned field makes the value MEMORY (rule 1), but the model
    // cannot tell a packed field from a bit-field it placed at a byte
    // offset, so the class is left unknown rather than guessed. Checking
    // the scalars checks every aggregate: its alignment is theirs.
    const bool scalar = !is_aggregate(t.kind);
    if (scalar && offset % std::clamp<uint64_t>(t.kind == TypeKind::Complex ? t.size / 2 : t.size,
                                                1, kEightbyte) !=
                      0) {
      ok_ = false;
      return;
    }
    switch (t.kind) {
      case TypeKind::Bool:
      case TypeKind::Int:
      case TypeKind::Uint:
      case TypeKind::Enum:
        if (t.size != 1 && t.size != 2 && t.size != 4 && t.size != 8) {
          ok_ = false;  // __int128 inside an aggregate
          return;
        }
        put(offset, t.size, Class::Integer);
        return;
      case TypeKind::Pointer:
      case TypeKind::Map:
      case TypeKind::Chan:
      case TypeKind::Func:
        if (t.size != kEightbyte) {
          ok_ = false;
          return;
        }
        put(offset, t.size, Class::Integer);
        return;
      case TypeKind::Float:
        if (t.size != 4 && t.size != 8) {
          ok_ = false;  // long double inside an aggregate (X87 / X87UP)
          return;
        }
        put(offset, t.size, Class::Sse);
        return;
      case TypeKind::Complex:
        // float _Complex is one SSE eightbyte, double _Complex two.
        if (t.size != 8 && t.size != 16) {
          ok_ = false;
          return;
        }
        put(offset, t.size, Class::Sse);
        return;
      case TypeKind::String:
      case TypeKind::Interface:
        // Two pointer-sized words (gccgo's string and interface headers);
        // a C++ std::string inside an aggregate makes it non-trivial, caught above.
        if (t.size != 2 * kEightbyte) {
          ok_ = false;
          return;
        }
        put(offset, t.size, Class::Integer);
        return;
      case TypeKind::Struct:
      case TypeKind::Union:
        for (const Field& f : t.fields) {
          if (f.type >= types_.size() || f.offset + types_.get(f.type).size > t.size) {
            ok_ = false;
            return;
          }
          add(f.type, offset + f.offset, depth + 1);
        }
        return;
      case TypeKind::Array: {
        if (t.elem == kNoType || t.elem >= types_.size()) {
          ok_ = false;
          return;
        }
        uint64_t esize = types_.get(t.elem).size;
        if (esize == 0 || esize * t.count != t.size) {
          ok_ = false;
          return;
        }
        for (uint64_t i = 0; i < t.count; ++i) add(t.elem, offset + i * esize, depth + 1);
        return;
      }
      case TypeKind::Slice:
      case TypeKind::Void:
      case TypeKind::Unknown:
        break;
    }
    ok_ = false;
  }

  const TypeTable& types_;
  std::array<Class, 2> eightbytes_{};
  bool ok_ = true;
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

// The eightbytes of a value classified Registers, in the next registers of
// each class; nullopt when they do not all fit (the psABI then passes the
// whole value in memory and frees the registers).
std::optional<Location> in_registers(const Classification& c, uint64_t size,
                                     std::span<const Reg> ints, unsigned& next_int,
                                     unsigned sse_regs, unsigned& next_sse) {
  unsigned need_int = 0, need_sse = 0;
  for (unsigned i = 0; i < c.count; ++i) {
    need_int += c.eightbytes[i] == Class::Integer;
    need_sse += c.eightbytes[i] == Class::Sse;
  }
  if (next_int + need_int > ints.size() || next_sse + need_sse > sse_regs) return std::nullopt;
  Location loc;
  for (unsigned i = 0; i < c.count; ++i) {
    uint64_t off = i * kEightbyte;
    auto bytes = static_cast<uint32_t>(std::min(kEightbyte, size - off));
    if (c.eightbytes[i] == Class::Integer)
      loc.pieces.push_back(Piece::in_register(ints[next_int++], bytes, static_cast<uint32_t>(off)));
    else if (c.eightbytes[i] == Class::Sse)
      loc.pieces.push_back(Piece::in_register(xmm(next_sse++), bytes, static_cast<uint32_t>(off)));
  }
  return loc;
}

// A class-typed parameter that the caller passed by invisible reference (the
// Itanium C++ ABI's rule for classes with a non-trivial copy constructor,
// move constructor or destructor). The type model records it
// (Type::pass_by_reference, from DW_AT_calling_convention or the class's
// special members); a class it missed still gives itself away in DWARF: the
// value lives in memory addressed by an argument register (clang at every
// level, GCC when optimizing), or, with GCC -O0, one expression for the whole
// function that dereferences a frame slot (a pointer the prologue spilled),
// which the model reads as unavailable.
bool passed_by_reference(const Variable& v, const TypeTable& types, uint64_t entry_pc,
                         Language lang) {
  const Type& t = types.get(v.type);
  if (t.pass_by_reference) return true;  // DW_AT_calling_convention, or the class's members
  if (t.kind != TypeKind::Struct && t.kind != TypeKind::Union) return false;
  Location at = normalized(v.location_at(entry_pc));
  if (at.pieces.size() == 1) {
    const Piece& p = at.pieces.front();
    if (p.kind == PieceKind::Memory && p.base == MemBase::Register && p.offset == 0 &&
        std::find(kIntArgRegs.begin(), kIntArgRegs.end(), p.reg) != kIntArgRegs.end())
      return true;
  }
  // C has no such classes: there an unreadable expression is only that.
  return lang == Language::CPlusPlus && v.has_location && v.locations.size() == 1 &&
         v.locations.front().low == 0 &&
         v.locations.front().high == std::numeric_limits<uint64_t>::max() &&
         !v.locations.front().location.available();
}

// GCC's clones (IPA-SRA `.isra.N`, IPA-CP `.constprop.N`, partial inlining
// `.part.N`) may drop, reorder or replace parameters and drop the result: the
// convention of the source signature does not hold for them.
bool is_compiler_clone(const Function& fn) {
  for (std::string_view s : {".isra.", ".constprop.", ".part.", ".cold"})
    if (fn.name.find(s) != std::string::npos) return true;
  return false;
}

struct SysvLayout {
  std::vector<ValueLocation> params;
  std::vector<ValueLocation> results;
};

// The bytes [offset, offset + size) of a value at `whole`: a slice of a
// memory piece, or a register piece that starts where the part does. A part
// in the upper bytes of a register (an int32 after an int32 in RAX) cannot
// be said in the model's pieces and is unavailable.
Location part_of(const Location& whole, uint64_t offset, uint64_t size) {
  if (size == 0) return {};
  for (const Piece& p : whole.pieces) {
    uint64_t lo = p.value_offset, hi = lo + (p.size ? p.size : size);
    if (offset < lo || offset + size > hi) continue;
    if (p.kind == PieceKind::Memory) {
      Piece q = p;
      q.offset += static_cast<int64_t>(offset - lo);
      q.size = static_cast<uint32_t>(size);
      q.value_offset = 0;
      return Location{{q}};
    }
    if (p.kind == PieceKind::Register && offset == lo)
      return Location{{Piece::in_register(p.reg, static_cast<uint32_t>(size))}};
    break;
  }
  return unavailable(size);
}

class SysvSolver {
 public:
  SysvSolver(const Function& fn, const TypeTable& types) : fn_(fn), types_(types) {}

  SysvLayout solve() {
    const bool returns_value = fn_.return_type != kNoType;
    Classification ret;
    if (returns_value) ret = Classifier(types_).classify(fn_.return_type);
    bool hidden = ret.kind == Classification::Kind::Memory && !ret.x87;

    std::vector<std::optional<Location>> model;
    bool use_model = !is_compiler_clone(fn_);
    if (use_model) {
      model = place_params(hidden);
      if (contradicts_dwarf(model)) {
        // A class returned by value that is non-trivial for calls comes back
        // through a hidden pointer even when it would fit in RAX:RDX; the
        // parameters' DWARF shows the shift by one integer register.
        const Type& rt = types_.get(fn_.return_type);
        bool may_be_hidden =
            returns_value && !hidden && (rt.kind == TypeKind::Struct || rt.kind == TypeKind::Union);
        auto shifted = may_be_hidden ? place_params(true) : model;
        if (may_be_hidden && !contradicts_dwarf(shifted)) {
          model = std::move(shifted);
          hidden = true;
        } else {
          use_model = false;
        }
      }
    }

    SysvLayout out;
    for (size_t i = 0; i < fn_.params.size(); ++i) {
      const Variable& p = fn_.params[i];
      uint64_t size = types_.get(p.type).size;
      if (use_model && model[i]) {
        out.params.push_back({std::move(*model[i]), LocationSource::Abi});
      } else if (auto d = dwarf_at_entry(p, fn_.low_pc, kIntArgRegs)) {
        out.params.push_back({std::move(*d), LocationSource::Dwarf});
      } else {
        out.params.push_back({unavailable(size), LocationSource::Abi});
      }
    }
    if (returns_value) {
      ValueLocation whole = result(ret, hidden, use_model);
      const Type& rt = types_.get(fn_.return_type);
      if (fn_.results.size() > 1 && rt.kind == TypeKind::Struct &&
          rt.fields.size() == fn_.results.size()) {
        // gccgo's several results: the fields of the struct it returns.
        for (const Field& f : rt.fields)
          out.results.push_back(
              {part_of(whole.location, f.offset, types_.get(f.type).size), whole.source});
      } else {
        out.results.push_back(std::move(whole));
      }
    }
    return out;
  }

 private:
  // The model's place of every parameter, in order; nullopt for those it
  // cannot place (an unknown class, or any parameter after one).
  std::vector<std::optional<Location>> place_params(bool hidden_result_pointer) const {
    Classifier classifier(types_);
    unsigned next_int = hidden_result_pointer ? 1 : 0;  // RDI holds the result's address
    unsigned next_sse = 0;
    // Bytes of the argument area used so far. The caller aligns the area to
    // 16 (SP is 16-aligned at the CALL), so 8(SP) is 16-aligned at entry.
    uint64_t area = 0;
    bool known = true;
    std::vector<std::optional<Location>> out;
    auto on_stack = [&](uint64_t size, uint64_t align) {
      uint64_t at = align_up(area, std::max(kEightbyte, align));
      area = at + align_up(size, kEightbyte);
      return Location{{Piece::at_stack(kFirstStackArg + static_cast<int64_t>(at),
                                       static_cast<uint32_t>(size))}};
    };
    for (const Variable& p : fn_.params) {
      if (!known) {
        out.emplace_back();
        continue;
      }
      uint64_t size = types_.get(p.type).size;
      if (passed_by_reference(p, types_, fn_.low_pc, fn_.language)) {
        // The caller passes the address of its copy as an INTEGER argument.
        if (next_int < kIntArgRegs.size()) {
          out.push_back(Location{{at_address_in(kIntArgRegs[next_int++], size)}});
        } else {
          on_stack(kEightbyte, kEightbyte);
          out.push_back(unavailable(size));  // a pointer on the stack: not followed
        }
        continue;
      }
      Classification c = classifier.classify(p.type);
      std::optional<Location> loc;
      switch (c.kind) {
        case Classification::Kind::Unknown:
          known = false;
          break;
        case Classification::Kind::Empty:
          loc = Location{};
          break;
        case Classification::Kind::Registers:
          loc = in_registers(c, size, kIntArgRegs, next_int, kSseArgRegs, next_sse);
          if (!loc) loc = on_stack(size, c.stack_align);
          break;
        case Classification::Kind::Memory:
          loc = on_stack(size, c.stack_align);
          break;
      }
      if (loc && !c.decodable) loc = unavailable(size);
      out.push_back(std::move(loc));
    }
    return out;
  }

  // True when DWARF, where it can be true at the entry PC, names another
  // place than the model: the compiler removed a parameter (clang's
  // dead-argument elimination on internal functions), or a class is returned
  // through a hidden pointer that the type model cannot recognize.
  bool contradicts_dwarf(const std::vector<std::optional<Location>>& model) const {
    for (size_t i = 0; i < fn_.params.size() && i < model.size(); ++i) {
      if (!model[i] || !model[i]->fully_available()) continue;
      auto dwarf = dwarf_at_entry(fn_.params[i], fn_.low_pc, kIntArgRegs);
      if (!dwarf) continue;
      if (entry_spelling(*dwarf) != entry_spelling(*model[i])) return true;
    }
    return false;
  }

  ValueLocation result(const Classification& ret, bool hidden, bool use_model) const {
    uint64_t size = types_.get(fn_.return_type).size;
    // Without a trusted model (a GCC clone, or parameters that contradict
    // DWARF) the result may have been dropped too: RAX would be garbage.
    if (!use_model) return {unavailable(size), LocationSource::Abi};
    // A MEMORY-class result: the callee returns the hidden pointer in RAX.
    if (hidden) return {Location{{at_address_in(Reg::RAX, size)}}, LocationSource::Abi};
    if (!ret.decodable) return {unavailable(size), LocationSource::Abi};
    switch (ret.kind) {
      case Classification::Kind::Empty:
        return {Location{}, LocationSource::Abi};
      case Classification::Kind::Registers: {
        unsigned next_int = 0, next_sse = 0;
        // Two eightbytes never exceed RAX:RDX / XMM0:XMM1.
        auto loc = in_registers(ret, size, kIntResultRegs, next_int, kSseResultRegs, next_sse);
        return {loc ? std::move(*loc) : unavailable(size), LocationSource::Abi};
      }
      case Classification::Kind::Memory:
      case Classification::Kind::Unknown:
        break;
    }
    return {unavailable(size), LocationSource::Abi};
  }

  const Function& fn_;
  const TypeTable& types_;
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

class SysvAbi final : public AbiPlugin {
 public:
  std::string_view name() const override { return "sysv"; }

  int match(const BinaryFacts& binary, const Function& fn) const override {
    Language l = fn.language != Language::Unknown ? fn.language : binary.language;
    if (l == Language::C || l == Language::CPlusPlus) return 10;
    // gccgo compiles Go with GCC's back end and the SysV convention.
    if (l == Language::Go && fn.producer.starts_with("GNU Go")) return 10;
    return 0;
  }

  Result<std::vector<ValueLocation>> params_at_entry(const Function& fn,
                                                     const TypeTable& types) const override {
    if (auto ok = check_function(fn, types); !ok) return std::unexpected(ok.error());
    return SysvSolver(fn, types).solve().params;
  }

  Result<std::vector<ValueLocation>> results_at_return(const Function& fn,
                                                       const TypeTable& types) const override {
    if (auto ok = check_function(fn, types); !ok) return std::unexpected(ok.error());
    return SysvSolver(fn, types).solve().results;
  }

  ContextSource context_source() const override { return ContextSource::Thread; }
};

}  // namespace

std::unique_ptr<AbiPlugin> make_sysv_abi() { return std::make_unique<SysvAbi>(); }

}  // namespace dynprobe

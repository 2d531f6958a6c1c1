#include "abi/go_layout.h"

#include <algorithm>
#include <limits>
#include <string>

namespace dynprobe {

namespace {

// Deeper nesting of values inside values than any real Go type has; past it
// a (malformed, possibly cyclic) type table is treated as an unknown shape.
constexpr int kMaxTypeDepth = 64;

bool shape_known(const TypeTable& types, TypeId id, int depth) {
  if (id >= types.size() || depth > kMaxTypeDepth) return false;
  const Type& t = types.get(id);
  switch (t.kind) {
    case TypeKind::Bool:
    case TypeKind::Int:
    case TypeKind::Uint:
    case TypeKind::Enum:
      return t.size == 1 || t.size == 2 || t.size == 4 || t.size == 8;
    case TypeKind::Float:
      return t.size == 4 || t.size == 8;
    case TypeKind::Complex:
      return t.size == 8 || t.size == 16;
    case TypeKind::Pointer:
    case TypeKind::Map:
    case TypeKind::Chan:
    case TypeKind::Func:
      return t.size == kGoPtrSize;
    case TypeKind::String:
    case TypeKind::Interface:
      return t.size == 2 * kGoPtrSize;
    case TypeKind::Slice:
      return t.size == 3 * kGoPtrSize;
    case TypeKind::Array:
      if (t.elem == kNoType || t.elem >= types.size()) return false;
      if (!shape_known(types, t.elem, depth + 1)) return false;
      return t.count * types.get(t.elem).size == t.size;
    case TypeKind::Struct:
      for (const Field& f : t.fields) {
        if (!shape_known(types, f.type, depth + 1)) return false;
        if (f.offset + types.get(f.type).size > t.size) return false;
      }
      return true;
    case TypeKind::Void:
      return t.size == 0;
    case TypeKind::Union:
    case TypeKind::Unknown:
      return false;
  }
  return false;
}

}  // namespace

int64_t GoStackSequence::add(uint64_t size, uint64_t align) {
  next_ = align_up(next_, align);
  int64_t at = next_sp_offset();
  next_ += size;
  return at;
}

bool go_shape_known(const TypeTable& types, TypeId id) { return shape_known(types, id, 0); }

Location go_stack_location(int64_t sp_offset, uint64_t size) {
  if (size == 0) return {};
  return Location{{Piece::at_stack(sp_offset, static_cast<uint32_t>(size))}};
}

Location go_unavailable_location(uint64_t size) {
  if (size == 0) return {};
  return Location{{Piece::unavailable(static_cast<uint32_t>(size))}};
}

ValueLocation go_dwarf_or_unavailable(const Variable& v, uint64_t pc, uint64_t size) {
  Location loc = v.location_at(pc);
  if (loc.fully_available()) return {std::move(loc), LocationSource::Dwarf};
  return {go_unavailable_location(size), LocationSource::Abi};
}

bool is_gc_go(const BinaryFacts& binary, const Function& fn) {
  bool go = fn.language == Language::Go ||
            (fn.language == Language::Unknown && binary.language == Language::Go);
  return go && !fn.producer.starts_with("GNU");
}

std::optional<GoVersion> go_version_of(const BinaryFacts& binary, const Function& fn) {
  if (binary.go_version) return binary.go_version;
  auto at = fn.producer.find("go1.");
  if (at == std::string::npos) return std::nullopt;
  std::string_view rest = std::string_view(fn.producer).substr(at);
  return parse_go_version(rest.substr(0, rest.find_first_of("; ")));
}

bool go_producer_says_regabi(std::string_view producer) {
  auto semi = producer.find(';');
  if (semi == std::string_view::npos) return false;
  std::string_view flags = producer.substr(semi + 1);
  while (!flags.empty()) {
    auto end = flags.find_first_of(" ,");
    if (flags.substr(0, end) == "regabi") return true;
    if (end == std::string_view::npos) break;
    flags = flags.substr(end + 1);
  }
  return false;
}

Status check_go_function(const Function& fn, const TypeTable& types) {
  auto check = [&](const Variable& v) -> Status {
    if (v.type >= types.size())
      return fail(fn.name + ": " + v.name + " refers to type #" + std::to_string(v.type) +
                  " outside the type table");
    if (types.get(v.type).size > std::numeric_limits<uint32_t>::max())
      return fail(fn.name + ": " + v.name + " is too large to locate (" +
                  std::to_string(types.get(v.type).size) + " bytes)");
    return {};
  };
  for (const Variable& v : fn.params)
    if (auto s = check(v); !s) return s;
  for (const Variable& v : fn.results)
    if (auto s = check(v); !s) return s;
  return {};
}

namespace {

// Go's DWARF is not always well formed (Go 1.19 describes a 24-byte slice
// in RAX,RAX,RBX,RCX): only a register location whose pieces add up to the
// value's size is evidence about the model.
bool only_registers(const Location& loc, uint64_t size) {
  uint64_t covered = 0;
  for (const Piece& p : loc.pieces) {
    if (p.kind != PieceKind::Register) return false;
    covered += p.size;
  }
  return !loc.pieces.empty() && covered == size;
}

// Go before 1.22 leaves `_` and unnamed parameters out of DWARF, so the model,
// which only sees the listed ones, would shift every later register. Go's
// entry location lists name the registers exactly: where one disagrees with
// the model, the model is missing a parameter and must not be used.
bool model_contradicts_dwarf(const Function& fn, const TypeTable& types,
                             const std::vector<ValueLocation>& model) {
  for (size_t i = 0; i < fn.params.size() && i < model.size(); ++i) {
    if (model[i].source != LocationSource::Abi) continue;
    uint64_t size = types.get(fn.params[i].type).size;
    Location dwarf = fn.params[i].location_at(fn.low_pc);
    if (!only_registers(dwarf, size) || !only_registers(model[i].location, size)) continue;
    if (to_string(dwarf) != to_string(model[i].location)) return true;
  }
  return false;
}

}  // namespace

Result<std::vector<ValueLocation>> go_params_at_entry(const Function& fn, const TypeTable& types,
                                                      std::span<const Reg> int_regs,
                                                      unsigned float_regs) {
  if (auto ok = check_go_function(fn, types); !ok) return std::unexpected(ok.error());
  GoValueAssigner assign(types, int_regs, float_regs);
  std::vector<ValueLocation> out;
  for (const Variable& p : fn.params) {
    if (auto loc = assign.place(p.type))
      out.push_back({std::move(*loc), LocationSource::Abi});
    else
      out.push_back(go_dwarf_or_unavailable(p, fn.low_pc, types.get(p.type).size));
  }
  if (!int_regs.empty() && model_contradicts_dwarf(fn, types, out)) {
    for (size_t i = 0; i < fn.params.size(); ++i)
      out[i] = go_dwarf_or_unavailable(fn.params[i], fn.low_pc, types.get(fn.params[i].type).size);
  }
  return out;
}

Result<std::vector<ValueLocation>> go_results_at_return(const Function& fn, const TypeTable& types,
                                                        std::span<const Reg> int_regs,
                                                        unsigned float_regs) {
  if (auto ok = check_go_function(fn, types); !ok) return std::unexpected(ok.error());
  GoValueAssigner assign(types, int_regs, float_regs);
  for (const Variable& p : fn.params) assign.place(p.type);
  assign.start_results();
  std::vector<ValueLocation> out;
  for (const Variable& r : fn.results) {
    if (auto loc = assign.place(r.type))
      out.push_back({std::move(*loc), LocationSource::Abi});
    else
      out.push_back({go_unavailable_location(types.get(r.type).size), LocationSource::Abi});
  }
  return out;
}

std::optional<Location> GoValueAssigner::place(TypeId id) {
  const Type& t = types_.get(id);
  const bool known = go_shape_known(types_, id);
  // Assignment step 2: zero-size values only add alignment to S.
  if (t.size == 0) {
    if (known)
      stack_.add(0, types_.align(id));
    else
      stack_known_ = false;
    return Location{};
  }
  if (!known) {
    // How many registers it took is unknown; with none to take (ABI0) only
    // the stack sequence is lost.
    if (!int_regs_.empty() || float_regs_ > 0) registers_known_ = false;
    stack_known_ = false;
    return std::nullopt;
  }
  if (!registers_known_) {
    // Whether this value still fits is unknown, so is where S continues.
    stack_known_ = false;
    return std::nullopt;
  }
  // Assignment steps 1, 3 and 4: try registers, else roll back and use S.
  Cursor saved = next_;
  std::vector<Piece> pieces;
  if (assign_registers(id, 0, 0, pieces)) return Location{std::move(pieces)};
  next_ = saved;
  if (!stack_known_) return std::nullopt;
  return go_stack_location(stack_.add(t.size, types_.align(id)), t.size);
}

void GoValueAssigner::start_results() {
  stack_.align_to_pointer();
  next_ = {};
  registers_known_ = true;
}

bool GoValueAssigner::take_int(uint64_t size, uint64_t value_offset, std::vector<Piece>& out) {
  if (next_.ints >= int_regs_.size()) return false;
  out.push_back(Piece::in_register(int_regs_[next_.ints++], static_cast<uint32_t>(size),
                                   static_cast<uint32_t>(value_offset)));
  return true;
}

bool GoValueAssigner::take_float(uint64_t size, uint64_t value_offset, std::vector<Piece>& out) {
  if (next_.floats >= float_regs_) return false;
  out.push_back(Piece::in_register(xmm(next_.floats++), static_cast<uint32_t>(size),
                                   static_cast<uint32_t>(value_offset)));
  return true;
}

// "Register-assignment of a value V of underlying type T"; the caller has
// checked the shape, so every size below is one the switch expects.
bool GoValueAssigner::assign_registers(TypeId id, uint64_t off, int depth,
                                       std::vector<Piece>& out) {
  if (depth > kMaxTypeDepth) return false;
  const Type& t = types_.get(id);
  switch (t.kind) {
    case TypeKind::Bool:
    case TypeKind::Int:
    case TypeKind::Uint:
    case TypeKind::Enum:
    case TypeKind::Pointer:
    case TypeKind::Map:
    case TypeKind::Chan:
    case TypeKind::Func:
      return take_int(t.size, off, out);
    case TypeKind::Float:
      return take_float(t.size, off, out);
    case TypeKind::Complex:
      return take_float(t.size / 2, off, out) && take_float(t.size / 2, off + t.size / 2, out);
    case TypeKind::String:
    case TypeKind::Interface:
      return take_int(kGoPtrSize, off, out) && take_int(kGoPtrSize, off + kGoPtrSize, out);
    case TypeKind::Slice:
      return take_int(kGoPtrSize, off, out) && take_int(kGoPtrSize, off + kGoPtrSize, out) &&
             take_int(kGoPtrSize, off + 2 * kGoPtrSize, out);
    case TypeKind::Struct:
      for (const Field& f : t.fields)
        if (!assign_registers(f.type, off + f.offset, depth + 1, out)) return false;
      return true;
    case TypeKind::Array:
      if (t.count == 0) return true;
      if (t.count == 1) return assign_registers(t.elem, off, depth + 1, out);
      return false;
    case TypeKind::Void:
      return true;  // zero size: no registers
    case TypeKind::Union:
    case TypeKind::Unknown:
      return false;
  }
  return false;
}

}  // namespace dynprobe

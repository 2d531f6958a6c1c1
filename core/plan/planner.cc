#include "core/plan/planner.h"

#include <algorithm>
#include <deque>

#include "abi/registry.h"
#include "core/code_sites.h"
#include "core/signature.h"

namespace dynprobe {

namespace {

uint32_t align8(uint32_t v) { return (v + 7) & ~7u; }

std::string join_names(const std::vector<Variable>& vars, bool results) {
  std::string out;
  for (size_t i = 0; i < vars.size(); ++i) {
    std::string n = results ? result_key(i) : vars[i].name;
    if (results && !vars[i].name.empty() && !vars[i].name.starts_with("~"))
      n += " (" + vars[i].name + ")";
    out += (i ? ", " : "") + n;
  }
  return out.empty() ? "none" : out;
}

Result<GoRuntimeLayout> go_runtime_layout(Binary& binary) {
  auto g = binary.debug().type_named("runtime.g");
  if (!g)
    return fail("cannot find runtime.g in the DWARF of " + binary.elf().path() +
                " (needed to key calls by goroutine)");
  const TypeTable& types = binary.types();
  GoRuntimeLayout out;
  bool have_hi = false, have_goid = false;
  for (const Field& f : types.get(*g).fields) {
    if (f.name == "goid") {
      out.goid_offset = static_cast<uint32_t>(f.offset);
      have_goid = true;
    }
    if (f.name == "stack") {
      for (const Field& s : types.get(f.type).fields)
        if (s.name == "hi") {
          out.stack_hi_offset = static_cast<uint32_t>(f.offset + s.offset);
          have_hi = true;
        }
    }
  }
  if (!have_hi || !have_goid)
    return fail("runtime.g in " + binary.elf().path() + " lacks stack.hi or goid");
  return out;
}

struct Selected {
  const Variable* var;
  size_t index;  // position among params or results
  bool is_result;
  std::string key;
  const ProbeExpr* expr = nullptr;  // the expression, when one was written
};

TypeId strip_pointers(const TypeTable& types, TypeId t) {
  while (types.get(t).kind == TypeKind::Pointer && types.get(t).elem != kNoType)
    t = types.get(t).elem;
  return t;
}

// "int64", "main.Money (struct)": what a path error says a value is.
std::string describe_type(const TypeTable& types, TypeId t) {
  const Type& ty = types.get(t);
  std::string kind(kind_name(ty.kind));
  if (ty.name.empty()) return kind;
  bool obvious = ty.kind == TypeKind::Int || ty.kind == TypeKind::Uint ||
                 ty.kind == TypeKind::Float || ty.kind == TypeKind::Bool ||
                 ty.kind == TypeKind::String || ty.name == kind;
  return obvious ? ty.name : ty.name + " (" + kind + ")";
}

// Checks `e`'s path and function against the root's type, as Go would type
// them, so that a typo fails when the probe is planned, naming what exists.
Status check_path(const TypeTable& types, TypeId root, const std::string& root_name,
                  const ProbeExpr& e) {
  TypeId t = root;
  std::string where = root_name;
  for (const PathStep& step : e.path) {
    switch (step.kind) {
      case PathStep::Kind::Field: {
        t = strip_pointers(types, t);
        const Type& st = types.get(t);
        if (st.kind != TypeKind::Struct)
          return fail(where + " has no field " + step.field + ": it is " + describe_type(types, t));
        auto f = std::find_if(st.fields.begin(), st.fields.end(),
                              [&](const Field& f) { return f.name == step.field; });
        if (f == st.fields.end()) {
          std::string names;
          for (const Field& x : st.fields) names += (names.empty() ? "" : ", ") + x.name;
          return fail(where + " has no field " + step.field +
                      "; fields: " + (names.empty() ? "none" : names));
        }
        t = f->type;
        where += "." + step.field;
        break;
      }
      case PathStep::Kind::Index: {
        if (types.get(t).kind == TypeKind::Pointer &&
            types.get(types.get(t).elem).kind == TypeKind::Array)
          t = types.get(t).elem;
        const Type& at = types.get(t);
        if (at.kind != TypeKind::Array && at.kind != TypeKind::Slice)
          return fail(where + " cannot be indexed: it is " + describe_type(types, t));
        if (at.kind == TypeKind::Array && step.index >= at.count)
          return fail(where + "[" + std::to_string(step.index) + "]: index out of range (length " +
                      std::to_string(at.count) + ")");
        t = at.elem;
        where += "[" + std::to_string(step.index) + "]";
        break;
      }
      case PathStep::Kind::Deref:
        if (types.get(t).kind != TypeKind::Pointer)
          return fail("*" + where + ": " + where + " is not a pointer: it is " +
                      describe_type(types, t));
        t = types.get(t).elem;
        where = "*" + where;
        break;
    }
  }
  TypeKind k = types.get(t).kind;
  if (e.fn == ProbeExpr::Fn::Len && k != TypeKind::String && k != TypeKind::Slice &&
      k != TypeKind::Array && k != TypeKind::Map && k != TypeKind::Chan)
    return fail("len(" + where + "): " + where + " is " + describe_type(types, t));
  if (e.fn == ProbeExpr::Fn::Cap && k != TypeKind::Slice && k != TypeKind::Array &&
      k != TypeKind::Chan)
    return fail("cap(" + where + "): " + where + " is " + describe_type(types, t));
  return {};
}

Result<std::vector<Selected>> select_values(const Function& fn, const ProbeSpec& spec,
                                            ProbePlan& plan) {
  std::vector<Selected> out;
  if (spec.capture_all) {
    for (size_t i = 0; i < fn.params.size(); ++i)
      out.push_back({&fn.params[i], i, false, fn.params[i].name});
    for (size_t i = 0; i < fn.results.size(); ++i)
      out.push_back({&fn.results[i], i, true, result_key(i)});
    plan.want_latency = true;
    return out;
  }
  plan.want_latency = false;
  auto unknown = [&](const std::string& what) {
    return fail(fn.name + " has no " + what + "; parameters: " + join_names(fn.params, false) +
                "; results: " + join_names(fn.results, true));
  };
  for (const ProbeExpr& e : spec.exprs) {
    switch (e.kind) {
      case ProbeExpr::Kind::Latency:
        plan.want_latency = true;
        break;
      case ProbeExpr::Kind::Goid:
        plan.want_goid = true;
        break;
      case ProbeExpr::Kind::Result:
        if (e.index >= fn.results.size()) return unknown("result " + e.text);
        out.push_back({&fn.results[e.index], e.index, true, e.text, &e});
        break;
      case ProbeExpr::Kind::Name: {
        auto p = std::find_if(fn.params.begin(), fn.params.end(),
                              [&](const Variable& v) { return v.name == e.name; });
        if (p != fn.params.end()) {
          out.push_back({&*p, static_cast<size_t>(p - fn.params.begin()), false, e.text, &e});
          break;
        }
        auto r = std::find_if(fn.results.begin(), fn.results.end(),
                              [&](const Variable& v) { return v.name == e.name; });
        if (r == fn.results.end()) return unknown("parameter or named result '" + e.name + "'");
        out.push_back({&*r, static_cast<size_t>(r - fn.results.begin()), true, e.text, &e});
        break;
      }
    }
  }
  return out;
}

// Plans what is followed from captured values, breadth first: every value's
// first-level strings, slices and pointees get room before anything deeper,
// so one deep argument cannot starve its siblings of the record budget.
class Follower {
 public:
  Follower(const TypeTable& types, const CaptureLimits& limits, uint32_t& next, uint32_t budget_end,
           std::vector<DerefOp>& ops)
      : types_(types), limits_(limits), next_(next), end_(budget_end), ops_(ops) {}

  // `n` must already sit where it will stay (its address is queued).
  void add_root(ValueNode& n) { shape(n, 0, -1, 0); }

  void run() {
    while (!queue_.empty()) {
      Pending p = queue_.front();
      queue_.pop_front();
      follow(p);
    }
  }

 private:
  struct Pending {
    ValueNode* node;
    int32_t guard_len;
    uint32_t guard_index;
  };

  // Lays out the value's own image (struct fields, array elements) and
  // queues every reference in it.
  void shape(ValueNode& n, int depth, int32_t guard_len, uint32_t guard_index) {
    const Type& t = types_.get(n.type);
    n.depth = depth;
    switch (t.kind) {
      case TypeKind::String:
      case TypeKind::Slice:
      case TypeKind::Map:
      case TypeKind::Chan:
      case TypeKind::Func:
      case TypeKind::Interface:
        queue_.push_back({&n, guard_len, guard_index});
        break;
      case TypeKind::Pointer:
        if (t.elem == kNoType || types_.get(t.elem).size == 0) break;  // unsafe.Pointer, *struct{}
        if (depth >= limits_.depth) {
          n.follow = ValueNode::Follow::CutDepth;
          break;
        }
        queue_.push_back({&n, guard_len, guard_index});
        break;
      case TypeKind::Struct: {
        n.children.resize(t.fields.size());
        for (size_t i = 0; i < t.fields.size(); ++i) {
          n.children[i].type = t.fields[i].type;
          n.children[i].offset = n.offset + static_cast<uint32_t>(t.fields[i].offset);
        }
        for (ValueNode& c : n.children) shape(c, depth, guard_len, guard_index);
        break;
      }
      case TypeKind::Array: {
        uint64_t esz = types_.get(t.elem).size;
        if (esz == 0) break;
        uint64_t count = std::min<uint64_t>(t.count, limits_.max_elems);
        n.children.resize(count);
        for (uint64_t i = 0; i < count; ++i) {
          n.children[i].type = t.elem;
          n.children[i].offset = n.offset + static_cast<uint32_t>(i * esz);
        }
        for (ValueNode& c : n.children) shape(c, depth, guard_len, guard_index);
        break;
      }
      default:
        break;
    }
  }

  void follow(const Pending& p) {
    ValueNode& n = *p.node;
    const Type& t = types_.get(n.type);
    DerefOp guard{.guard_len_offset = p.guard_len, .guard_index = p.guard_index};
    switch (t.kind) {
      case TypeKind::String:
        follow_counted(n, ValueNode::Follow::String, 1, limits_.string_max, guard);
        break;
      case TypeKind::Slice: {
        uint32_t esz = static_cast<uint32_t>(types_.get(t.elem).size);
        if (esz == 0) break;
        uint32_t room = end_ > next_ + 16 ? (end_ - next_ - 16) / esz : 0;
        uint32_t count = std::min(limits_.max_elems, room);
        if (!follow_counted(n, ValueNode::Follow::Slice, esz, count * esz, guard)) break;
        n.children.resize(count);
        for (uint32_t i = 0; i < count; ++i) {
          n.children[i].type = t.elem;
          n.children[i].offset = n.payload + i * esz;
        }
        // Elements past the slice's length hold stale bytes: never follow them.
        for (uint32_t i = 0; i < count; ++i)
          shape(n.children[i], n.depth, static_cast<int32_t>(n.offset + 8), i);
        break;
      }
      case TypeKind::Pointer: {
        uint32_t size = static_cast<uint32_t>(types_.get(t.elem).size);
        if (!follow_fixed(n, ValueNode::Follow::Pointer, n.offset, 0, size, guard)) break;
        n.children.resize(1);
        n.children[0].type = t.elem;
        n.children[0].offset = n.payload;
        shape(n.children[0], n.depth + 1, -1, 0);
        break;
      }
      case TypeKind::Map:
        follow_fixed(n, ValueNode::Follow::Map, n.offset, 0, 8, guard);
        break;
      case TypeKind::Chan:
        follow_fixed(n, ValueNode::Follow::Chan, n.offset, 0, 16, guard);
        break;
      case TypeKind::Func:
        follow_fixed(n, ValueNode::Follow::Func, n.offset, 0, 8, guard);
        break;
      case TypeKind::Interface:
        follow_interface(n, t.empty_interface, guard);
        break;
      default:
        break;
    }
  }

  std::optional<uint32_t> alloc(uint32_t bytes, uint32_t align = 8) {
    uint32_t at = (next_ + align - 1) & ~(align - 1);
    if (at + bytes > end_) return std::nullopt;
    next_ = at + bytes;
    return at;
  }

  bool reserve(ValueNode& n, ValueNode::Follow kind, uint32_t bytes) {
    auto status = bytes ? alloc(1, 1) : std::nullopt;
    auto payload = status ? alloc(bytes) : std::nullopt;
    if (!payload) {
      n.follow = ValueNode::Follow::CutBudget;
      return false;
    }
    n.follow = kind;
    n.status = *status;
    n.payload = *payload;
    n.payload_max = bytes;
    return true;
  }

  bool follow_fixed(ValueNode& n, ValueNode::Follow kind, uint32_t addr_at, int32_t add,
                    uint32_t bytes, const DerefOp& guard) {
    if (!reserve(n, kind, bytes)) return false;
    DerefOp op = guard;
    op.addr_offset = addr_at;
    op.addr_add = add;
    op.max_bytes = bytes;
    op.dest = n.payload;
    op.status = n.status;
    ops_.push_back(op);
    return true;
  }

  // A (ptr, len) header: read len * elem_size bytes, at most `max`.
  bool follow_counted(ValueNode& n, ValueNode::Follow kind, uint32_t elem_size, uint32_t max,
                      const DerefOp& guard) {
    if (!reserve(n, kind, max)) return false;
    DerefOp op = guard;
    op.addr_offset = n.offset;
    op.len_offset = static_cast<int32_t>(n.offset + 8);
    op.elem_size = elem_size;
    op.max_bytes = max;
    op.dest = n.payload;
    op.status = n.status;
    ops_.push_back(op);
    return true;
  }

  // The dynamic type is only known when the record is decoded, so the data
  // is read as a chunk, and every (ptr, len) pair that could be a string in
  // it is followed too: reading a non-pointer this way is harmless
  // (bpf_probe_read_user fails quietly) and the decoder only uses the pairs
  // the dynamic type says are strings.
  void follow_interface(ValueNode& n, bool empty, const DerefOp& guard) {
    uint32_t chunk = limits_.interface_chunk;
    if (empty) {
      n.dyn_type = n.offset;  // eface: the first word is the *_type itself
    } else {
      auto st = alloc(1, 1);
      auto dyn = st ? alloc(8) : std::nullopt;
      if (!dyn) {
        n.follow = ValueNode::Follow::CutBudget;
        return;
      }
      n.dyn_type = *dyn;
      DerefOp op = guard;
      op.addr_offset = n.offset;  // iface: the itab, whose _type field is at +8
      op.addr_add = 8;
      op.max_bytes = 8;
      op.dest = *dyn;
      op.status = *st;
      ops_.push_back(op);
    }
    if (!follow_fixed(n, ValueNode::Follow::Interface, n.offset + 8, 0, chunk, guard)) return;
    ops_.back().shrink_on_fault = true;
    uint32_t max = std::min<uint32_t>(limits_.string_max, 128);
    for (uint32_t k = 0; k + 16 <= chunk; k += 8) {
      auto st = alloc(1, 1);
      auto dest = st ? alloc(max) : std::nullopt;
      if (!dest) break;
      ops_.push_back(DerefOp{.addr_offset = n.payload + k,
                             .len_offset = static_cast<int32_t>(n.payload + k + 8),
                             .elem_size = 1,
                             .max_bytes = max,
                             .dest = *dest,
                             .status = *st});
      n.chunk_strings.push_back(
          {.chunk_offset = k, .dest = *dest, .max_bytes = max, .status = *st});
    }
  }

  const TypeTable& types_;
  const CaptureLimits& limits_;
  uint32_t& next_;
  uint32_t end_;
  std::vector<DerefOp>& ops_;
  std::deque<Pending> queue_;
};

// A value that lives whole in memory a register points to: a MEMORY-class C
// result at RET (the callee returns the hidden pointer in RAX), or a C++
// class passed by invisible reference. The register is captured and the
// bytes are read from where it points.
std::optional<Piece> addressed_by_register(const Location& loc, uint32_t size) {
  if (loc.pieces.size() != 1) return std::nullopt;
  const Piece& p = loc.pieces.front();
  if (p.kind != PieceKind::Memory || p.base != MemBase::Register || p.reg == Reg::RSP ||
      is_vector_reg(p.reg) || p.value_offset != 0 || (p.size != 0 && p.size < size) || size == 0)
    return std::nullopt;
  return p;
}

}  // namespace

void plan_follows(const TypeTable& types, const std::vector<ValueNode*>& roots,
                  const CaptureLimits& limits, uint32_t& next, uint32_t budget_end,
                  std::vector<DerefOp>& ops) {
  Follower f(types, limits, next, budget_end, ops);
  for (ValueNode* n : roots) f.add_root(*n);
  f.run();
}

std::vector<CaptureOp> capture_ops_for(const Location& location, uint32_t value_size,
                                       uint32_t record_offset, uint32_t value_index,
                                       PlannedValue& value) {
  std::vector<CaptureOp> ops;
  value.available = location.available();
  if (!value.available)
    value.unavailable_reason = location.empty() ? "no location" : "optimized out";
  auto unavailable = [&](std::string why) {
    value.available = false;
    if (value.unavailable_reason.empty()) value.unavailable_reason = std::move(why);
  };
  for (const Piece& p : location.pieces) {
    uint32_t size = p.size ? p.size : value_size;
    if (p.value_offset >= value_size) continue;
    size = std::min(size, value_size - p.value_offset);
    CaptureOp op{
        .size = size, .record_offset = record_offset + p.value_offset, .value_index = value_index};
    if (p.kind == PieceKind::Register && is_vector_reg(p.reg)) {
      // pt_regs has no vector registers and the task's saved FPU state is
      // stale while the probed thread runs (docs/bpf-backend.md). The rest
      // of the value is still captured; this piece becomes a hole.
      value.holes.push_back({.offset = p.value_offset, .size = size});
      value.holes_reason = std::string(reg_name(p.reg)) + ": vector register, not readable by BPF";
      continue;
    }
    if (p.kind == PieceKind::Register) {
      op.source = CaptureOp::Source::Register;
      op.reg = p.reg;
    } else if (p.kind == PieceKind::Memory && p.base == MemBase::Register && p.reg == Reg::RSP) {
      op.source = CaptureOp::Source::Stack;
      op.sp_offset = p.offset;
    } else if (p.kind == PieceKind::Memory && p.base == MemBase::CFA) {
      // Probes sit at a function's first instruction or at a RET: CFA = SP + 8 there.
      op.source = CaptureOp::Source::Stack;
      op.sp_offset = p.offset + 8;
    } else {
      // Constants, absolute and other register-based memory are not captured
      // yet; the value is reported unavailable rather than guessed.
      unavailable("location " + to_string(p) + " is not captured yet");
      continue;
    }
    CaptureOp* last = ops.empty() ? nullptr : &ops.back();
    if (last && op.source == CaptureOp::Source::Stack && last->source == CaptureOp::Source::Stack &&
        last->sp_offset + last->size == op.sp_offset &&
        last->record_offset + last->size == op.record_offset) {
      last->size += op.size;
      continue;
    }
    ops.push_back(op);
  }
  return ops;
}

Result<ProbePlan> plan_probe(Binary& binary, const ProbeSpec& typed, uint32_t id,
                             const PlanLimits& limits) {
  ProbeSpec spec = typed;
  // A C++ name ends in its parameter list, which -p reads as an expression
  // list ("ns::f(long)"): the whole text names the function when one has it.
  if (!spec.capture_all && !binary.go()) {
    std::string whole = spec.function + "(";
    for (size_t i = 0; i < spec.exprs.size(); ++i) whole += (i ? ", " : "") + spec.exprs[i].text;
    if (binary.resolve(whole + ")")) spec = ProbeSpec{.function = whole + ")"};
  }
  auto name = binary.resolve(spec.function);
  if (!name && !spec.list_error.empty()) return fail(spec.list_error);
  if (!name) return std::unexpected(name.error());
  auto fn = binary.function(*name, LoadOptions{.inline_instances = false});
  if (!fn) return std::unexpected(fn.error());
  if (fn->low_pc == 0)
    return fail(
        fn->name +
        " exists only inlined into its callers; probing inlined sites is not supported yet");

  ProbePlan plan{.id = id,
                 .label = spec.capture_all ? fn->name : spec.function,
                 .function = fn->name,
                 .binary = binary.elf().path()};
  BinaryFacts facts{
      .language = fn->language != Language::Unknown ? fn->language : binary.language(),
      .pie = binary.elf().is_pie()};
  if (binary.go()) facts.go_version = binary.go()->parsed;
  AbiRegistry registry;
  auto abi = registry.select(facts, *fn);
  if (!abi) return std::unexpected(abi.error());
  plan.context = (*abi)->context_source();
  if (plan.context != ContextSource::Thread) {
    auto layout = go_runtime_layout(binary);
    if (!layout) return std::unexpected(layout.error());
    plan.go = *layout;
  }
  auto params = (*abi)->params_at_entry(*fn, binary.types());
  if (!params) return std::unexpected(params.error());
  auto results = (*abi)->results_at_return(*fn, binary.types());
  if (!results) return std::unexpected(results.error());

  auto selected = select_values(*fn, spec, plan);
  if (!selected) return std::unexpected(selected.error());
  for (const Selected& sel : *selected)
    if (sel.expr && (!sel.expr->path.empty() || sel.expr->fn != ProbeExpr::Fn::None))
      if (auto st =
              check_path(binary.types(), sel.var->type,
                         sel.expr->kind == ProbeExpr::Kind::Result ? "$" + std::to_string(sel.index)
                                                                   : sel.var->name,
                         *sel.expr);
          !st)
        return std::unexpected(st.error());

  auto entry_off = binary.elf().file_offset(fn->low_pc);
  if (!entry_off) return fail(fn->name + ": entry address is not in a loadable segment");
  plan.entry = {fn->low_pc, *entry_off};

  // Layout: header | argument images | what arguments lead to | result
  // images | what results lead to. The entry part is kept in flight.
  std::stable_sort(selected->begin(), selected->end(), [](const Selected& a, const Selected& b) {
    return !a.is_result && b.is_result;
  });
  constexpr uint32_t kMaxRecord = 32000;  // BPF load/store offsets are 16-bit signed
  uint32_t budget = std::min(limits.capture.record_budget, kMaxRecord / 2);
  uint32_t offset = sizeof(RecordHeader);
  auto lay_out = [&](bool for_results) -> Status {
    size_t first = plan.values.size();
    std::vector<std::pair<uint32_t, int64_t>> indirect;  // value index, offset from the register
    for (const Selected& s : *selected) {
      if (s.is_result != for_results) continue;
      const Type& t = binary.types().get(s.var->type);
      uint32_t size = static_cast<uint32_t>(std::min<uint64_t>(t.size, limits.max_value_bytes));
      const ValueLocation& loc = s.is_result ? (*results)[s.index] : (*params)[s.index];
      uint32_t index = static_cast<uint32_t>(plan.values.size());
      PlannedValue v{.key = s.key,
                     .is_result = s.is_result,
                     .type = s.var->type,
                     .size = size,
                     .record_offset = offset,
                     .location = to_string(loc.location)};
      if (s.expr) {
        v.path = s.expr->path;
        v.fn = s.expr->fn;
      }
      std::vector<CaptureOp> ops;
      if (auto via = addressed_by_register(loc.location, size)) {
        ops.push_back(CaptureOp{.source = CaptureOp::Source::Register,
                                .reg = via->reg,
                                .size = 8,
                                .record_offset = offset,
                                .value_index = index});
        indirect.emplace_back(index, via->offset);
      } else {
        ops = capture_ops_for(loc.location, size, offset, index, v);
        if (!v.available) ops.clear();
        if (v.available && ops.empty() && !v.holes.empty()) {
          // Nothing but holes: the whole value is unavailable, for that reason.
          v.available = false;
          v.unavailable_reason = v.holes_reason;
          v.holes.clear();
        }
      }
      auto& dest = s.is_result ? plan.return_ops : plan.entry_ops;
      dest.insert(dest.end(), ops.begin(), ops.end());
      plan.values.push_back(std::move(v));
      offset += align8(size);
    }
    std::vector<ValueNode*> roots;
    // The record slot of an indirect value holds the address; its bytes go to
    // a payload read before anything is followed from them. Decoded as a
    // pointer, an unreadable address shows as such; a path expression needs
    // the value's own node, so there the payload is the image.
    for (auto [index, add] : indirect) {
      PlannedValue& v = plan.values[index];
      uint32_t status = offset++;
      uint32_t payload = align8(offset);
      offset = payload + align8(v.size);
      (for_results ? plan.return_derefs : plan.entry_derefs)
          .push_back(DerefOp{.addr_offset = v.record_offset,
                             .addr_add = static_cast<int32_t>(add),
                             .max_bytes = v.size,
                             .dest = payload,
                             .status = status});
      v.node.type = v.type;
      if (v.path.empty() && v.fn == ProbeExpr::Fn::None) {
        v.node.offset = v.record_offset;
        v.node.follow = ValueNode::Follow::Pointer;
        v.node.status = status;
        v.node.payload = payload;
        v.node.payload_max = v.size;
        v.node.children = {ValueNode{.type = v.type, .offset = payload}};
        roots.push_back(&v.node.children[0]);
      } else {
        v.node.offset = payload;
        roots.push_back(&v.node);
      }
    }
    if (offset > kMaxRecord) return fail(plan.function + ": the values are too large to capture");
    uint32_t end = std::min(offset + budget, kMaxRecord);
    for (size_t i = first; i < plan.values.size(); ++i) {
      PlannedValue& v = plan.values[i];
      if (std::any_of(indirect.begin(), indirect.end(), [&](auto& x) { return x.first == i; }))
        continue;
      v.node.type = v.type;
      v.node.offset = v.record_offset;
      if (v.available) roots.push_back(&v.node);
    }
    plan_follows(binary.types(), roots, limits.capture, offset, end,
                 for_results ? plan.return_derefs : plan.entry_derefs);
    offset = align8(offset);
    return {};
  };
  if (auto st = lay_out(false); !st) return std::unexpected(st.error());
  plan.entry_size = offset;
  if (auto st = lay_out(true); !st) return std::unexpected(st.error());
  plan.record_size = offset;

  if (plan.needs_return()) {
    auto code = binary.elf().read(fn->low_pc, fn->high_pc - fn->low_pc);
    if (!code) return std::unexpected(code.error());
    auto sites = find_code_sites(*code, fn->low_pc);
    if (!sites) return std::unexpected(sites.error());
    if (sites->returns.empty())
      return fail(fn->name +
                  " has no RET instruction (it never returns normally); capture its "
                  "arguments only, e.g. -p '" +
                  spec.function + "(" +
                  (fn->params.empty() ? std::string("@goid") : fn->params.front().name) + ")'");
    for (uint64_t ret : sites->returns) {
      auto off = binary.elf().file_offset(ret);
      if (!off) return fail(fn->name + ": RET address is not in a loadable segment");
      plan.returns.push_back({ret, *off});
    }
  }
  return plan;
}

}  // namespace dynprobe

#include "core/plan/planner.h"

#include <algorithm>

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
};

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
        out.push_back({&fn.results[e.index], e.index, true, e.text});
        break;
      case ProbeExpr::Kind::Name: {
        auto p = std::find_if(fn.params.begin(), fn.params.end(),
                              [&](const Variable& v) { return v.name == e.name; });
        if (p != fn.params.end()) {
          out.push_back({&*p, static_cast<size_t>(p - fn.params.begin()), false, e.text});
          break;
        }
        auto r = std::find_if(fn.results.begin(), fn.results.end(),
                              [&](const Variable& v) { return v.name == e.name; });
        if (r == fn.results.end()) return unknown("parameter or named result '" + e.name + "'");
        out.push_back({&*r, static_cast<size_t>(r - fn.results.begin()), true, e.text});
        break;
      }
    }
  }
  return out;
}

}  // namespace

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
      // stale while the probed thread runs (docs/bpf-backend.md).
      unavailable("in " + std::string(reg_name(p.reg)) +
                  ", a vector register BPF cannot read at a uprobe");
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

Result<ProbePlan> plan_probe(Binary& binary, const ProbeSpec& spec, uint32_t id,
                             const PlanLimits& limits) {
  auto name = binary.resolve(spec.function);
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

  auto entry_off = binary.elf().file_offset(fn->low_pc);
  if (!entry_off) return fail(fn->name + ": entry address is not in a loadable segment");
  plan.entry = {fn->low_pc, *entry_off};

  uint32_t offset = sizeof(RecordHeader);
  // Arguments first (they are copied at entry and kept in flight), then results.
  std::stable_sort(selected->begin(), selected->end(), [](const Selected& a, const Selected& b) {
    return !a.is_result && b.is_result;
  });
  for (const Selected& s : *selected) {
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
    auto ops = capture_ops_for(loc.location, size, offset, index, v);
    if (!v.available) ops.clear();
    auto& dest = s.is_result ? plan.return_ops : plan.entry_ops;
    dest.insert(dest.end(), ops.begin(), ops.end());
    plan.values.push_back(std::move(v));
    offset += align8(size);
    if (!s.is_result) plan.entry_size = offset;
  }
  if (plan.entry_size == 0) plan.entry_size = sizeof(RecordHeader);
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

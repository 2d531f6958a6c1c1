#include "core/plan/planner.h"

#include <algorithm>

#include "abi/registry.h"
#include "core/code_sites.h"
#include "core/plan/capture_ops.h"
#include "core/plan/path_check.h"

namespace dynprobe {

namespace {

uint32_t align8(uint32_t v) { return (v + 7) & ~7u; }

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

}  // namespace

Result<ProbePlan> plan_probe(Binary& binary, const ProbeSpec& typed, uint32_t id,
                             const PlanLimits& limits, const InlineSiteInput* inline_site) {
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
  if (fn->low_pc == 0 && !inline_site)
    return fail(fn->name +
                " exists only inlined into its callers and has no entry of its own; trace "
                "probes its inlined call sites unless --no-inline is given");

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
  plan.context = inline_site ? inline_site->context : (*abi)->context_source();
  if (plan.context != ContextSource::Thread) {
    auto layout = go_runtime_layout(binary);
    if (!layout) return std::unexpected(layout.error());
    plan.go = *layout;
  }
  auto params = inline_site ? Result<std::vector<ValueLocation>>(inline_site->params)
                            : (*abi)->params_at_entry(*fn, binary.types());
  if (!params) return std::unexpected(params.error());
  // An inlined call has no RET of its own to read results at.
  auto results = inline_site ? Result<std::vector<ValueLocation>>(std::vector<ValueLocation>(
                                   fn->results.size(), {.location = {{Piece::unavailable(0)}}}))
                             : (*abi)->results_at_return(*fn, binary.types());
  if (!results) return std::unexpected(results.error());

  auto selected = select_values(*fn, spec, plan);
  if (!selected) return std::unexpected(selected.error());
  if (inline_site) {
    plan.want_latency = false;
    plan.inlined = inline_site->site;
    if (spec.capture_all) std::erase_if(*selected, [](const Selected& s) { return s.is_result; });
  }
  for (const Selected& sel : *selected)
    if (sel.expr && (!sel.expr->path.empty() || sel.expr->fn != ProbeExpr::Fn::None))
      if (auto st =
              check_path(binary, sel.var->type,
                         sel.expr->kind == ProbeExpr::Kind::Result ? "$" + std::to_string(sel.index)
                                                                   : sel.var->name,
                         *sel.expr);
          !st)
        return std::unexpected(st.error());

  if (inline_site) {
    plan.entry = inline_site->entry;
  } else {
    auto entry_off = binary.elf().file_offset(fn->low_pc);
    if (!entry_off) return fail(fn->name + ": entry address is not in a loadable segment");
    plan.entry = {fn->low_pc, *entry_off};
  }

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
        if (inline_site && !v.available) {
          const std::string& why = s.index < inline_site->unavailable_reasons.size()
                                       ? inline_site->unavailable_reasons[s.index]
                                       : v.unavailable_reason;
          if (s.is_result)
            v.unavailable_reason = "an inlined call has no return to read results at";
          else if (!why.empty())
            v.unavailable_reason = why;
          else if (v.unavailable_reason == "optimized out" || v.unavailable_reason == "no location")
            v.unavailable_reason = "optimized out at this inlined call site";
        }
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

#include "core/plan/inline_plan.h"

#include <capstone/capstone.h>

#include <algorithm>
#include <cstdio>
#include <optional>

#include "abi/registry.h"

namespace dynprobe {

namespace {

std::string hex(uint64_t v) {
  char buf[24];
  snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string site_text(const InlineInstance& inst) {
  std::string file = inst.call_file;
  if (auto slash = file.rfind('/'); slash != std::string::npos) file = file.substr(slash + 1);
  return inst.caller + " (" + file + ":" + std::to_string(inst.call_line) + ") at " +
         hex(inst.entry_pc);
}

// The function the user named, resolved as plan_probe does (a C++ name's
// parameter list reads as an expression list).
Result<std::string> resolve(Binary& binary, const ProbeSpec& spec) {
  if (!spec.capture_all && !binary.go()) {
    std::string whole = spec.function + "(";
    for (size_t i = 0; i < spec.exprs.size(); ++i) whole += (i ? ", " : "") + spec.exprs[i].text;
    if (auto r = binary.resolve(whole + ")")) return r;
  }
  return binary.resolve(spec.function);
}

// The containing function's ABI decides how a probe finds its goroutine or
// thread (the inlined function's own ABI never runs at the site).
ContextSource context_at(Binary& binary, uint64_t pc, const Function& fallback) {
  AbiRegistry registry;
  BinaryFacts facts{.language = binary.language(), .pie = binary.elf().is_pie()};
  if (binary.go()) facts.go_version = binary.go()->parsed;
  auto caller = binary.debug().function_at(pc, LoadOptions{.inline_instances = false});
  const Function& fn = caller ? *caller : fallback;
  if (fn.language != Language::Unknown) facts.language = fn.language;
  auto abi = registry.select(facts, fn);
  if (!abi) abi = registry.select(facts, fallback);
  return abi ? (*abi)->context_source() : ContextSource::Thread;
}

// The instance's first instruction that does something. Compilers attribute
// alignment padding before a loop head to the inlined code that follows it
// (clang -O2 on shop's `Use(Handle(fd), 7)`), and the loop is entered by a
// jump past that padding: a probe on the NOPs would never fire.
uint64_t skip_padding(Binary& binary, uint64_t pc, const std::vector<AddressRange>& ranges) {
  auto range = std::find_if(ranges.begin(), ranges.end(),
                            [&](const AddressRange& r) { return pc >= r.low && pc < r.high; });
  if (range == ranges.end()) return pc;
  auto code = binary.elf().read(pc, range->high - pc);
  if (!code) return pc;
  csh h;
  if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK) return pc;
  cs_insn* insn = cs_malloc(h);
  const uint8_t* p = code->data();
  size_t left = code->size();
  uint64_t at = pc, next = pc;
  while (insn && cs_disasm_iter(h, &p, &left, &next, insn) && insn->id == X86_INS_NOP) at = next;
  if (insn) cs_free(insn, 1);
  cs_close(&h);
  return at < range->high ? at : pc;
}

}  // namespace

Result<InlineSiteInput> inline_site_input(Binary& binary, const Function& fn,
                                          const InlineInstance& inst, const FrameTable* frames) {
  if (inst.entry_pc == 0 || inst.ranges.empty())
    return fail("DWARF gives the instance no code address");
  const uint64_t pc = skip_padding(binary, inst.entry_pc, inst.ranges);
  auto off = binary.elf().file_offset(pc);
  if (!off) return fail("entry " + hex(pc) + " is not in a loadable segment");
  InlineSiteInput in{.entry = {pc, *off},
                     .context = context_at(binary, pc, fn),
                     .site = {inst.caller, inst.call_file, inst.call_line}};

  // The instance lists results among its parameters (Go); fn->params does
  // not. Both follow the abstract DIE's order.
  std::vector<const Variable*> own;
  for (const Variable& v : inst.params)
    if (!v.is_result) own.push_back(&v);

  std::optional<Result<int64_t>> cfa;  // looked up once, when a piece needs it
  for (size_t i = 0; i < fn.params.size(); ++i) {
    std::string reason;
    Location loc;
    if (i < own.size()) loc = normalized(own[i]->location_at(pc));
    if (loc.empty() && i < own.size())
      // Bound at the entry by a location view (GCC); the NOPs skipped since
      // then change nothing.
      for (const LocationRange& r : own[i]->point_locations)
        if (r.low >= inst.entry_pc && r.low <= pc) loc = normalized(r.location);
    if (loc.empty()) {
      reason = i < own.size() && !own[i]->has_location
                   ? "optimized out: DWARF gives this inlined call no location for it"
                   : "optimized out: no location covers the inlined call's entry " + hex(pc);
      loc.pieces.push_back(Piece::unavailable(0));
    }
    for (Piece& p : loc.pieces) {
      if (p.kind != PieceKind::Memory || p.base != MemBase::CFA) continue;
      if (!cfa)
        cfa = frames ? frames->cfa_sp_offset(pc)
                     : Result<int64_t>(fail("the binary has no call frame information"));
      if (*cfa) {
        p = Piece::at_stack(**cfa + p.offset, p.size, p.value_offset);
      } else {
        reason = "frame-relative location, but " + cfa->error().message;
        p = Piece::unavailable(p.size, p.value_offset);
      }
    }
    in.params.push_back(ValueLocation{.location = std::move(loc), .source = LocationSource::Dwarf});
    in.unavailable_reasons.push_back(std::move(reason));
  }
  return in;
}

Result<InlinePlans> plan_inline_probes(Binary& binary, const ProbeSpec& spec, uint32_t first_id,
                                       const PlanLimits& limits, size_t max_sites) {
  auto name = resolve(binary, spec);
  if (!name && !spec.list_error.empty()) return fail(spec.list_error);
  if (!name) return std::unexpected(name.error());
  auto fn = binary.function(*name, LoadOptions{.inline_instances = true});
  if (!fn) return std::unexpected(fn.error());

  InlinePlans out;
  out.inlined_only = fn->low_pc == 0;
  if (fn->inline_instances.empty()) return out;

  std::optional<FrameTable> frames;
  std::optional<ElfFile> debug_elf;
  if (binary.debug_path() != binary.elf().path())
    if (auto d = ElfFile::open(binary.debug_path())) debug_elf.emplace(std::move(*d));
  auto table = FrameTable::load(binary.elf(), debug_elf ? &*debug_elf : nullptr);
  if (table) frames.emplace(std::move(*table));

  for (const InlineInstance& inst : fn->inline_instances) {
    if (out.plans.size() >= max_sites) {
      out.skipped.push_back(site_text(inst) + ": more than " + std::to_string(max_sites) +
                            " inlined sites");
      continue;
    }
    auto input = inline_site_input(binary, *fn, inst, frames ? &*frames : nullptr);
    if (!input) {
      out.skipped.push_back(site_text(inst) + ": " + input.error().message);
      continue;
    }
    auto plan = plan_probe(binary, spec, first_id + static_cast<uint32_t>(out.plans.size()), limits,
                           &*input);
    if (!plan) return std::unexpected(plan.error());
    out.plans.push_back(std::move(*plan));
  }
  return out;
}

}  // namespace dynprobe

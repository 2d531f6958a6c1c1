#include "tools/describe_report.h"

#include "abi/registry.h"
#include "core/code_sites.h"
#include "core/frame_cfa.h"
#include "core/plan/inline_plan.h"
#include "core/signature.h"

namespace dynprobe::cli {

namespace {

std::string_view context_name(ContextSource c) {
  switch (c) {
    case ContextSource::GoRegisterG:
      return "goroutine: g in R14";
    case ContextSource::GoTlsG:
      return "goroutine: g at fsbase-8";
    case ContextSource::Thread:
      return "thread: tid and SP";
  }
  return "?";
}

ValueReport value_report(const Variable& v, const ValueLocation& loc, uint64_t pc,
                         const TypeTable& types) {
  const Type& t = types.get(v.type);
  Location dwarf = normalized(v.location_at(pc));
  return ValueReport{
      .name = v.name,
      .type = t.name,
      .kind = std::string(kind_name(t.kind)),
      .size = t.size,
      .location = to_string(loc.location),
      .source = loc.source == LocationSource::Dwarf ? "dwarf" : "abi",
      .dwarf_location = dwarf.empty() ? "" : to_string(dwarf),
  };
}

}  // namespace

Result<DescribeReport> describe_function(Binary& binary, const std::string& query) {
  auto name = binary.resolve(query);
  if (!name) return std::unexpected(name.error());
  auto fn = binary.function(*name);
  if (!fn) return std::unexpected(fn.error());
  const TypeTable& types = binary.types();

  DescribeReport r;
  r.binary = binary.elf().path();
  r.debug_file = binary.debug_path() == r.binary ? "" : binary.debug_path();
  r.build_id = binary.elf().build_id();
  r.language = std::string(
      language_name(fn->language != Language::Unknown ? fn->language : binary.language()));
  if (binary.go()) r.go_version = binary.go()->version;
  r.function = fn->name;
  r.signature = signature(*fn, types);
  r.decl_file = fn->decl_file;
  r.decl_line = fn->decl_line;
  r.address = fn->low_pc;
  r.size = fn->high_pc > fn->low_pc ? fn->high_pc - fn->low_pc : 0;
  r.pie = binary.elf().is_pie();

  BinaryFacts facts{
      .language = fn->language != Language::Unknown ? fn->language : binary.language(),
      .pie = r.pie};
  if (binary.go()) facts.go_version = binary.go()->parsed;
  AbiRegistry registry;
  auto abi = registry.select(facts, *fn);
  if (!abi) return std::unexpected(abi.error());
  r.abi = std::string((*abi)->name());
  r.context = std::string(context_name((*abi)->context_source()));

  auto params = (*abi)->params_at_entry(*fn, types);
  if (!params) return std::unexpected(params.error());
  auto results = (*abi)->results_at_return(*fn, types);
  if (!results) return std::unexpected(results.error());

  if (r.size > 0) {
    auto code = binary.elf().read(fn->low_pc, r.size);
    if (!code) return std::unexpected(code.error());
    auto sites = find_code_sites(*code, fn->low_pc);
    if (!sites) return std::unexpected(sites.error());
    r.return_sites = sites->returns;
    r.tail_jumps = sites->tail_jumps;
    r.prologue_end = sites->prologue_end;
    r.stack_check = sites->has_stack_check;
  }
  // Results are read at a RET; DWARF describes them (if at all) at that PC.
  uint64_t ret_pc = r.return_sites.empty() ? fn->low_pc : r.return_sites.front();
  // A function that exists only inlined has no entry and no RET: the calling
  // convention places nothing, so no location is claimed.
  ValueLocation no_code{.location = Location{{Piece::unavailable(0)}}};
  bool inlined_only = fn->low_pc == 0;
  for (size_t i = 0; i < fn->params.size() && i < params->size(); ++i) {
    r.params.push_back(
        value_report(fn->params[i], inlined_only ? no_code : (*params)[i], fn->low_pc, types));
    if (inlined_only) r.params.back().location = "<inlined only>";
  }
  for (size_t i = 0; i < fn->results.size() && i < results->size(); ++i) {
    r.results.push_back(
        value_report(fn->results[i], inlined_only ? no_code : (*results)[i], ret_pc, types));
    if (inlined_only) r.results.back().location = "<inlined only>";
  }

  // What a trace reads at each inlined site: the instance's own locations,
  // frame-relative ones turned SP-relative with the CFA rule at its entry.
  std::optional<FrameTable> frames;
  if (!fn->inline_instances.empty()) {
    std::optional<ElfFile> debug_elf;
    if (binary.debug_path() != binary.elf().path())
      if (auto d = ElfFile::open(binary.debug_path())) debug_elf.emplace(std::move(*d));
    if (auto t = FrameTable::load(binary.elf(), debug_elf ? &*debug_elf : nullptr))
      frames.emplace(std::move(*t));
  }
  for (const InlineInstance& inst : fn->inline_instances) {
    InlineReport site{.caller = inst.caller,
                      .call_file = inst.call_file,
                      .call_line = inst.call_line,
                      .entry_pc = inst.entry_pc,
                      .ranges = inst.ranges};
    auto in = inline_site_input(binary, *fn, inst, frames ? &*frames : nullptr);
    if (!in) site.error = in.error().message;
    if (in) site.entry_pc = in->entry.address;  // past alignment padding
    for (size_t i = 0; in && i < in->params.size() && i < fn->params.size(); ++i) {
      const Location& loc = in->params[i].location;
      site.params.push_back({.name = fn->params[i].name,
                             .location = to_string(loc),
                             .reason = loc.fully_available() ? "" : in->unavailable_reasons[i]});
    }
    r.inline_sites.push_back(std::move(site));
  }
  return r;
}

}  // namespace dynprobe::cli

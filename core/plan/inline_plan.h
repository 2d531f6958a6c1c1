// Probes on inlined call sites: one ProbePlan per DW_TAG_inlined_subroutine
// instance of the probed function, each with its own entry (the instance's
// entry PC inside its caller) and its own capture ops, read from the
// instance's own location lists. Entry-only: an inlined call has no RET of
// its own, so no results and no latency.
//
// At a PC inside a function body the CFA is not SP + 8, so DW_OP_fbreg and
// DW_OP_call_frame_cfa locations are turned into SP-relative ones with the
// CFA rule at that PC (core/frame_cfa.h). Anything that cannot be read there
// is marked unavailable with the reason, never guessed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/binary.h"
#include "core/frame_cfa.h"
#include "core/plan/planner.h"

namespace dynprobe {

// Each of `fn`'s parameters at `inst`'s entry, stack pieces made SP-relative.
// `frames` may be null when the binary has no call frame information.
// Errors: the instance has no code address, or its entry is not in a
// loadable segment.
Result<InlineSiteInput> inline_site_input(Binary& binary, const Function& fn,
                                          const InlineInstance& inst, const FrameTable* frames);

struct InlinePlans {
  bool inlined_only = false;         // no out-of-line copy: these are the only probes
  std::vector<ProbePlan> plans;      // ids first_id, first_id + 1, ...
  std::vector<std::string> skipped;  // one line per instance not probed, saying why
};

// Plans every inlined instance of the function `spec` names (at most
// `max_sites`; the rest are listed in `skipped`). A function that is never
// inlined gives no plans. Errors: those of plan_probe for the spec itself
// (unknown function, unknown expression).
Result<InlinePlans> plan_inline_probes(Binary& binary, const ProbeSpec& spec, uint32_t first_id,
                                       const PlanLimits& limits = {}, size_t max_sites = 256);

}  // namespace dynprobe

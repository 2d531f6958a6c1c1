// Logical probe (what the user asked for) -> physical plan (core/plan/plan.h):
// resolves the function, asks the ABI plugin where each value lives at entry
// and at RET, finds the RETs, and lays out the record.
#pragma once

#include <cstdint>

#include "core/binary.h"
#include "core/plan/plan.h"
#include "core/result.h"
#include "frontends/probe_spec.h"

namespace dynprobe {

struct PlanLimits {
  uint32_t max_value_bytes = 1024;  // a larger value is cut and marked
  CaptureLimits capture;
};

// One inlined instance to probe instead of the function's own entry; built by
// core/plan/inline_plan.cc, which knows the CFA at the site.
struct InlineSiteInput {
  AttachSite entry;
  ContextSource context = ContextSource::GoRegisterG;  // the containing function's
  InlineCallSite site;
  // In the function's parameter order. Stack pieces are SP-relative at the
  // site: never CFA-relative, since CFA = SP + 8 only holds at a function's
  // own entry and RETs.
  std::vector<ValueLocation> params;
  std::vector<std::string> unavailable_reasons;  // per param; "" keeps the location's own
};

// Errors: unknown/ambiguous function, unknown expression (listing what exists),
// a function that exists only inlined (unless `inline_site` is given), no RET
// for a probe that needs one. With `inline_site`, the plan is entry-only: no
// results (an explicitly named one is marked unavailable), no latency.
Result<ProbePlan> plan_probe(Binary& binary, const ProbeSpec& spec, uint32_t id,
                             const PlanLimits& limits = {},
                             const InlineSiteInput* inline_site = nullptr);

// Capture ops for one value at `location`, placed at `record_offset`.
// Exposed for unit tests; merges adjacent stack pieces into one read.
std::vector<CaptureOp> capture_ops_for(const Location& location, uint32_t value_size,
                                       uint32_t record_offset, uint32_t value_index,
                                       PlannedValue& value);

// Plans what to follow from the values whose nodes are `roots` (type and
// offset set, nodes at their final address): appends deref ops to `ops`,
// allocates payload from `next` (advanced) up to `budget_end`, breadth
// first, and fills in each node tree for the decoder. Exposed for tests.
void plan_follows(const TypeTable& types, const std::vector<ValueNode*>& roots,
                  const CaptureLimits& limits, uint32_t& next, uint32_t budget_end,
                  std::vector<DerefOp>& ops);

}  // namespace dynprobe

// Pass 1 of the planner: which values a probe spec asks for, and whether each
// expression's path (`l.Currency`, `m["k"]`, `e.(*main.T)`, `len(s)`) fits the
// value's type, so that a typo fails when the probe is planned, naming what
// exists.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "core/binary.h"
#include "core/function.h"
#include "core/plan/plan.h"
#include "core/result.h"
#include "frontends/probe_spec.h"

namespace dynprobe {

struct Selected {
  const Variable* var;
  size_t index;  // position among params or results
  bool is_result;
  std::string key;
  const ProbeExpr* expr = nullptr;  // the expression, when one was written
};

// The parameters and results `spec` names (every one when it captures all),
// in the order written; sets plan.want_latency and plan.want_goid.
Result<std::vector<Selected>> select_values(const Function& fn, const ProbeSpec& spec,
                                            ProbePlan& plan);

// Checks `e`'s path and function against the root's type, as Go would type them.
Status check_path(Binary& binary, TypeId root, const std::string& root_name, const ProbeExpr& e);

}  // namespace dynprobe

// The conformance matrix as JSON and as Markdown (docs/conformance.md).
#pragma once

#include <string>
#include <vector>

#include "harness/cell_run.h"
#include "harness/known_gaps.h"

namespace dynprobe::harness {

struct Report {
  std::vector<CellResult> cells;
  std::vector<std::string> toolchains, modes, fixtures;  // those of the cells, in order
  std::string command;                                   // how it was run
  std::string started;                                   // UTC, ISO 8601
  double seconds = 0;
};

enum class GapState { used, stale, out_of_scope };

struct GapStatus {
  size_t rule = 0;
  GapState state = GapState::out_of_scope;
  size_t values = 0;          // values it accepted
  size_t cells_in_scope = 0;  // cells where it could apply
  size_t cells_used = 0;      // cells where it did
};

// A rule is stale when it could apply in some cell of this run and applied
// in none: the gap it describes no longer occurs.
std::vector<GapStatus> gap_statuses(const Report& report, const KnownGaps& gaps);

Tally total(const Report& report);

std::string report_json(const Report& report, const KnownGaps& gaps);
std::string report_markdown(const Report& report, const KnownGaps& gaps);

}  // namespace dynprobe::harness

// harness/known-gaps.json: the one reviewed list of differences the
// conformance run accepts, each with a reason and the issue it waits for
// (format in docs/conformance.md).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "harness/ground_truth.h"

namespace dynprobe::harness {

// Where a run happens: one cell of the matrix.
struct Cell {
  std::string toolchain;  // a Go version ("1.19"), "gccgo", "g++", "clang++"
  std::string mode;       // "default", "stripped-build-id", "O2", ...
  std::string fixture;    // "money", "cpp/shop"
};

struct GapRule {
  // Globs over toolchains: "gc" (any Go version), "gccgo", "g++", "clang++";
  // "gc" when the rule does not say.
  std::string toolchain = "gc";
  // For gc cells: "*", "register-abi", "stack-abi", "1.19", ">=1.17", "<=1.16", "1.19..1.22".
  std::string go = "*";
  std::string mode, fixture, function, field;  // comma-separated globs (fnmatch)
  std::string kind;  // "TYPE" or "TYPE:TEXT": marker type and a substring of its detail
  std::string reason;
  int issue = 0;

  bool in_scope(const Cell& cell) const;
  bool covers_function(const std::string& function) const;
  // A marker dynprobe wrote at `field` of `function`.
  bool matches(const Cell& cell, const std::string& function, const std::string& field,
               const Marker& marker) const;
  // A function dynprobe refused to probe with `error` ("probe-error:TEXT").
  bool matches_probe_error(const Cell& cell, const std::string& function,
                           const std::string& error) const;
  bool is_probe_error() const;
  // "scalars main.Float* args.* unavailable:vector register (go register-abi, mode *)";
  // "(gccgo, mode O2)" for other toolchains.
  std::string summary() const;
};

class KnownGaps {
 public:
  // Errors: unreadable file, invalid JSON, a rule missing a field or with an
  // unknown version form; one line naming the rule.
  static Result<KnownGaps> load(const std::string& path);

  const std::vector<GapRule>& rules() const { return rules_; }

  // The first rule accepting this marker, as an index into rules().
  std::optional<size_t> match(const Cell& cell, const std::string& function,
                              const std::string& field, const Marker& marker) const;
  // Rules saying `function` cannot be probed in this cell (run alone, so its
  // refusal cannot take the other probes down).
  std::vector<size_t> probe_error_rules(const Cell& cell, const std::string& function) const;
  std::optional<size_t> match_probe_error(const Cell& cell, const std::string& function,
                                          const std::string& error) const;

 private:
  std::vector<GapRule> rules_;
};

// Go minor version of "1.19" (19); nullopt for anything else.
std::optional<int> go_minor(const std::string& version);

}  // namespace dynprobe::harness

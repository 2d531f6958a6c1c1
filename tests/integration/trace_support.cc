#include "tests/integration/trace_support.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace dynprobe::test {

std::vector<llvm::json::Object> parse_json_lines(const std::string& text) {
  auto parsed = harness::parse_json_lines(text);
  for (const auto& e : parsed.errors) ADD_FAILURE() << e;
  return std::move(parsed.lines);
}

TraceRun trace_command(const std::string& binary, const std::vector<std::string>& probes,
                       const std::vector<std::string>& program_args,
                       const std::vector<std::string>& extra) {
  char tmpl[] = "/tmp/dynprobe-trace-XXXXXX";
  int fd = mkstemp(tmpl);
  if (fd >= 0) close(fd);
  std::vector<std::string> argv = {cli_path(), "trace", "--format", "json", "--output", tmpl};
  for (const auto& p : probes) {
    argv.push_back("-p");
    argv.push_back(p);
  }
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.push_back("--");
  argv.push_back(binary);
  argv.insert(argv.end(), program_args.begin(), program_args.end());
  TraceRun run;
  run.command = run_command(argv);
  std::ifstream f(tmpl);
  std::stringstream ss;
  ss << f.rdbuf();
  unlink(tmpl);
  run.records = parse_json_lines(ss.str());
  run.truth = parse_json_lines(run.command.out);
  return run;
}

namespace {

// The tests accept a gap only for a whole parameter or result that dynprobe
// declared {"$unavailable": REASON} with `allowed` in REASON.
harness::CompareOptions allow_unavailable(const std::string& allowed) {
  harness::CompareOptions opts;
  if (allowed.empty()) return opts;
  opts.gaps = [allowed](const harness::GapQuery& q) -> std::optional<size_t> {
    // At any depth: a struct keeps its captured fields and marks only the
    // one in a vector register.
    if (q.marker.type == "unavailable" && q.marker.detail.find(allowed) != std::string::npos)
      return 0;
    return std::nullopt;
  };
  return opts;
}

MatchCount report(const std::string& probe, const harness::Comparison& c) {
  if (c.truth_calls != c.records)
    ADD_FAILURE() << probe << ": " << c.records << " records vs " << c.truth_calls << " calls";
  for (const auto& f : c.findings)
    if (f.outcome == harness::Outcome::mismatch) ADD_FAILURE() << f.describe();
  return MatchCount{c.values(harness::Outcome::matched), c.count(harness::Outcome::gap)};
}

}  // namespace

MatchCount expect_calls_match(const std::vector<llvm::json::Object>& truth,
                              const std::vector<llvm::json::Object>& records,
                              const std::string& probe, const std::string& allowed_gap) {
  return report(probe,
                harness::compare_in_order(truth, records, probe, allow_unavailable(allowed_gap)));
}

MatchCount expect_calls_match_by_goid(const std::vector<llvm::json::Object>& truth,
                                      const std::vector<llvm::json::Object>& records,
                                      const std::string& probe) {
  return report(probe, harness::compare_by_goid(truth, records, probe));
}

}  // namespace dynprobe::test

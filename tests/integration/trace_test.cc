// `dynprobe trace` against real Go programs: each fixture prints the ground
// truth of its own calls, and every captured value is compared with it.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <set>
#include <thread>

#include "tests/integration/trace_support.h"

namespace dynprobe::test {
namespace {

using ::testing::HasSubstr;

class Trace : public ::testing::TestWithParam<std::string> {
 protected:
  std::string fixture(const std::string& name, const std::string& mode = "default") {
    return build_fixture(GetParam(), name, mode);
  }
  void expect_clean_exit(const TraceRun& run) {
    EXPECT_EQ(run.command.signal, 0) << "dynprobe crashed:\n" << run.command.err;
    EXPECT_EQ(run.command.exit_code, 0) << run.command.err;
    EXPECT_THAT(run.command.err, HasSubstr("command exited"));
    EXPECT_THAT(run.command.err, HasSubstr(" 0 drops"));
  }
};

TEST_P(Trace, IntegersArraysAndRecursionMatchGroundTruth) {
  for (const char* mode : {"default", "noopt"}) {
    SCOPED_TRACE(mode);
    std::string bin = fixture("money", mode);
    ASSERT_FALSE(bin.empty());
    auto run = trace_command(bin, {"main.Many", "main.Pair", "main.fib"});
    expect_clean_exit(run);
    MatchCount n;
    for (const char* probe : {"main.Many", "main.Pair", "main.fib"})
      n += expect_calls_match(run.truth, run.records, probe);
    EXPECT_GT(n.compared, 20u);
    for (const auto& r : run.records) {
      EXPECT_GT(r.getInteger("latency_ns").value_or(0), 0);
      EXPECT_EQ(r.getInteger("goid").value_or(0), 1) << "main runs on goroutine 1";
    }
  }
}

TEST_P(Trace, ExpressionListCapturesOnlyWhatWasAsked) {
  std::string bin = fixture("money");
  ASSERT_FALSE(bin.empty());
  auto run = trace_command(bin, {"main.Many(j, a, $0, @goid)"});
  expect_clean_exit(run);
  auto want = of_probe(run.truth, "main.Many");
  auto got = of_probe(run.records, "main.Many");
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    const auto* args = got[i]->getObject("args");
    const auto* ret = got[i]->getObject("ret");
    ASSERT_TRUE(args && ret);
    EXPECT_EQ(args->size(), 2u);
    EXPECT_EQ(json_diff(*want[i]->getObject("args")->get("j"), *args->get("j")), "");
    EXPECT_EQ(json_diff(*want[i]->getObject("args")->get("a"), *args->get("a")), "");
    EXPECT_EQ(json_diff(*want[i]->getObject("ret")->get("$0"), *ret->get("$0")), "");
    EXPECT_FALSE(got[i]->getInteger("latency_ns")) << "latency was not asked for";
  }
}

TEST_P(Trace, ArgumentsOnlyProbeNeedsNoReturnSite) {
  std::string bin = fixture("money");
  ASSERT_FALSE(bin.empty());
  auto run = trace_command(bin, {"main.fib(n)"});
  expect_clean_exit(run);
  auto want = of_probe(run.truth, "main.fib");
  auto got = of_probe(run.records, "main.fib");
  ASSERT_EQ(got.size(), want.size());
  // Recorded at entry, so in call order; the ground truth is in return order.
  std::multiset<int64_t> want_n, got_n;
  for (auto* w : want) want_n.insert(*w->getObject("args")->getInteger("n"));
  for (auto* g : got) got_n.insert(*g->getObject("args")->getInteger("n"));
  EXPECT_EQ(want_n, got_n);
}

TEST_P(Trace, EveryScalarKindAsArgumentAndResult) {
  const std::vector<std::string> probes = {
      "main.Bool",       "main.Int",     "main.Int8",    "main.Int16",   "main.Int32",
      "main.Int64",      "main.Uint",    "main.Uint8",   "main.Uint16",  "main.Uint32",
      "main.Uint64",     "main.Uintptr", "main.Float32", "main.Float64", "main.Complex64",
      "main.Complex128", "main.PtrSwap", "main.PtrLoad", "main.Narrow",  "main.Kinds",
      "main.Spill",      "main.Multi",   "main.Results", "main.Divmod"};
  for (const char* mode : {"default", "noopt"}) {
    SCOPED_TRACE(mode);
    std::string bin = fixture("scalars", mode);
    ASSERT_FALSE(bin.empty());
    auto run = trace_command(bin, probes);
    expect_clean_exit(run);
    // Under the register ABI, floats in X0-X14 cannot be read by BPF at a
    // uprobe (docs/bpf-backend.md); they must be declared unavailable, never
    // wrong. Under ABI0 every value is on the stack and must match.
    std::string gap = register_abi(GetParam()) ? "vector register" : "";
    MatchCount n;
    for (const auto& p : probes) n += expect_calls_match(run.truth, run.records, p, gap);
    EXPECT_GT(n.compared, 150u);
    if (gap.empty()) EXPECT_EQ(n.gaps, 0u);
    RecordProperty("values_checked", static_cast<int>(n.compared));
    RecordProperty("values_unavailable", static_cast<int>(n.gaps));
    std::cout << "[ values ] " << GetParam() << " " << mode << ": " << n.compared << " matched, "
              << n.gaps << " unavailable (vector registers)\n";
  }
}

TEST_P(Trace, GoroutinesPairEntryAndReturnByGoroutineAndDepth) {
  std::string bin = fixture("goroutines");
  ASSERT_FALSE(bin.empty());
  auto run = trace_command(bin, {"main.work", "main.depth"});
  expect_clean_exit(run);
  EXPECT_THAT(run.command.err, HasSubstr(" 0 calls in flight"));
  MatchCount n = expect_calls_match_by_goid(run.truth, run.records, "main.work");
  n += expect_calls_match_by_goid(run.truth, run.records, "main.depth");
  EXPECT_GT(n.compared, 100u);
  // Latency covers the sleep inside the call and fits inside the caller's own timing.
  auto want = of_probe(run.truth, "main.work");
  auto got = of_probe(run.records, "main.work");
  for (const auto* w : want) {
    int64_t goid = *w->getInteger("goid"), id = *w->getObject("args")->getInteger("id");
    int64_t d = *w->getObject("args")->getInteger("d");
    const llvm::json::Object* match = nullptr;
    for (const auto* g : got)
      if (g->getInteger("goid") == goid && g->getObject("args")->getInteger("id") == id &&
          g->getObject("args")->getInteger("d") == d)
        match = g;
    ASSERT_NE(match, nullptr) << "no record for work(" << id << ") on goroutine " << goid;
    int64_t latency = match->getInteger("latency_ns").value_or(-1);
    EXPECT_GE(latency, *w->getInteger("sleep_ns"));
    EXPECT_LE(latency, *w->getInteger("outer_ns"));
  }
}

TEST_P(Trace, StackGrowthYieldsOneRecordPerCall) {
  std::string bin = fixture("stackgrow");
  ASSERT_FALSE(bin.empty());
  auto run = trace_command(bin, {"main.grow", "main.leaf"});
  expect_clean_exit(run);
  EXPECT_THAT(run.command.err, HasSubstr(" 0 calls in flight"));
  EXPECT_THAT(run.command.err, HasSubstr(" 0 returns without entry"));
  MatchCount n = expect_calls_match_by_goid(run.truth, run.records, "main.grow");
  n += expect_calls_match(run.truth, run.records, "main.leaf");
  EXPECT_EQ(of_probe(run.records, "main.leaf").size(), 1000u);
  EXPECT_GT(n.compared, 3000u);
}

INSTANTIATE_TEST_SUITE_P(GoVersions, Trace, ::testing::ValuesIn(go_versions()),
                         [](const auto& info) { return go_version_test_name(info.param); });

class TraceTargets : public ::testing::Test {
 protected:
  std::string bin() { return build_fixture(go_versions().back(), "money", "default"); }
};

TEST_F(TraceTargets, ProcessExitingMidTraceEndsTheSessionCleanly) {
  std::string b = bin();
  ASSERT_FALSE(b.empty());
  // The fixture runs about a second; dynprobe attaches by PID while it runs.
  pid_t pid = fork();
  if (pid == 0) {
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 1);
    execl(b.c_str(), b.c_str(), "-loop", "40", "-sleep", "25ms", nullptr);
    _exit(127);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto start = std::chrono::steady_clock::now();
  auto r = run_command({cli_path(), "trace", "--pid", std::to_string(pid), "-p", "main.fib",
                        "--format", "json", "--duration", "30"});
  auto took = std::chrono::steady_clock::now() - start;
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the target was disturbed";
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("process " + std::to_string(pid) + " exited"));
  EXPECT_LT(took, std::chrono::seconds(10));
  EXPECT_FALSE(parse_json_lines(r.out).empty()) << "records while it ran";
}

TEST_F(TraceTargets, SignalDetachesAndLeavesTheTargetRunning) {
  std::string b = bin();
  ASSERT_FALSE(b.empty());
  pid_t target = fork();
  if (target == 0) {
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 1);
    execl(b.c_str(), b.c_str(), "-loop", "200", "-sleep", "10ms", nullptr);
    _exit(127);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  pid_t tracer = fork();
  if (tracer == 0) {
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 1);
    dup2(devnull, 2);
    execl(cli_path().c_str(), "dynprobe", "trace", "--pid", std::to_string(target).c_str(), "-p",
          "main.fib", nullptr);
    _exit(127);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  kill(tracer, SIGINT);
  int tstatus = 0;
  waitpid(tracer, &tstatus, 0);
  EXPECT_TRUE(WIFEXITED(tstatus) && WEXITSTATUS(tstatus) == 0);
  // With the probes gone the target runs on and finishes normally.
  int status = 0;
  waitpid(target, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the target was disturbed";
}

TEST_F(TraceTargets, BadInputGivesOneLineErrors) {
  std::string b = bin();
  ASSERT_FALSE(b.empty());
  struct Case {
    std::vector<std::string> args;
    std::string needle;
  } cases[] = {
      {{"trace", "-p", "main.fib", "--pid", "999999"}, "no process with PID 999999"},
      {{"trace", "-p", "main.nosuch", "--", b}, "unknown function main.nosuch"},
      {{"trace", "-p", "main.fib(m)", "--", b},
       "main.fib has no parameter or named result 'm'; parameters: n"},
      {{"trace", "-p", "main.fib(n,,)", "--", b}, "empty expression"},
      {{"trace", "-p", "main.fib"}, "give exactly one target"},
      {{"trace", "--", b}, "give at least one probe"},
      {{"trace", "-p", "main.fib", "--", "/nonexistent/cmd"}, "command not found"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> argv = {cli_path()};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    auto r = run_command(argv);
    SCOPED_TRACE(c.needle);
    EXPECT_EQ(r.signal, 0);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.err, HasSubstr(c.needle));
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_TRUE(r.out.empty()) << "the command must not have run: " << r.out;
  }
}

}  // namespace
}  // namespace dynprobe::test

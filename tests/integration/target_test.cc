// `dynprobe trace --binary PATH`: every process running the file, also those
// started after the probes were attached.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <set>
#include <thread>

#include "tests/integration/trace_support.h"

namespace dynprobe::test {
namespace {

TEST(TraceBinary, EveryProcessRunningTheFileIsTraced) {
  std::string bin = build_fixture(go_versions().back(), "money", "default");
  ASSERT_FALSE(bin.empty());
  char out[] = "/tmp/dynprobe-binary-XXXXXX";
  int fd = mkstemp(out);
  ASSERT_GE(fd, 0);
  close(fd);
  pid_t tracer = fork();
  if (tracer == 0) {
    execl(cli_path().c_str(), "dynprobe", "trace", "--binary", bin.c_str(), "-p", "main.fib",
          "--format", "json", "--output", out, "--duration", "4", nullptr);
    _exit(127);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  // Two processes started after the probes were attached.
  std::vector<CommandResult> runs = {run_command({bin}), run_command({bin})};
  int status = 0;
  waitpid(tracer, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  auto records = [&] {
    FILE* f = fopen(out, "r");
    std::string text;
    char buf[4096];
    size_t n;
    while (f && (n = fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
    if (f) fclose(f);
    unlink(out);
    return parse_json_lines(text);
  }();
  std::set<int64_t> pids;
  for (const auto& r : records) pids.insert(r.getInteger("pid").value_or(0));
  EXPECT_EQ(pids.size(), 2u) << "records from both processes";
  size_t calls = 0;
  for (const auto& r : runs) {
    EXPECT_EQ(r.exit_code, 0);
    calls += of_probe(parse_json_lines(r.out), "main.fib").size();
  }
  EXPECT_EQ(of_probe(records, "main.fib").size(), calls);
}

}  // namespace
}  // namespace dynprobe::test

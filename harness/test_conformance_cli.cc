// The runner itself, end to end on one cell: a difference not in the gap
// file fails the run with one line per value, a gap that no longer occurs is
// a warning, bad usage is one line and exit 2.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "harness/command.h"

namespace dynprobe::harness {
namespace {

using ::testing::HasSubstr;

std::string env(const char* name) {
  const char* v = getenv(name);
  return v ? v : "";
}

std::string runner() { return env("DYNPROBE_CONFORMANCE"); }

std::string newest() {
  return trim(run_command({env("DYNPROBE_SOURCE_ROOT") + "/harness/toolchains", "newest"}).out);
}

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class TempFile {
 public:
  explicit TempFile(const std::string& text = "") {
    char tmpl[] = "/tmp/conformance-test-XXXXXX";
    int fd = mkstemp(tmpl);
    if (fd >= 0) close(fd);
    path_ = tmpl;
    std::ofstream(path_) << text;
  }
  ~TempFile() { unlink(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(ConformanceRunner, UnlistedDifferencesFailWithOneLineEach) {
  // Under the register ABI money's float arguments are unavailable: without
  // the gap file every one of them is a mismatch.
  std::string go = newest();
  TempFile gaps("{\"gaps\": []}");
  TempFile json;
  auto r = run_command({runner(), "--go", go, "--modes", "default", "--fixtures", "money",
                        "--known-gaps", gaps.path(), "--report-json", json.path()});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  std::regex line("MISMATCH money go" + std::regex_replace(go, std::regex("\\."), "\\.") +
                  " default main\\.Mix call 0 args\\.b: expected 2\\.5, captured "
                  "\\{\"\\$unavailable\":\"[^\"]*vector register[^\"]*\"\\}\n");
  EXPECT_TRUE(std::regex_search(r.out, line)) << r.out;
  // (While dynprobe refuses the inline-only main.add, the session with every
  // probe fails; the Mix line above shows the others were still compared.)
  std::string report = read(json.path());
  EXPECT_THAT(report, HasSubstr("\"mismatches\""));
  EXPECT_THAT(report, HasSubstr("main.Mix call 0 args.b"));
}

TEST(ConformanceRunner, AGapThatNoLongerOccursIsAStaleWarning) {
  std::string go = newest();
  std::string real = read(env("DYNPROBE_SOURCE_ROOT") + "/harness/known-gaps.json");
  auto end = real.rfind(']');
  ASSERT_NE(end, std::string::npos);
  TempFile gaps(real.substr(0, end) +
                R"(, {"go":"*","mode":"*","fixture":"money","function":"main.Many","field":"args.j",
                 "kind":"unavailable:stack","reason":"a test rule that never applies","issue":4}]})");
  auto r = run_command({runner(), "--go", go, "--modes", "default", "--fixtures", "money",
                        "--known-gaps", gaps.path()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("warning: stale gap"));
  EXPECT_THAT(r.out, HasSubstr("main.Many args.j unavailable:stack"));
  EXPECT_THAT(r.out, HasSubstr(" 0 mismatches"));
}

TEST(ConformanceRunner, BadUsageIsOneLine) {
  for (std::vector<std::string> args : {std::vector<std::string>{"--modes", "fast"},
                                        {"--fixtures", "nosuch"},
                                        {"--go", "one"},
                                        {"--all", "--go", "1.19"},
                                        {"--known-gaps", "/nonexistent.json"}}) {
    args.insert(args.begin(), runner());
    auto r = run_command(args);
    EXPECT_EQ(r.exit_code, 2) << args[1];
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
}

}  // namespace
}  // namespace dynprobe::harness

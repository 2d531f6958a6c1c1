#include "tests/integration/fixture_support.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <regex>
#include <sstream>

namespace dynprobe::test {

CommandResult run_command(const std::vector<std::string>& argv) {
  return harness::run_command(argv, {.timeout_seconds = 900});
}

std::string source_root() {
  const char* s = getenv("DYNPROBE_SOURCE_ROOT");
  return s ? s : ".";
}

std::string cli_path() {
  const char* s = getenv("DYNPROBE_CLI");
  return s ? s : "dynprobe";
}

std::vector<std::string> go_versions() {
  std::string spec;
  if (const char* e = getenv("DYNPROBE_GO_VERSIONS")) {
    spec = e;
  } else {
    auto newest = run_command({source_root() + "/harness/toolchains", "newest"});
    spec = "1.15 1.19 " + harness::trim(newest.out);
  }
  std::istringstream in(spec);
  std::vector<std::string> out;
  for (std::string v; in >> v;) out.push_back(v);
  return out;
}

bool register_abi(const std::string& go_version) {
  return std::stoi(go_version.substr(go_version.find('.') + 1)) >= 17;
}

std::string go_version_test_name(const std::string& go_version) {
  std::string n = "go" + go_version;
  std::replace(n.begin(), n.end(), '.', '_');
  return n;
}

std::string build_fixture(const std::string& go_version, const std::string& fixture,
                          const std::string& mode) {
  auto r = run_command({source_root() + "/harness/build-fixture", go_version, fixture, mode});
  if (r.exit_code != 0) {
    ADD_FAILURE() << "building fixture " << fixture << " with Go " << go_version << " (" << mode
                  << ") failed:\n"
                  << r.err;
    return "";
  }
  return harness::trim(r.out);
}

std::optional<llvm::json::Object> describe_json(const std::string& binary,
                                                const std::string& function,
                                                const std::vector<std::string>& extra) {
  std::vector<std::string> argv = {cli_path(), "describe", binary, function, "--format", "json"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  auto r = run_command(argv);
  if (r.exit_code != 0) {
    ADD_FAILURE() << "describe " << function << " failed (exit " << r.exit_code << ", signal "
                  << r.signal << "): " << r.err;
    return std::nullopt;
  }
  auto parsed = llvm::json::parse(r.out);
  if (!parsed) {
    ADD_FAILURE() << "describe printed invalid JSON: " << llvm::toString(parsed.takeError());
    return std::nullopt;
  }
  if (auto* o = parsed->getAsObject()) return std::move(*o);
  ADD_FAILURE() << "describe JSON is not an object";
  return std::nullopt;
}

std::string str(const llvm::json::Object& o, const char* key) {
  auto v = o.getString(key);
  if (!v) {
    ADD_FAILURE() << "missing string field " << key;
    return "";
  }
  return v->str();
}

int64_t num(const llvm::json::Object& o, const char* key) {
  auto v = o.getInteger(key);
  if (!v) {
    ADD_FAILURE() << "missing integer field " << key;
    return -1;
  }
  return *v;
}

std::vector<uint64_t> objdump_returns(const std::string& binary, uint64_t start, uint64_t end) {
  char s[32], e[32];
  snprintf(s, sizeof s, "--start-address=0x%lx", static_cast<unsigned long>(start));
  snprintf(e, sizeof e, "--stop-address=0x%lx", static_cast<unsigned long>(end));
  auto r = run_command({"objdump", "-d", "--no-show-raw-insn", s, e, binary});
  std::vector<uint64_t> out;
  std::regex ret_line(R"(^\s*([0-9a-f]+):\s+ret)");
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_search(line, m, ret_line)) out.push_back(std::stoull(m[1], nullptr, 16));
  }
  return out;
}

}  // namespace dynprobe::test

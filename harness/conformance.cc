// harness/conformance: every fixture x Go toolchain x build mode, traced by
// dynprobe and compared value by value with the fixture's own ground truth.
// Exit 0 when every difference is a known gap (harness/known-gaps.json), 1
// on any other, 2 on bad usage. docs/conformance.md explains the output.
#include <algorithm>
#include <boost/program_options.hpp>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "harness/cell_run.h"
#include "harness/command.h"
#include "harness/fixture_table.h"
#include "harness/known_gaps.h"
#include "harness/matrix_report.h"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace dynprobe::harness {
namespace {

constexpr const char* kDocBegin = "<!-- conformance-report:begin -->";
constexpr const char* kDocEnd = "<!-- conformance-report:end -->";

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::string item;
  for (char c : s + ",") {
    if (c == ',' || c == ' ') {
      if (!item.empty()) out.push_back(item);
      item.clear();
    } else {
      item += c;
    }
  }
  return out;
}

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = getenv(name);
  return v && *v ? v : fallback;
}

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

Result<std::vector<std::string>> known_toolchains(const std::string& root) {
  auto r = run_command({root + "/harness/toolchains", "list"}, {"", 60});
  if (r.exit_code != 0) return fail("harness/toolchains list failed: " + trim(r.err));
  std::vector<std::string> out;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);)
    if (auto tab = line.find('\t'); tab != std::string::npos) out.push_back(line.substr(0, tab));
  return out;
}

Result<std::string> newest_toolchain(const std::string& root) {
  auto r = run_command({root + "/harness/toolchains", "newest"}, {"", 60});
  if (r.exit_code != 0) return fail("harness/toolchains newest failed: " + trim(r.err));
  return trim(r.out);
}

Status write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  if (!out) return fail("cannot write " + path);
  return {};
}

// Replaces the generated part of docs/conformance.md, between its markers.
Status write_docs(const std::string& path, const std::string& markdown) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string doc = ss.str();
  auto b = doc.find(kDocBegin), e = doc.find(kDocEnd);
  if (b == std::string::npos || e == std::string::npos || e < b)
    return fail(path + " has no " + kDocBegin + " ... " + kDocEnd + " section to replace");
  b += std::string(kDocBegin).size();
  return write_file(path, doc.substr(0, b) + "\n" + markdown + doc.substr(e));
}

struct Options {
  bool all = false;
  std::string go, toolchains, modes, fixtures, dynprobe, report_json, report_md, source_root,
      known_gaps;
  bool write_docs = false;
  double timeout = 300;
  size_t max_lines = 50;
};

int run(int argc, char** argv) {
  Options o;
  po::options_description desc(
      "harness/conformance [options]: trace every fixture under dynprobe and compare with its "
      "ground truth");
  desc.add_options()("help,h", "show this help")(
      "all", po::bool_switch(&o.all),
      "every toolchain (each Go version harness/toolchains knows, gccgo, g++, clang++, rustc) x "
      "every "
      "mode x every fixture")(
      "toolchains", po::value(&o.toolchains),
      "toolchains: Go versions (1.19), gccgo, g++, clang++, rustc (default: the Go versions of "
      "--go, then gccgo, g++, clang++ and rustc)")(
      "go", po::value(&o.go),
      "Go versions, e.g. 1.15,1.19,1.27 (default: $DYNPROBE_GO_VERSIONS, else 1.15, 1.19 and the "
      "newest); alone, it selects only these")(
      "modes", po::value(&o.modes),
      "gc: default,noopt,pie,trimpath,stripped (= stripped, stripped-debug-file, "
      "stripped-build-id); gccgo and C++: O0,O2; Rust: debug,release; default: "
      "default,noopt,O0,O2,debug,release")("fixtures", po::value(&o.fixtures),
                                           "fixtures (default: all)")(
      "dynprobe", po::value(&o.dynprobe),
      "the dynprobe CLI (default: $DYNPROBE_CLI, else the built one)")(
      "report-json", po::value(&o.report_json), "write the matrix as JSON to FILE")(
      "report-md", po::value(&o.report_md), "write the matrix as Markdown to FILE")(
      "write-docs", po::bool_switch(&o.write_docs),
      "replace the generated section of docs/conformance.md")(
      "known-gaps", po::value(&o.known_gaps), "the gap list (default: harness/known-gaps.json)")(
      "source-root", po::value(&o.source_root),
      "the dynprobe source tree (default: $DYNPROBE_SOURCE_ROOT, else the one built from)")(
      "timeout", po::value(&o.timeout), "seconds one dynprobe session may take (default 300)")(
      "max-lines", po::value(&o.max_lines), "mismatch lines printed per cell (default 50)");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "conformance: " << e.what() << "\n";
    return 2;
  }
  if (vm.count("help")) {
    std::cout << desc;
    return 0;
  }
  auto usage = [](const std::string& msg) {
    std::cerr << "conformance: " << msg << "\n";
    return 2;
  };
  if (o.all &&
      (vm.count("go") || vm.count("toolchains") || vm.count("modes") || vm.count("fixtures")))
    return usage("--all selects everything; leave out --go, --toolchains, --modes and --fixtures");

  std::string root =
      o.source_root.empty() ? env_or("DYNPROBE_SOURCE_ROOT", DYNPROBE_SOURCE_DIR) : o.source_root;
  RunnerConfig config{root,
                      o.dynprobe.empty() ? env_or("DYNPROBE_CLI", DYNPROBE_BUILT_CLI) : o.dynprobe,
                      o.timeout};
  if (access(config.dynprobe.c_str(), X_OK) != 0)
    return usage("no dynprobe CLI at " + config.dynprobe + " (build it, or pass --dynprobe)");

  // Go versions first, then the other toolchains in family order.
  const std::vector<std::string> others = {"gccgo", "g++", "clang++", "rustc"};
  std::vector<std::string> go;
  if (o.all) {
    auto known = known_toolchains(root);
    if (!known) return usage(known.error().message);
    go = *known;
  } else if (!o.go.empty()) {
    go = split_list(o.go);
  } else if (const char* e = getenv("DYNPROBE_GO_VERSIONS"); e && *e) {
    go = split_list(e);
  } else if (o.toolchains.empty()) {
    auto newest = newest_toolchain(root);
    if (!newest) return usage(newest.error().message);
    go = {"1.15", "1.19"};
    if (*newest != "1.15" && *newest != "1.19") go.push_back(*newest);
  }
  for (const auto& g : go)
    if (!go_minor(g)) return usage("'" + g + "' is not a Go version like 1.19");
  std::vector<std::string> toolchains;
  if (!o.toolchains.empty()) {
    for (const auto& t : split_list(o.toolchains)) {
      if (family_of(t) == nullptr)
        return usage("unknown toolchain '" + t +
                     "' (Go versions like 1.19, gccgo, g++, clang++, rustc)");
      toolchains.push_back(t);
    }
  } else {
    toolchains = go;
    // --go alone narrows the run to gc, as it always did.
    if (o.go.empty()) toolchains.insert(toolchains.end(), others.begin(), others.end());
  }

  std::vector<std::string> modes;
  for (const auto& m :
       o.all ? all_modes()
             : split_list(o.modes.empty() ? "default,noopt,O0,O2,debug,release" : o.modes)) {
    auto expanded = expand_mode(m);
    if (expanded.empty()) {
      std::string names;
      for (const auto& a : all_modes()) names += " " + a;
      return usage("unknown mode '" + m + "' (modes:" + names + ")");
    }
    for (const auto& e : expanded)
      if (std::find(modes.begin(), modes.end(), e) == modes.end()) modes.push_back(e);
  }

  auto table = fixture_table();
  std::vector<FixtureSpec> fixtures;
  if (o.fixtures.empty()) {
    fixtures = table;
  } else {
    for (const auto& name : split_list(o.fixtures)) {
      auto it = std::find_if(table.begin(), table.end(), [&](auto& f) { return f.name == name; });
      if (it == table.end()) {
        std::string names;
        for (const auto& f : table) names += " " + f.name;
        return usage("unknown fixture '" + name + "' (fixtures:" + names + ")");
      }
      fixtures.push_back(*it);
    }
  }

  // The cells: each toolchain with the modes its family builds and the
  // fixtures of its language.
  std::vector<std::pair<Cell, const FixtureSpec*>> cells;
  for (const auto& t : toolchains)
    for (const auto& m : modes)
      for (const auto& f : fixtures)
        if (builds(t, m, f)) cells.push_back({Cell{t, m, f.name}, &f});
  if (cells.empty())
    return usage("no fixture is built by any of the selected toolchains in the selected modes");

  auto gaps =
      KnownGaps::load(o.known_gaps.empty() ? root + "/harness/known-gaps.json" : o.known_gaps);
  if (!gaps) return usage(gaps.error().message);

  Report report;
  auto keep = [](std::vector<std::string>& v, const std::string& x) {
    if (std::find(v.begin(), v.end(), x) == v.end()) v.push_back(x);
  };
  for (const auto& [c, f] : cells) {
    keep(report.toolchains, c.toolchain);
    keep(report.modes, c.mode);
    keep(report.fixtures, c.fixture);
  }
  // The selection, not the report paths: what a reader needs to repeat it.
  auto joined = [](const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ",") + x;
    return s;
  };
  report.command = o.all ? "harness/conformance --all"
                         : "harness/conformance --toolchains " + joined(report.toolchains) +
                               " --modes " + joined(report.modes) + " --fixtures " +
                               joined(report.fixtures);
  report.started = utc_now();
  auto start = std::chrono::steady_clock::now();

  CellRunner runner(config, *gaps);
  size_t i = 0;
  for (const auto& [cell, spec] : cells) {
    CellResult c = runner.run(cell, *spec);
    std::string tc = go_minor(cell.toolchain) ? "go" + cell.toolchain : cell.toolchain;
    char line[256];
    snprintf(line, sizeof line,
             "[%zu/%zu] %-10s %-7s %-19s %6zu / %6zu matched, %5zu gaps, %zu mismatches (%.1f s)",
             ++i, cells.size(), cell.fixture.c_str(), tc.c_str(), cell.mode.c_str(),
             c.total.matched, c.total.checked, c.total.gaps, c.total.mismatches, c.seconds);
    std::cout << line << "\n";
    for (size_t k = 0; k < c.mismatches.size() && k < o.max_lines; ++k)
      std::cout << c.mismatches[k] << "\n";
    if (c.mismatches.size() > o.max_lines)
      std::cout << "... " << c.mismatches.size() - o.max_lines << " more mismatches in "
                << cell_name(cell) << "\n";
    std::cout.flush();
    report.cells.push_back(std::move(c));
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  for (const auto& s : gap_statuses(report, *gaps))
    if (s.state == GapState::stale)
      std::cout << "warning: stale gap #" << s.rule << " " << gaps->rules()[s.rule].summary()
                << ": could apply in " << s.cells_in_scope
                << " cells and occurred in none; remove it from known-gaps.json\n";

  Tally t = total(report);
  printf(
      "conformance: %zu cells, %zu values checked, %zu matched, %zu known gaps, %zu mismatches "
      "in %.0f s\n",
      report.cells.size(), t.checked, t.matched, t.gaps, t.mismatches, report.seconds);

  int status = t.mismatches == 0 ? 0 : 1;
  auto write = [&](Status s) {
    if (!s) {
      std::cerr << "conformance: " << s.error().message << "\n";
      status = 1;
    }
  };
  if (!o.report_json.empty()) write(write_file(o.report_json, report_json(report, *gaps)));
  std::string md;
  if (!o.report_md.empty() || o.write_docs) md = report_markdown(report, *gaps);
  if (!o.report_md.empty()) write(write_file(o.report_md, md));
  if (o.write_docs) write(write_docs(root + "/docs/conformance.md", md));
  return status;
}

}  // namespace
}  // namespace dynprobe::harness

int main(int argc, char** argv) { return dynprobe::harness::run(argc, argv); }

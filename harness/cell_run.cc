#include "harness/cell_run.h"

#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "harness/command.h"
#include "harness/ground_truth.h"

namespace dynprobe::harness {

namespace fs = std::filesystem;
namespace json = llvm::json;

std::vector<std::string> all_modes() {
  std::vector<std::string> out;
  for (const Family& f : families())
    for (const auto& m : f.modes)
      if (std::find(out.begin(), out.end(), m) == out.end()) out.push_back(m);
  return out;
}

std::vector<std::string> expand_mode(const std::string& mode) {
  if (mode == "stripped") return {"stripped", "stripped-debug-file", "stripped-build-id"};
  for (const auto& m : all_modes())
    if (m == mode) return {mode};
  return {};
}

std::string cell_name(const Cell& cell) {
  std::string tc = go_minor(cell.toolchain) ? "go" + cell.toolchain : cell.toolchain;
  return cell.fixture + " " + tc + " " + cell.mode;
}

namespace {

// A private directory, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "dynprobe-conformance-XXXXXX").string();
    if (mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string last_line(const std::string& text) {
  std::string s = trim(text);
  // The last line of a tool's stderr says why it stopped; earlier ones are progress.
  auto nl = s.rfind('\n');
  return nl == std::string::npos ? s : s.substr(nl + 1);
}

std::string clip(std::string s, size_t max = 400) {
  if (s.size() > max) s = s.substr(0, max) + "...";
  return s;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The GNU build-id as readelf (not dynprobe) reads it: an independent oracle.
std::string gnu_build_id(const std::string& binary) {
  auto r = run_command({"readelf", "--notes", "--wide", binary});
  std::smatch m;
  static const std::regex id(R"(Build ID: ([0-9a-f]+))");
  if (r.exit_code == 0 && std::regex_search(r.out, m, id)) return m[1];
  return "";
}

bool same_file(const std::string& a, const std::string& b) {
  std::error_code ec;
  return fs::weakly_canonical(a, ec) == fs::weakly_canonical(b, ec);
}

std::optional<int64_t> summary_count(const std::string& err, const std::string& what) {
  std::smatch m;
  std::regex re("(\\d+) " + what);
  if (std::regex_search(err, m, re)) return std::stoll(m[1]);
  return std::nullopt;
}

}  // namespace

CellRunner::Kinds CellRunner::kinds(const Cell& cell, const std::string& function,
                                    const std::vector<std::string>& binary_args,
                                    const std::string& debug_root, CellResult& result) {
  std::string key = cell.toolchain + " " + cell.fixture + " " + function;
  if (auto it = kinds_.find(key); it != kinds_.end()) return it->second;
  Kinds k;
  std::vector<std::string> argv = {config_.dynprobe, "describe", binary_args.front(),
                                   function,         "--format", "json"};
  argv.insert(argv.end(), binary_args.begin() + 1, binary_args.end());
  auto r = run_command(argv, {debug_root, 60});
  auto parsed = json::parse(r.out);
  const json::Object* o = parsed ? parsed->getAsObject() : nullptr;
  if (r.exit_code != 0 || o == nullptr) {
    if (!parsed) llvm::consumeError(parsed.takeError());
    result.notes.push_back("describe " + function + " failed: " + last_line(r.err));
    return k;
  }
  if (const auto* params = o->getArray("params"))
    for (const auto& p : *params)
      if (const auto* po = p.getAsObject())
        k["args." + po->getString("name").value_or("?").str()] =
            po->getString("kind").value_or("?").str();
  if (const auto* results = o->getArray("results"))
    for (size_t i = 0; i < results->size(); ++i)
      if (const auto* ro = (*results)[i].getAsObject())
        k["ret.$" + std::to_string(i)] = ro->getString("kind").value_or("?").str();
  k["latency_ns"] = "latency";
  kinds_[key] = k;
  return k;
}

CellResult CellRunner::run(const Cell& cell, const FixtureSpec& spec) {
  auto start = std::chrono::steady_clock::now();
  CellResult res;
  res.cell = cell;
  const std::string where = cell_name(cell);
  auto fail = [&](const std::string& what) {
    res.mismatches.push_back("FAIL " + where + ": " + clip(what, 600));
    ++res.total.mismatches;
  };
  // A rule can only turn stale where the functions it covers were compared.
  std::set<std::string> compared;
  auto finish = [&] {
    for (size_t i = 0; i < gaps_.rules().size(); ++i) {
      const auto& rule = gaps_.rules()[i];
      if (!rule.in_scope(cell)) continue;
      for (const auto& f : compared)
        if (rule.covers_function(f)) res.rules_in_scope.insert(i);
    }
    res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return std::move(res);
  };

  TempDir tmp;
  if (tmp.path().empty()) {
    fail("cannot create a temporary directory");
    return finish();
  }

  // Build (cached by the build scripts).
  auto built = run_command(
      build_command(config_.source_root, cell.toolchain, cell.mode, cell.fixture), {"", 3600});
  if (built.exit_code != 0) {
    fail("build failed: " + last_line(built.err));
    return finish();
  }
  std::string binary = trim(built.out);

  // How dynprobe is to find DWARF, and where it must say it found it.
  std::vector<std::string> dwarf_args;
  std::string debug_root, expect_debug;
  if (cell.mode == "stripped") expect_debug = binary + ".debug";  // the debuglink, beside it
  if (cell.mode == "stripped-debug-file") {
    // A copy elsewhere: its debuglink names a file that is not beside it.
    std::string copy = tmp.path() + "/" + fs::path(binary).filename().string();
    std::error_code ec;
    fs::copy_file(binary, copy, ec);
    if (ec) {
      fail("cannot copy " + binary + ": " + ec.message());
      return finish();
    }
    expect_debug = binary + ".debug";
    dwarf_args = {"--debug-file", expect_debug};
    binary = copy;
  }
  if (cell.mode == "stripped-build-id") {
    std::string id = gnu_build_id(binary);
    if (id.size() < 3) {
      fail("readelf finds no GNU build-id in " + binary);
      return finish();
    }
    debug_root = tmp.path() + "/debug";
    std::string dir = debug_root + "/.build-id/" + id.substr(0, 2);
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (!ec) fs::copy_file(binary + ".debug", dir + "/" + id.substr(2) + ".debug", ec);
    if (ec) {
      fail("cannot set up the private debug root: " + ec.message());
      return finish();
    }
    expect_debug = "/usr/lib/debug/.build-id/" + id.substr(0, 2) + "/" + id.substr(2) + ".debug";
  }
  std::vector<std::string> binary_args = {binary};
  binary_args.insert(binary_args.end(), dwarf_args.begin(), dwarf_args.end());

  const std::string& first = spec.functions.front().name;
  if (!expect_debug.empty()) {
    // Without the lookup under test, the binary must have no DWARF: proves
    // that the way under test is the one that found it.
    if (cell.mode != "stripped") {
      auto bare =
          run_command({config_.dynprobe, "describe", binary, first, "--format", "json"}, {"", 60});
      if (bare.exit_code == 0)
        fail("control: describe found DWARF for " + binary + " without " +
             (debug_root.empty() ? "--debug-file" : "the build-id tree"));
    }
    std::vector<std::string> argv = {config_.dynprobe, "describe", binary, first,
                                     "--format",       "json"};
    argv.insert(argv.end(), dwarf_args.begin(), dwarf_args.end());
    auto d = run_command(argv, {debug_root, 60});
    auto parsed = json::parse(d.out);
    const json::Object* o = parsed ? parsed->getAsObject() : nullptr;
    if (!parsed) llvm::consumeError(parsed.takeError());
    auto found = o ? o->getString("debug_file") : std::nullopt;
    res.debug_file = found ? found->str() : "";
    if (d.exit_code != 0 || !found)
      fail("describe did not find the debug file " + expect_debug + ": " + last_line(d.err));
    else if (res.debug_file != expect_debug && !same_file(res.debug_file, expect_debug))
      fail("DWARF read from " + found->str() + ", expected " + expect_debug);
  }

  // Functions dynprobe is known to refuse run alone, so that the refusal
  // cannot take the others down.
  std::vector<std::string> together, alone;
  for (const auto& f : spec.functions)
    (gaps_.probe_error_rules(cell, f.name).empty() ? together : alone).push_back(f.name);

  CompareOptions opts;
  opts.latency_bounds = true;
  opts.gaps = [&](const GapQuery& q) { return gaps_.match(cell, q.probe, q.field, q.marker); };

  auto tally = [&](const Comparison& c, const std::string& function) {
    const Kinds kinds = this->kinds(cell, function, binary_args, debug_root, res);
    for (const auto& f : c.findings) {
      // Where describe does not know the value (results of an inline-only
      // function), its ground-truth shape stands in: "integer", "float"...
      auto it = kinds.find(f.root);
      std::string kind = it != kinds.end()      ? it->second
                         : f.root.empty()       ? "(whole call)"
                         : f.root_shape.empty() ? "unknown"
                                                : "(" + f.root_shape + ")";
      Tally& k = res.by_kind[kind];
      Tally add;
      add.checked = f.values;
      if (f.outcome == Outcome::matched) add.matched = f.values;
      if (f.outcome == Outcome::gap) {
        add.gaps = f.values;
        res.gap_values[*f.rule] += f.values;
      }
      if (f.outcome == Outcome::mismatch) {
        add.mismatches = 1;
        std::string line = "MISMATCH " + where + " " + f.probe;
        if (f.call) line += " call " + std::to_string(*f.call);
        if (!f.group.empty()) line += " (" + f.group + ")";
        if (!f.field.empty()) line += " " + f.field;
        res.mismatches.push_back(line + ": expected " + clip(f.expected) + ", captured " +
                                 clip(f.captured));
      }
      k += add;
      res.total += add;
    }
    compared.insert(function);
    res.calls += c.truth_calls;
    res.records += c.records;
  };

  auto trace = [&](const std::vector<std::string>& functions) {
    std::string out = tmp.path() + "/records.json";
    std::vector<std::string> argv = {config_.dynprobe, "trace",    "--format",
                                     "json",           "--output", out};
    // The truth has one line per call with its results; a record of an
    // inlined call site has neither results nor a place in that order, so
    // the matrix compares out-of-line calls only (tests/integration/
    // inline_test.cc checks the inlined sites against the inlined fixture).
    argv.push_back("--no-inline");
    for (const auto& f : functions) {
      argv.push_back("-p");
      argv.push_back(f);
    }
    argv.insert(argv.end(), dwarf_args.begin(), dwarf_args.end());
    argv.push_back("--");
    argv.push_back(binary);
    argv.insert(argv.end(), spec.args.begin(), spec.args.end());
    auto r = run_command(argv, {debug_root, config_.timeout_seconds});
    std::string records = read_file(out);
    fs::remove(out);
    return std::pair{r, records};
  };

  auto matching = [&](const std::string& name) {
    for (const auto& f : spec.functions)
      if (f.name == name) return f.matching;
    return Matching::in_order;
  };
  auto compare = [&](const JsonLines& truth, const JsonLines& records, const std::string& f) {
    return matching(f) == Matching::by_goid ? compare_by_goid(truth, records, f, opts)
                                            : compare_in_order(truth, records, f, opts);
  };

  auto check_session = [&](const CommandResult& r, const std::string& what) {
    if (r.timed_out)
      fail(what + ": timed out after " + std::to_string(config_.timeout_seconds) + " s");
    if (r.signal != 0) fail(what + ": dynprobe killed by signal " + std::to_string(r.signal));
    if (r.exit_code != 0 && !r.timed_out && r.signal == 0)
      fail(what + ": dynprobe exited " + std::to_string(r.exit_code) + ": " + last_line(r.err));
    if (auto drops = summary_count(r.err, "drops"); drops && *drops > 0)
      fail(what + ": " + std::to_string(*drops) + " ring-buffer drops");
    for (const char* counter :
         {"calls in flight", "returns without entry", "unreadable goroutines"})
      if (auto n = summary_count(r.err, counter); n && *n > 0)
        res.notes.push_back(what + ": " + std::to_string(*n) + " " + counter);
    // What the fixture itself says on stderr (threads switched, frames moved).
    std::istringstream in(r.err);
    for (std::string line; std::getline(in, line);)
      if (!line.empty() && line.rfind("dynprobe:", 0) != 0) res.notes.push_back(line);
  };

  // The ground truth of a function dynprobe refuses comes from a session
  // that did run the program.
  JsonLines main_truth;
  if (!together.empty()) {
    auto [r, text] = trace(together);
    auto truth = parse_json_lines(r.out);
    if (r.exit_code != 0 && r.signal == 0 && !r.timed_out && truth.lines.empty()) {
      // Refused before the program ran (a probe dynprobe cannot plan): each
      // function alone, so the refusal is pinned on one and the rest compared.
      alone = together;
      together.clear();
    } else {
      check_session(r, "trace");
      auto records = parse_json_lines(text);
      for (const auto& e : truth.errors) fail("ground truth: " + e);
      for (const auto& e : records.errors) fail("dynprobe output: " + e);
      if (r.exit_code == 0) {
        main_truth = truth.lines;
        for (const auto& f : together) tally(compare(truth.lines, records.lines, f), f);
        std::set<std::string> known;
        for (const auto& f : spec.functions) known.insert(f.name);
        std::set<std::string> unlisted;
        for (const auto& l : truth.lines)
          if (auto p = l.getString("probe"); p && !known.contains(p->str()))
            unlisted.insert(p->str());
        for (const auto& p : unlisted)
          fail("the fixture prints ground truth for " + p +
               ", which harness/fixture_table.cc does not trace");
      }
    }
  }

  if (main_truth.empty() && !alone.empty()) {
    std::vector<std::string> argv = {binary};
    argv.insert(argv.end(), spec.args.begin(), spec.args.end());
    auto r = run_command(argv, {"", config_.timeout_seconds});
    if (r.exit_code != 0) fail("the fixture alone exited " + std::to_string(r.exit_code));
    main_truth = parse_json_lines(r.out).lines;
  }
  for (const auto& f : alone) {
    auto [r, text] = trace({f});
    if (r.exit_code == 0) {
      auto truth = parse_json_lines(r.out);
      // No longer refused: compared like any other; its rule shows up as stale.
      check_session(r, "trace " + f);
      tally(compare(truth.lines, parse_json_lines(text).lines, f), f);
      continue;
    }
    auto rule = gaps_.match_probe_error(cell, f, r.err);
    if (!rule) {
      check_session(r, "trace " + f);
      continue;
    }
    // Refused as known: every value of its calls is a gap of that rule.
    Comparison c;
    for (const auto* line : of_probe(main_truth, f)) {
      ++c.truth_calls;
      for (const char* part : {"args", "ret"})
        if (const auto* p = line->getObject(part))
          for (const auto& [k, v] : *p) {
            std::string field = std::string(part) + "." + k.str();
            c.findings.push_back(Finding{f, "", c.truth_calls - 1, field, field, shape_of(v),
                                         Outcome::gap, count_values(v), show(v), last_line(r.err),
                                         *rule});
          }
    }
    tally(c, f);
  }
  return finish();
}

}  // namespace dynprobe::harness

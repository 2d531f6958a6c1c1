#include "harness/matrix_report.h"

#include <llvm/Support/JSON.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>

#include "harness/fixture_table.h"

namespace dynprobe::harness {

namespace json = llvm::json;

std::vector<GapStatus> gap_statuses(const Report& report, const KnownGaps& gaps) {
  std::vector<GapStatus> out(gaps.rules().size());
  for (size_t i = 0; i < out.size(); ++i) out[i].rule = i;
  for (const auto& c : report.cells) {
    for (size_t r : c.rules_in_scope) ++out[r].cells_in_scope;
    for (const auto& [r, n] : c.gap_values) {
      ++out[r].cells_used;
      out[r].values += n;
    }
  }
  for (auto& s : out)
    s.state = s.cells_used > 0       ? GapState::used
              : s.cells_in_scope > 0 ? GapState::stale
                                     : GapState::out_of_scope;
  return out;
}

Tally total(const Report& report) {
  Tally t;
  for (const auto& c : report.cells) t += c.total;
  return t;
}

namespace {

const char* state_name(GapState s) {
  switch (s) {
    case GapState::used:
      return "occurs";
    case GapState::stale:
      return "stale";
    case GapState::out_of_scope:
      return "not in this run";
  }
  return "";
}

json::Object tally_json(const Tally& t) {
  return json::Object{{"checked", static_cast<int64_t>(t.checked)},
                      {"matched", static_cast<int64_t>(t.matched)},
                      {"gaps", static_cast<int64_t>(t.gaps)},
                      {"mismatches", static_cast<int64_t>(t.mismatches)}};
}

json::Object kinds_json(const std::map<std::string, Tally>& kinds) {
  json::Object o;
  for (const auto& [k, t] : kinds) o[k] = tally_json(t);
  return o;
}

// Kinds in a fixed, readable order; any others after them.
std::vector<std::string> kind_order(const std::set<std::string>& seen) {
  std::vector<std::string> out;
  for (const char* k : {"bool", "int", "uint", "float", "complex", "pointer", "string", "struct",
                        "array", "slice", "map", "chan", "func", "interface", "latency"})
    if (seen.contains(k)) out.push_back(k);
  for (const auto& k : seen)
    if (std::find(out.begin(), out.end(), k) == out.end()) out.push_back(k);
  return out;
}

std::string cell_text(const Tally& t) {
  if (t.checked == 0 && t.mismatches == 0) return "";
  std::string s = std::to_string(t.matched) + " / " + std::to_string(t.checked);
  if (t.gaps) s += " · " + std::to_string(t.gaps) + " gaps";
  if (t.mismatches) s += " · **" + std::to_string(t.mismatches) + " ✗**";
  return s;
}

std::string escape_md(std::string s) {
  std::string out;
  for (char c : s) {
    if (c == '|') out += "\\";
    out += c;
  }
  return out;
}

}  // namespace

std::string report_json(const Report& report, const KnownGaps& gaps) {
  json::Array cells;
  std::map<std::string, Tally> by_kind;
  std::map<std::string, std::map<std::string, Tally>> by_go_kind, by_mode_kind;
  for (const auto& c : report.cells) {
    json::Array mismatches, notes;
    for (const auto& m : c.mismatches) mismatches.push_back(m);
    for (const auto& n : c.notes) notes.push_back(n);
    json::Object o = tally_json(c.total);
    o["toolchain"] = c.cell.toolchain;
    o["mode"] = c.cell.mode;
    o["fixture"] = c.cell.fixture;
    o["calls"] = static_cast<int64_t>(c.calls);
    o["records"] = static_cast<int64_t>(c.records);
    o["seconds"] = c.seconds;
    o["by_kind"] = kinds_json(c.by_kind);
    if (!c.debug_file.empty()) o["debug_file"] = c.debug_file;
    o["mismatch_lines"] = std::move(mismatches);
    o["notes"] = std::move(notes);
    cells.push_back(std::move(o));
    for (const auto& [k, t] : c.by_kind) {
      by_kind[k] += t;
      by_go_kind[c.cell.toolchain][k] += t;
      by_mode_kind[c.cell.mode][k] += t;
    }
  }
  json::Array rules;
  for (const auto& s : gap_statuses(report, gaps)) {
    const auto& r = gaps.rules()[s.rule];
    rules.push_back(json::Object{{"index", static_cast<int64_t>(s.rule)},
                                 {"toolchain", r.toolchain},
                                 {"go", r.go},
                                 {"mode", r.mode},
                                 {"fixture", r.fixture},
                                 {"function", r.function},
                                 {"field", r.field},
                                 {"kind", r.kind},
                                 {"issue", r.issue},
                                 {"state", state_name(s.state)},
                                 {"values", static_cast<int64_t>(s.values)},
                                 {"cells_in_scope", static_cast<int64_t>(s.cells_in_scope)},
                                 {"cells_used", static_cast<int64_t>(s.cells_used)}});
  }
  json::Object go_kinds, mode_kinds;
  for (const auto& [g, k] : by_go_kind) go_kinds[g] = kinds_json(k);
  for (const auto& [m, k] : by_mode_kind) mode_kinds[m] = kinds_json(k);
  json::Array go, modes, fixtures;
  for (const auto& g : report.toolchains) go.push_back(g);
  for (const auto& m : report.modes) modes.push_back(m);
  for (const auto& f : report.fixtures) fixtures.push_back(f);
  json::Object top{{"command", report.command},
                   {"started", report.started},
                   {"seconds", report.seconds},
                   {"selection", json::Object{{"toolchains", std::move(go)},
                                              {"modes", std::move(modes)},
                                              {"fixtures", std::move(fixtures)}}},
                   {"total", tally_json(total(report))},
                   {"by_kind", kinds_json(by_kind)},
                   {"by_toolchain_kind", std::move(go_kinds)},
                   {"by_mode_kind", std::move(mode_kinds)},
                   {"known_gaps", std::move(rules)},
                   {"cells", std::move(cells)}};
  std::string s;
  llvm::raw_string_ostream os(s);
  os << llvm::formatv("{0:2}", json::Value(std::move(top))) << "\n";
  return os.str();
}

std::string report_markdown(const Report& report, const KnownGaps& gaps) {
  std::ostringstream md;
  Tally t = total(report);
  char secs[32];
  snprintf(secs, sizeof secs, "%.0f", report.seconds);
  md << "Generated by `" << report.command << "` (started " << report.started << ", " << secs
     << " s, " << report.cells.size() << " cells).\n\n";
  md << "**" << t.checked << " values checked: " << t.matched << " matched, " << t.gaps
     << " known gaps, " << t.mismatches << " mismatches.**\n\n";

  // toolchain x mode x fixture
  md << "### Toolchain × mode × fixture\n\n"
     << "Each cell: values matched / values checked, then known gaps and mismatches.\n";
  std::map<std::tuple<std::string, std::string, std::string>, const CellResult*> at;
  for (const auto& c : report.cells) at[{c.cell.toolchain, c.cell.mode, c.cell.fixture}] = &c;
  // One table per fixture language; a row for every toolchain and mode that
  // has a cell in it.
  auto table = fixture_table();
  auto language = [&](const std::string& fixture) {
    for (const auto& f : table)
      if (f.name == fixture) return f.language;
    return FixtureLanguage::Go;
  };
  for (auto [lang, title] : {std::pair{FixtureLanguage::Go, "Go fixtures"},
                             {FixtureLanguage::Cpp, "C++ fixtures"},
                             {FixtureLanguage::Rust, "Rust fixtures"}}) {
    std::vector<std::string> columns;
    for (const auto& f : report.fixtures)
      if (language(f) == lang) columns.push_back(f);
    if (columns.empty()) continue;
    md << "\n" << title << ":\n\n| toolchain | mode |";
    for (const auto& f : columns) md << " " << f << " |";
    md << "\n|---|---|";
    for (size_t i = 0; i < columns.size(); ++i) md << "---|";
    md << "\n";
    for (const auto& g : report.toolchains)
      for (const auto& m : report.modes) {
        bool any = std::any_of(columns.begin(), columns.end(), [&](const auto& f) {
          return at.contains({g, m, f});
        });
        if (!any) continue;
        md << "| " << (go_minor(g) ? "go" + g : g) << " | " << m << " |";
        for (const auto& f : columns) {
          auto it = at.find({g, m, f});
          md << " " << (it == at.end() ? "" : cell_text(it->second->total)) << " |";
        }
        md << "\n";
      }
  }

  // kind x toolchain, kind x mode
  std::map<std::string, std::map<std::string, Tally>> by_go, by_mode;
  std::map<std::string, Tally> all;
  std::set<std::string> kinds;
  for (const auto& c : report.cells)
    for (const auto& [k, kt] : c.by_kind) {
      kinds.insert(k);
      by_go[k][c.cell.toolchain] += kt;
      by_mode[k][c.cell.mode] += kt;
      all[k] += kt;
    }
  auto kind_table = [&](const char* title, const std::vector<std::string>& columns,
                        std::map<std::string, std::map<std::string, Tally>>& data) {
    md << "\n### " << title << "\n\n| kind |";
    for (const auto& c : columns) md << " " << c << " |";
    md << " all |\n|---|";
    for (size_t i = 0; i <= columns.size(); ++i) md << "---|";
    md << "\n";
    for (const auto& k : kind_order(kinds)) {
      md << "| " << k << " |";
      for (const auto& c : columns) md << " " << cell_text(data[k][c]) << " |";
      md << " " << cell_text(all[k]) << " |\n";
    }
  };
  kind_table("Type kind × toolchain", report.toolchains, by_go);
  kind_table("Type kind × mode", report.modes, by_mode);
  md << "\nThe kind is that of the parameter or result as `dynprobe describe` reports it; "
        "the values of a struct or array count under its own kind. `latency` is the check "
        "of `latency_ns` against the bounds the `goroutines` fixture measured itself.\n";

  md << "\n### Known gaps\n\n"
     << "| # | fixture | function | field | kind | toolchain | mode | issue | values | state |\n"
     << "|---|---|---|---|---|---|---|---|---|---|\n";
  auto statuses = gap_statuses(report, gaps);
  for (const auto& s : statuses) {
    const auto& r = gaps.rules()[s.rule];
    md << "| " << s.rule << " | " << r.fixture << " | `" << escape_md(r.function) << "` | `"
       << escape_md(r.field) << "` | " << escape_md(r.kind) << " | "
       << (r.toolchain == "gc" ? "go " + r.go : escape_md(r.toolchain)) << " | " << r.mode << " | #"
       << r.issue << " | " << s.values << " | " << state_name(s.state) << " |\n";
  }

  // One row per toolchain and lookup: the describe check passed in every
  // cell that has a path (a failure is a mismatch line above).
  std::map<std::pair<std::string, std::string>, std::pair<size_t, std::string>> lookups;
  for (const auto& c : report.cells)
    if (!c.debug_file.empty()) {
      auto& [n, example] = lookups[{c.cell.toolchain, c.cell.mode}];
      if (n++ == 0) example = c.debug_file;
    }
  if (!lookups.empty()) {
    md << "\n### Where dynprobe found DWARF (stripped modes)\n\n"
       << "`dynprobe describe` must name this file as `debug_file`; with `--debug-file` and "
          "by build-id it must also fail on the same binary without that lookup.\n\n"
       << "| Go | mode | fixtures | debug file dynprobe read (first fixture) |\n"
          "|---|---|---|---|\n";
    for (const auto& g : report.toolchains)
      for (const auto& m : report.modes)
        if (auto it = lookups.find({g, m}); it != lookups.end())
          md << "| " << g << " | " << m << " | " << it->second.first << " | `" << it->second.second
             << "` |\n";
  }

  size_t shown = 0;
  for (const auto& c : report.cells)
    for (const auto& m : c.mismatches) {
      if (shown == 0) md << "\n### Mismatches\n\n```\n";
      if (++shown <= 100) md << m << "\n";
    }
  if (shown > 100) md << "... " << shown - 100 << " more in the JSON report\n";
  if (shown) md << "```\n";
  return md.str();
}

}  // namespace dynprobe::harness

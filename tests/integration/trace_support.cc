#include "tests/integration/trace_support.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <sstream>

namespace dynprobe::test {

std::vector<llvm::json::Object> parse_json_lines(const std::string& text) {
  std::vector<llvm::json::Object> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] != '{') continue;
    auto v = llvm::json::parse(line);
    if (!v) {
      ADD_FAILURE() << "invalid JSON line: " << line << ": " << llvm::toString(v.takeError());
      continue;
    }
    if (auto* o = v->getAsObject()) out.push_back(std::move(*o));
  }
  return out;
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

std::vector<const llvm::json::Object*> of_probe(const std::vector<llvm::json::Object>& lines,
                                                const std::string& probe) {
  std::vector<const llvm::json::Object*> out;
  for (const auto& l : lines)
    if (auto p = l.getString("probe"); p && *p == probe) out.push_back(&l);
  return out;
}

std::string json_diff(const llvm::json::Value& e, const llvm::json::Value& a,
                      const std::string& path) {
  auto show = [](const llvm::json::Value& v) {
    std::string s;
    llvm::raw_string_ostream os(s);
    os << v;
    return os.str();
  };
  auto differ = [&] { return path + ": expected " + show(e) + ", captured " + show(a); };
  if (e.kind() == llvm::json::Value::Number) {
    if (a.kind() != llvm::json::Value::Number) return differ();
    auto ei = e.getAsInteger(), ai = a.getAsInteger();
    auto eu = e.getAsUINT64(), au = a.getAsUINT64();
    if (ei && ai) return *ei == *ai ? "" : differ();
    if (eu && au) return *eu == *au ? "" : differ();
    if (ei || ai || eu || au) {
      // One side integral, the other a float: compare as numbers only if exact.
      double ed = *e.getAsNumber(), ad = *a.getAsNumber();
      return ed == ad ? "" : differ();
    }
    double ed = *e.getAsNumber(), ad = *a.getAsNumber();
    return (ed == ad || (std::isnan(ed) && std::isnan(ad))) ? "" : differ();
  }
  if (e.kind() != a.kind()) return differ();
  if (const auto* eo = e.getAsObject()) {
    const auto* ao = a.getAsObject();
    for (const auto& [k, ev] : *eo) {
      const auto* av = ao->get(k);
      if (!av) return path + "." + k.str() + ": not captured";
      if (auto d = json_diff(ev, *av, path + "." + k.str()); !d.empty()) return d;
    }
    for (const auto& [k, av] : *ao)
      if (!eo->get(k)) return path + "." + k.str() + ": captured but not in the ground truth";
    return "";
  }
  if (const auto* ea = e.getAsArray()) {
    const auto* aa = a.getAsArray();
    if (ea->size() != aa->size()) return differ();
    for (size_t i = 0; i < ea->size(); ++i)
      if (auto d = json_diff((*ea)[i], (*aa)[i], path + "[" + std::to_string(i) + "]"); !d.empty())
        return d;
    return "";
  }
  return e == a ? "" : differ();
}

static size_t count_leaves(const llvm::json::Value& v) {
  if (const auto* o = v.getAsObject()) {
    size_t n = 0;
    for (const auto& [k, x] : *o) n += count_leaves(x);
    return n;
  }
  if (const auto* a = v.getAsArray()) {
    size_t n = 0;
    for (const auto& x : *a) n += count_leaves(x);
    return n;
  }
  return 1;
}

namespace {

// Counts leaves and gaps while comparing; a gap is a whole value the tracer
// declared unavailable for the allowed reason.
void compare_values(const llvm::json::Object& want, const llvm::json::Object& got,
                    const std::string& allowed_gap, const std::string& where, MatchCount& n) {
  for (const auto& [key, w] : want) {
    const auto* g = got.get(key);
    if (g == nullptr) {
      ADD_FAILURE() << where << ": " << key.str() << " not captured";
      continue;
    }
    if (const auto* o = g->getAsObject(); o && !allowed_gap.empty()) {
      if (auto reason = o->getString("$unavailable"); reason && reason->contains(allowed_gap)) {
        ++n.gaps;
        continue;
      }
    }
    auto d = json_diff(w, *g, key.str());
    EXPECT_EQ(d, "") << where;
    if (d.empty()) n.compared += count_leaves(w);
  }
  for (const auto& [key, g] : got)
    if (!want.get(key))
      ADD_FAILURE() << where << ": " << key.str() << " captured but not in the ground truth";
}

MatchCount compare_sequences(const std::vector<const llvm::json::Object*>& want,
                             const std::vector<const llvm::json::Object*>& got,
                             const std::string& label, const std::string& allowed_gap) {
  MatchCount n;
  EXPECT_EQ(got.size(), want.size()) << label << ": records vs calls";
  for (size_t i = 0; i < want.size() && i < got.size(); ++i) {
    for (const char* part : {"args", "ret"}) {
      const auto* w = want[i]->getObject(part);
      if (!w) continue;
      const auto* g = got[i]->getObject(part);
      std::string where = label + " call " + std::to_string(i) + " " + part;
      if (!g) {
        ADD_FAILURE() << where << ": nothing captured";
        continue;
      }
      compare_values(*w, *g, allowed_gap, where, n);
    }
  }
  return n;
}

}  // namespace

MatchCount expect_calls_match(const std::vector<llvm::json::Object>& truth,
                              const std::vector<llvm::json::Object>& records,
                              const std::string& probe, const std::string& allowed_gap) {
  auto want = of_probe(truth, probe);
  EXPECT_FALSE(want.empty()) << "the fixture printed no ground truth for " << probe;
  return compare_sequences(want, of_probe(records, probe), probe, allowed_gap);
}

MatchCount expect_calls_match_by_goid(const std::vector<llvm::json::Object>& truth,
                                      const std::vector<llvm::json::Object>& records,
                                      const std::string& probe) {
  std::map<int64_t, std::vector<const llvm::json::Object*>> want, got;
  for (const auto* t : of_probe(truth, probe))
    want[t->getInteger("goid").value_or(-1)].push_back(t);
  for (const auto* r : of_probe(records, probe))
    got[r->getInteger("goid").value_or(-1)].push_back(r);
  EXPECT_FALSE(want.empty()) << "the fixture printed no ground truth for " << probe;
  EXPECT_EQ(got.size(), want.size()) << probe << ": goroutines seen";
  MatchCount n;
  for (const auto& [goid, calls] : want)
    n += compare_sequences(calls, got[goid], probe + " goid " + std::to_string(goid), "");
  return n;
}

}  // namespace dynprobe::test

#include "harness/ground_truth.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <sstream>

namespace dynprobe::harness {

namespace json = llvm::json;

ParsedLines parse_json_lines(const std::string& text) {
  ParsedLines out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] != '{') continue;
    auto v = json::parse(line);
    if (!v) {
      out.errors.push_back("invalid JSON line: " + line + ": " + llvm::toString(v.takeError()));
      continue;
    }
    if (auto* o = v->getAsObject()) out.lines.push_back(std::move(*o));
  }
  return out;
}

std::vector<const json::Object*> of_probe(const JsonLines& lines, const std::string& probe) {
  std::vector<const json::Object*> out;
  for (const auto& l : lines)
    if (auto p = l.getString("probe"); p && *p == probe) out.push_back(&l);
  return out;
}

std::vector<std::string> sorted_keys(const json::Object& o) {
  std::vector<std::string> keys;
  for (const auto& [k, v] : o) keys.push_back(k.str());
  std::sort(keys.begin(), keys.end());
  return keys;
}

std::string show(const json::Value& v) {
  // LLVM prints doubles with 17 digits (0.1 as 0.10000000000000001); the
  // shortest text that parses back is what both sides wrote.
  if (v.kind() == json::Value::Number && !v.getAsInteger() && !v.getAsUINT64()) {
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, *v.getAsNumber());
    return std::string(buf, r.ptr);
  }
  if (const auto* a = v.getAsArray()) {
    std::string s = "[";
    for (size_t i = 0; i < a->size(); ++i) s += (i ? "," : "") + show((*a)[i]);
    return s + "]";
  }
  if (const auto* o = v.getAsObject()) {
    std::string s = "{";
    for (const auto& k : sorted_keys(*o))
      s += (s.size() > 1 ? "," : "") + show(json::Value(k)) + ":" + show(*o->get(k));
    return s + "}";
  }
  std::string s;
  llvm::raw_string_ostream os(s);
  os << v;
  return os.str();
}

namespace {

// Numbers compare exactly: both integral as int64 or uint64, else as doubles
// (a float32 printed with its shortest digits parses to the same double on
// both sides).
bool numbers_equal(const json::Value& e, const json::Value& a) {
  auto ei = e.getAsInteger(), ai = a.getAsInteger();
  auto eu = e.getAsUINT64(), au = a.getAsUINT64();
  if (ei && ai) return *ei == *ai;
  if (eu && au) return *eu == *au;
  double ed = *e.getAsNumber(), ad = *a.getAsNumber();
  if (ei || ai || eu || au) return ed == ad;
  return ed == ad || (std::isnan(ed) && std::isnan(ad));
}

// Map entries ({"key": K, "value": V}) ordered by their key's compact JSON.
std::vector<const json::Value*> by_key(const json::Array& entries) {
  std::vector<std::pair<std::string, const json::Value*>> keyed;
  for (const auto& e : entries) {
    const auto* o = e.getAsObject();
    const auto* k = o ? o->get("key") : nullptr;
    keyed.emplace_back(k ? show(*k) : show(e), &e);
  }
  std::stable_sort(keyed.begin(), keyed.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<const json::Value*> out;
  for (const auto& [k, v] : keyed) out.push_back(v);
  return out;
}

}  // namespace

std::string json_diff(const json::Value& e, const json::Value& a, const std::string& path) {
  auto differ = [&] { return path + ": expected " + show(e) + ", captured " + show(a); };
  if (e.kind() == json::Value::Number) {
    if (a.kind() != json::Value::Number) return differ();
    return numbers_equal(e, a) ? "" : differ();
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
    if (path.ends_with(".$map.entries")) {
      auto es = by_key(*ea), as = by_key(*aa);
      for (size_t i = 0; i < es.size(); ++i)
        if (auto d = json_diff(*es[i], *as[i], path + "[" + std::to_string(i) + "]"); !d.empty())
          return d;
      return "";
    }
    for (size_t i = 0; i < ea->size(); ++i)
      if (auto d = json_diff((*ea)[i], (*aa)[i], path + "[" + std::to_string(i) + "]"); !d.empty())
        return d;
    return "";
  }
  return e == a ? "" : differ();
}

size_t count_values(const json::Value& v) {
  size_t n = 0;
  if (const auto* o = v.getAsObject()) {
    for (const auto& [k, x] : *o) n += count_values(x);
  } else if (const auto* a = v.getAsArray()) {
    for (const auto& x : *a) n += count_values(x);
  } else {
    return 1;
  }
  return n == 0 ? 1 : n;
}

std::string shape_of(const json::Value& v) {
  switch (v.kind()) {
    case json::Value::Null:
      return "null";
    case json::Value::Boolean:
      return "bool";
    case json::Value::Number:
      return v.getAsInteger() || v.getAsUINT64() ? "integer" : "float";
    case json::Value::String:
      return "string";
    case json::Value::Array:
      return "array";
    case json::Value::Object:
      return "object";
  }
  return "";
}

std::optional<Marker> marker_of(const json::Value& captured) {
  const auto* o = captured.getAsObject();
  if (o == nullptr || o->size() != 1) return std::nullopt;
  const auto& [key, payload] = *o->begin();
  if (key.str().empty() || key.str()[0] != '$') return std::nullopt;
  // Values of these kinds, not markers (docs/probe-language.md, "Values").
  if (key == "$map" || key == "$chan") return std::nullopt;
  Marker m{key.str().substr(1), ""};
  if (auto s = payload.getAsString())
    m.detail = s->str();
  else
    m.detail = show(payload);
  return m;
}

std::string Finding::describe() const {
  std::string s = probe;
  if (!group.empty()) s += " " + group;
  if (call) s += " call " + std::to_string(*call);
  if (!field.empty()) s += " " + field;
  return s + ": expected " + expected + ", captured " + captured;
}

size_t Comparison::values(Outcome o) const {
  size_t n = 0;
  for (const auto& f : findings)
    if (f.outcome == o) n += f.values;
  return n;
}

size_t Comparison::count(Outcome o) const {
  size_t n = 0;
  for (const auto& f : findings)
    if (f.outcome == o) ++n;
  return n;
}

Comparison& Comparison::operator+=(Comparison&& o) {
  findings.insert(findings.end(), std::make_move_iterator(o.findings.begin()),
                  std::make_move_iterator(o.findings.end()));
  truth_calls += o.truth_calls;
  records += o.records;
  return *this;
}

namespace {

// Walks one ground-truth value and the captured value at the same place,
// producing a finding per scalar, per marker and per difference in shape.
class Walker {
 public:
  Walker(const std::string& probe, const std::string& group, size_t call,
         const CompareOptions& opts, std::vector<Finding>& out)
      : probe_(probe), group_(group), call_(call), opts_(opts), out_(out) {}

  void value(const json::Value& want, const json::Value* got, const std::string& field,
             const std::string& root, size_t depth) {
    if (got == nullptr) {
      add(field, root, Outcome::mismatch, count_values(want), show(want), "nothing");
      return;
    }
    auto want_marker = marker_of(want);
    if (auto m = marker_of(*got); m && !want_marker) {
      std::optional<size_t> rule;
      if (opts_.gaps) rule = opts_.gaps(GapQuery{probe_, field, depth, *m});
      add(field, root, rule ? Outcome::gap : Outcome::mismatch, count_values(want), show(want),
          show(*got), rule);
      return;
    }
    const auto* wo = want.getAsObject();
    const auto* go = got->getAsObject();
    if (wo && go && !wo->empty()) {
      for (const auto& k : sorted_keys(*wo))
        value(*wo->get(k), go->get(k), field + "." + k, root, depth + 1);
      for (const auto& k : sorted_keys(*go))
        if (!wo->get(k))
          add(field + "." + k, root, Outcome::mismatch, 0, "nothing", show(*go->get(k)));
      return;
    }
    const auto* wa = want.getAsArray();
    const auto* ga = got->getAsArray();
    if (wa && ga && !wa->empty() && wa->size() == ga->size() && field.ends_with(".$map.entries")) {
      // Go's map order is random: entries compare as a set, matched by key.
      auto ws = by_key(*wa), gs = by_key(*ga);
      for (size_t i = 0; i < ws.size(); ++i)
        value(*ws[i], gs[i], field + "[" + std::to_string(i) + "]", root, depth + 1);
      return;
    }
    if (wa && ga && !wa->empty() && wa->size() == ga->size()) {
      for (size_t i = 0; i < wa->size(); ++i)
        value((*wa)[i], &(*ga)[i], field + "[" + std::to_string(i) + "]", root, depth + 1);
      return;
    }
    bool equal = json_diff(want, *got).empty();
    add(field, root, equal ? Outcome::matched : Outcome::mismatch, count_values(want), show(want),
        show(*got));
  }

  // Every key of a truth part ("args"/"ret") against the record's part.
  void part(const json::Object& want, const json::Object* got, const std::string& name) {
    if (got == nullptr) {
      size_t n = 0;
      for (const auto& [k, w] : want) n += count_values(w);
      add(name, "", Outcome::mismatch, n, show(json::Value(json::Object(want))), "nothing");
      return;
    }
    for (const auto& k : sorted_keys(want)) {
      std::string field = name + "." + k;
      root_shape_ = shape_of(*want.get(k));
      value(*want.get(k), got->get(k), field, field, 0);
    }
    root_shape_.clear();
    for (const auto& k : sorted_keys(*got))
      if (!want.get(k)) {
        std::string field = name + "." + k;
        add(field, field, Outcome::mismatch, 0, "nothing", show(*got->get(k)));
      }
  }

  void latency(const json::Object& truth, const json::Object& record) {
    auto lo = truth.getInteger("sleep_ns");
    auto hi = truth.getInteger("outer_ns");
    if (!lo && !hi) return;
    std::string range = "[" + (lo ? std::to_string(*lo) : std::string("0")) + ", " +
                        (hi ? std::to_string(*hi) : std::string("inf")) + "]";
    const auto* got = record.get("latency_ns");
    auto l = record.getInteger("latency_ns");
    bool ok = l && (!lo || *l >= *lo) && (!hi || *l <= *hi);
    root_shape_ = "integer";
    add("latency_ns", "latency_ns", ok ? Outcome::matched : Outcome::mismatch, 1, range,
        got ? show(*got) : "nothing");
  }

  void add(const std::string& field, const std::string& root, Outcome o, size_t values,
           std::string expected, std::string captured, std::optional<size_t> rule = {}) {
    out_.push_back(Finding{probe_, group_, call_, field, root, root_shape_, o, values,
                           std::move(expected), std::move(captured), rule});
  }

 private:
  const std::string& probe_;
  const std::string& group_;
  size_t call_;
  const CompareOptions& opts_;
  std::vector<Finding>& out_;
  std::string root_shape_;
};

size_t call_values(const json::Object& truth_line) {
  size_t n = 0;
  for (const char* part : {"args", "ret"})
    if (const auto* p = truth_line.getObject(part))
      for (const auto& [k, v] : *p) n += count_values(v);
  return n;
}

Comparison compare_sequences(const std::vector<const json::Object*>& want,
                             const std::vector<const json::Object*>& got, const std::string& probe,
                             const std::string& group, const CompareOptions& opts) {
  Comparison c;
  c.truth_calls = want.size();
  c.records = got.size();
  for (size_t i = 0; i < want.size(); ++i) {
    if (i >= got.size()) {
      c.findings.push_back(Finding{probe, group, i, "", "", "", Outcome::mismatch,
                                   call_values(*want[i]), show(json::Value(json::Object(*want[i]))),
                                   "no record"});
      continue;
    }
    Walker w(probe, group, i, opts, c.findings);
    for (const char* part : {"args", "ret"})
      if (const auto* p = want[i]->getObject(part)) w.part(*p, got[i]->getObject(part), part);
    if (opts.latency_bounds) w.latency(*want[i], *got[i]);
  }
  for (size_t i = want.size(); i < got.size(); ++i)
    c.findings.push_back(Finding{probe, group, i, "", "", "", Outcome::mismatch, 0, "no call",
                                 show(json::Value(json::Object(*got[i])))});
  return c;
}

Finding no_truth(const std::string& probe, size_t records) {
  return Finding{probe,
                 "",
                 std::nullopt,
                 "",
                 "",
                 "",
                 Outcome::mismatch,
                 0,
                 "ground-truth lines (the fixture printed none)",
                 std::to_string(records) + " records"};
}

}  // namespace

Comparison compare_in_order(const JsonLines& truth, const JsonLines& records,
                            const std::string& probe, const CompareOptions& opts) {
  auto want = of_probe(truth, probe);
  auto got = of_probe(records, probe);
  Comparison c = compare_sequences(want, got, probe, "", opts);
  if (want.empty()) c.findings.push_back(no_truth(probe, got.size()));
  return c;
}

Comparison compare_by_goid(const JsonLines& truth, const JsonLines& records,
                           const std::string& probe, const CompareOptions& opts) {
  std::map<int64_t, std::vector<const json::Object*>> want, got;
  for (const auto* t : of_probe(truth, probe))
    want[t->getInteger("goid").value_or(-1)].push_back(t);
  for (const auto* r : of_probe(records, probe))
    got[r->getInteger("goid").value_or(-1)].push_back(r);
  Comparison c;
  if (want.empty()) {
    size_t n = 0;
    for (const auto& [g, rs] : got) n += rs.size();
    c.records = n;
    c.findings.push_back(no_truth(probe, n));
    return c;
  }
  // Goroutines only one side saw show up as missing or extra calls.
  for (const auto& [goid, calls] : got) want.try_emplace(goid);
  for (const auto& [goid, calls] : want)
    c += compare_sequences(calls, got[goid], probe, "goid " + std::to_string(goid), opts);
  return c;
}

}  // namespace dynprobe::harness

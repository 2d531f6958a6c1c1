#include "harness/known_gaps.h"

#include <fnmatch.h>

#include <fstream>
#include <sstream>

namespace dynprobe::harness {

namespace json = llvm::json;

std::optional<int> go_minor(const std::string& version) {
  if (version.rfind("1.", 0) != 0 || version.size() < 3) return std::nullopt;
  int minor = 0;
  for (char c : version.substr(2)) {
    if (c < '0' || c > '9') return std::nullopt;
    minor = minor * 10 + (c - '0');
  }
  return minor;
}

namespace {

// A comma-separated list of fnmatch patterns; any may match.
bool glob(const std::string& patterns, const std::string& text) {
  size_t start = 0;
  while (start <= patterns.size()) {
    size_t comma = patterns.find(',', start);
    if (comma == std::string::npos) comma = patterns.size();
    std::string p = patterns.substr(start, comma - start);
    if (!p.empty() && fnmatch(p.c_str(), text.c_str(), 0) == 0) return true;
    start = comma + 1;
  }
  return false;
}

// Minor-version bounds of a rule's "go" field, both inclusive.
std::optional<std::pair<int, int>> go_range(const std::string& go) {
  constexpr int lo = 0, hi = 1000;
  if (go == "*") return std::pair{lo, hi};
  // Go 1.17 introduced the register ABI on amd64; 1.16 was the last ABI0 release.
  if (go == "register-abi") return std::pair{17, hi};
  if (go == "stack-abi") return std::pair{lo, 16};
  if (go.rfind(">=", 0) == 0)
    if (auto m = go_minor(go.substr(2))) return std::pair{*m, hi};
  if (go.rfind("<=", 0) == 0)
    if (auto m = go_minor(go.substr(2))) return std::pair{lo, *m};
  if (auto dots = go.find(".."); dots != std::string::npos) {
    auto a = go_minor(go.substr(0, dots)), b = go_minor(go.substr(dots + 2));
    if (a && b) return std::pair{*a, *b};
    return std::nullopt;
  }
  if (auto m = go_minor(go)) return std::pair{*m, *m};
  return std::nullopt;
}

std::pair<std::string, std::string> split_kind(const std::string& kind) {
  auto colon = kind.find(':');
  if (colon == std::string::npos) return {kind, ""};
  return {kind.substr(0, colon), kind.substr(colon + 1)};
}

}  // namespace

bool GapRule::in_scope(const Cell& cell) const {
  auto minor = go_minor(cell.toolchain);
  if (!glob(toolchain, minor ? "gc" : cell.toolchain)) return false;
  if (minor) {
    auto range = go_range(go);
    if (!range || *minor < range->first || *minor > range->second) return false;
  }
  return glob(mode, cell.mode) && glob(fixture, cell.fixture);
}

bool GapRule::covers_function(const std::string& f) const { return glob(function, f); }

bool GapRule::is_probe_error() const { return split_kind(kind).first == "probe-error"; }

bool GapRule::matches(const Cell& cell, const std::string& f, const std::string& fld,
                      const Marker& marker) const {
  if (is_probe_error() || !in_scope(cell) || !glob(function, f) || !glob(field, fld)) return false;
  auto [type, text] = split_kind(kind);
  return (type == "*" || type == marker.type) && marker.detail.find(text) != std::string::npos;
}

bool GapRule::matches_probe_error(const Cell& cell, const std::string& f,
                                  const std::string& error) const {
  if (!is_probe_error() || !in_scope(cell) || !glob(function, f)) return false;
  return error.find(split_kind(kind).second) != std::string::npos;
}

std::string GapRule::summary() const {
  std::string where = toolchain == "gc" ? "go " + go : toolchain;
  return fixture + " " + function + " " + field + " " + kind + " (" + where + ", mode " + mode +
         ", issue " + std::to_string(issue) + ")";
}

Result<KnownGaps> KnownGaps::load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return fail("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto parsed = json::parse(ss.str());
  if (!parsed) return fail(path + ": " + llvm::toString(parsed.takeError()));
  const auto* top = parsed->getAsObject();
  const auto* list = top ? top->getArray("gaps") : nullptr;
  if (list == nullptr) return fail(path + ": expected {\"gaps\": [...]}");
  KnownGaps gaps;
  for (size_t i = 0; i < list->size(); ++i) {
    std::string where = path + ": gap " + std::to_string(i);
    const auto* o = (*list)[i].getAsObject();
    if (o == nullptr) return fail(where + " is not an object");
    GapRule r;
    // "toolchain" and "go" have defaults (gc, every version); a rule for
    // another toolchain has no Go version.
    for (auto [key, dest] : {std::pair{"toolchain", &r.toolchain}, {"go", &r.go}})
      if (auto v = o->getString(key)) *dest = v->str();
    if (r.toolchain.empty()) return fail(where + ": empty \"toolchain\"");
    for (auto [key, dest] : {std::pair{"mode", &r.mode},
                             {"fixture", &r.fixture},
                             {"function", &r.function},
                             {"field", &r.field},
                             {"kind", &r.kind},
                             {"reason", &r.reason}}) {
      auto v = o->getString(key);
      if (!v || v->empty()) return fail(where + ": missing string field \"" + key + "\"");
      *dest = v->str();
    }
    auto issue = o->getInteger("issue");
    if (!issue || *issue <= 0) return fail(where + ": missing issue number");
    r.issue = static_cast<int>(*issue);
    if (!go_range(r.go))
      return fail(where + ": go \"" + r.go +
                  "\" is none of *, register-abi, stack-abi, 1.N, >=1.N, <=1.N, 1.N..1.M");
    for (const auto& [k, v] : *o)
      if (k != "toolchain" && k != "go" && k != "mode" && k != "fixture" && k != "function" &&
          k != "field" && k != "kind" && k != "reason" && k != "issue")
        return fail(where + ": unknown field \"" + k.str() + "\"");
    gaps.rules_.push_back(std::move(r));
  }
  return gaps;
}

std::optional<size_t> KnownGaps::match(const Cell& cell, const std::string& function,
                                       const std::string& field, const Marker& marker) const {
  for (size_t i = 0; i < rules_.size(); ++i)
    if (rules_[i].matches(cell, function, field, marker)) return i;
  return std::nullopt;
}

std::vector<size_t> KnownGaps::probe_error_rules(const Cell& cell,
                                                 const std::string& function) const {
  std::vector<size_t> out;
  for (size_t i = 0; i < rules_.size(); ++i)
    if (rules_[i].is_probe_error() && rules_[i].in_scope(cell) &&
        rules_[i].covers_function(function))
      out.push_back(i);
  return out;
}

std::optional<size_t> KnownGaps::match_probe_error(const Cell& cell, const std::string& function,
                                                   const std::string& error) const {
  for (size_t i = 0; i < rules_.size(); ++i)
    if (rules_[i].matches_probe_error(cell, function, error)) return i;
  return std::nullopt;
}

}  // namespace dynprobe::harness

#include "core/name_match.h"

#include <fnmatch.h>
#include <llvm/ADT/StringRef.h>

#include <algorithm>
#include <set>

namespace dynprobe {

namespace {

// "main.(*ledger).Record" -> "main.ledger.Record": lets `ledger.Record` find a
// pointer-receiver method, as Go users write it in prose.
std::string strip_receiver_syntax(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (size_t i = 0; i < name.size(); ++i) {
    if (name.substr(i, 2) == "(*") {
      ++i;
      continue;
    }
    if (name[i] == ')' && i + 1 < name.size() && name[i + 1] == '.') continue;
    out += name[i];
  }
  return out;
}

bool is_boundary_suffix(std::string_view name, std::string_view query) {
  if (query.empty() || name.size() <= query.size() || !name.ends_with(query)) return false;
  char before = name[name.size() - query.size() - 1];
  return before == '.' || before == '/' || before == ':';
}

// GCC's clone suffix as the demangler prints it: "f(int) (.isra.0)".
std::string_view without_clone_suffix(std::string_view name) {
  auto at = name.rfind(" (.");
  return at != std::string_view::npos && name.ends_with(")") ? name.substr(0, at) : name;
}

// "ns::C::f(int, char const*) const" -> "ns::C::f": demangled C++ names
// carry their parameter list, which users may leave out. Anything else (Go's
// "main.(*T).M", whose last ')' is followed by more name) is returned as is.
std::string_view without_parameters(std::string_view name) {
  name = without_clone_suffix(name);
  auto close = name.rfind(')');
  if (close == std::string_view::npos) return name;
  for (char c : name.substr(close + 1))
    if (c != ' ' && c != '&' && !(c >= 'a' && c <= 'z')) return name;  // " const", " &&"
  int depth = 0;
  for (size_t i = close + 1; i-- > 0;) {
    if (name[i] == ')') ++depth;
    if (name[i] == '(' && --depth == 0) return i == 0 ? name : name.substr(0, i);
  }
  return name;
}

// Parameter lists compared as typed: without spaces, and with the libstdc++
// spelling of std::string that the demangler prints.
std::string normalized_cxx(std::string_view name) {
  std::string out;
  for (char c : name)
    if (c != ' ') out += c;
  static constexpr std::string_view kLongString =
      "std::__cxx11::basic_string<char,std::char_traits<char>,std::allocator<char>>";
  for (size_t at; (at = out.find(kLongString)) != std::string::npos;)
    out.replace(at, kLongString.size(), "std::string");
  return out;
}

// `query` names `name` when equal or a suffix starting after "::" (or after
// the return type a demangled template function starts with).
bool cxx_names(std::string_view name, std::string_view query) {
  if (name == query) return true;
  if (query.empty() || name.size() <= query.size() || !name.ends_with(query)) return false;
  char before = name[name.size() - query.size() - 1];
  return before == ':' || before == ' ';
}

}  // namespace

std::vector<std::string> match_function(std::string_view query,
                                        const std::vector<std::string_view>& names) {
  for (std::string_view n : names)
    if (n == query) return {std::string(n)};

  std::set<std::string> found;
  for (std::string_view n : names)
    if (is_boundary_suffix(n, query)) found.emplace(n);
  if (found.empty() && query.find("(*") == std::string_view::npos) {
    std::string q = strip_receiver_syntax(query);
    for (std::string_view n : names)
      if (is_boundary_suffix(strip_receiver_syntax(n), q)) found.emplace(n);
  }
  if (found.empty()) {
    // C++: by qualified name without the parameter list (every overload and
    // clone answers), or with a parameter list spelled with other spacing.
    const bool with_parameters = without_parameters(query) != query;
    const std::string q = normalized_cxx(query);
    for (std::string_view n : names) {
      std::string_view bare = without_parameters(n);
      if (bare == n) continue;
      if (with_parameters ? cxx_names(normalized_cxx(without_clone_suffix(n)), q)
                          : cxx_names(bare, query))
        found.emplace(n);
    }
    // A full signature names the function itself, not GCC's `.cold` part or
    // clones of it, when the function exists.
    if (with_parameters) {
      std::set<std::string> originals;
      for (const auto& n : found)
        if (without_clone_suffix(n) == n) originals.insert(n);
      if (originals.size() == 1) return {*originals.begin()};
    }
  }
  return {found.begin(), found.end()};
}

bool glob_match(std::string_view pattern, std::string_view name) {
  return fnmatch(std::string(pattern).c_str(), std::string(name).c_str(), 0) == 0;
}

std::vector<std::string> closest_names(std::string_view query,
                                       const std::vector<std::string_view>& names, size_t limit) {
  auto last_element = [](std::string_view s) {
    size_t slash = s.rfind('/');
    return slash == std::string_view::npos ? s : s.substr(slash + 1);
  };
  llvm::StringRef q(last_element(query).data(), last_element(query).size());
  std::vector<std::pair<unsigned, std::string_view>> scored;
  std::set<std::string_view> seen;
  for (std::string_view n : names) {
    if (!seen.insert(n).second) continue;
    std::string_view tail = last_element(n);
    llvm::StringRef t(tail.data(), tail.size());
    unsigned d = q.edit_distance(t, /*AllowReplacements=*/true, /*MaxEditDistance=*/64);
    // A name that contains the query (other package, other receiver) is a
    // better suggestion than any near spelling.
    if (t.contains(q)) d = 0;
    scored.emplace_back(d, n);
  }
  size_t keep = std::min(limit, scored.size());
  std::partial_sort(scored.begin(), scored.begin() + keep, scored.end());
  std::vector<std::string> out;
  for (size_t i = 0; i < keep; ++i) out.emplace_back(scored[i].second);
  return out;
}

}  // namespace dynprobe

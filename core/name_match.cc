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

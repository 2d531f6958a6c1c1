// How a user names a function: the full name as the language spells it
// (`main.(*ledger).Record`), or any unambiguous suffix that starts at a
// package or receiver boundary (`ledger.Record`, `(*ledger).Record`,
// `Record`). Delve and bpftrace users expect both.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace dynprobe {

// Every name the query denotes: the exact name alone if present, else all
// boundary-suffix matches (sorted, unique). More than one means ambiguous.
std::vector<std::string> match_function(std::string_view query,
                                        const std::vector<std::string_view>& names);

// Shell-style glob (`*`, `?`, `[...]`) over the whole name, as `list` uses.
bool glob_match(std::string_view pattern, std::string_view name);

// Up to `limit` names closest to the query (edit distance on the last path
// element), for "unknown function" errors.
std::vector<std::string> closest_names(std::string_view query,
                                       const std::vector<std::string_view>& names,
                                       size_t limit = 5);

}  // namespace dynprobe

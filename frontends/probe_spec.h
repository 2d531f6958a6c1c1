// A probe as the user writes it with -p: `FUNC` (every argument, every result
// and latency) or `FUNC(e1, e2, ...)` (only those). An expression is a
// parameter name, a named result, `$N` (result N, from 0), `@latency` or
// `@goid`. Parsing knows nothing of the binary; the planner checks names.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"

namespace dynprobe {

// One step of a path below a parameter or result: `.field`, `[index]`, or
// `*` (an explicit dereference; `.field` also looks through pointers, as Go does),
// `["key"]` (a map's string key; `[3]` and `[-3]` also index maps with integer
// keys), `.(T)` (an interface's dynamic type asserted to be T).
struct PathStep {
  enum class Kind { Field, Index, Deref, Key, Assert };
  Kind kind = Kind::Field;
  std::string field;  // Field: the name; Key: the string key; Assert: the type's name
  uint64_t index = 0;
  bool negative = false;  // Index: written with a '-' (only a map key can be)
};

struct ProbeExpr {
  enum class Kind { Name, Result, Latency, Goid };
  enum class Fn { None, Len, Cap };
  Kind kind = Kind::Name;
  std::string text;            // as written: the output key
  std::string name;            // Kind::Name: parameter or named result
  unsigned index = 0;          // Kind::Result: N of $N
  std::vector<PathStep> path;  // below the root, in order
  Fn fn = Fn::None;            // len(...) / cap(...) around the path
};

struct ProbeSpec {
  std::string function;          // as typed; resolved against the binary later
  bool capture_all = true;       // no parenthesized list
  std::vector<ProbeExpr> exprs;  // when !capture_all
  // A trailing (...) that is not an expression list, e.g. a C++ parameter
  // list "(char const*)": the whole text is taken as the function name and
  // this keeps why, for the error if no function has that name.
  std::string list_error;
};

// Errors name the position: "probe 'f(a,,b)': empty expression at column 5".
Result<ProbeSpec> parse_probe_spec(const std::string& text);

}  // namespace dynprobe

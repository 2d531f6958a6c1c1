#include "frontends/probe_spec.h"

#include <algorithm>
#include <cctype>

namespace dynprobe {

namespace {

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

bool is_identifier(std::string_view s) {
  if (s.empty() || isdigit(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s)
    if (!isalnum(static_cast<unsigned char>(c)) && c != '_' && static_cast<unsigned char>(c) < 0x80)
      return false;
  return true;
}

Result<ProbeExpr> parse_expr(const std::string& probe, const std::string& text, size_t column) {
  auto error = [&](const std::string& what) {
    return fail("probe '" + probe + "': " + what + " at column " + std::to_string(column));
  };
  if (text.empty()) return error("empty expression");
  if (text == "@latency") return ProbeExpr{.kind = ProbeExpr::Kind::Latency, .text = text};
  if (text == "@goid") return ProbeExpr{.kind = ProbeExpr::Kind::Goid, .text = text};
  if (text[0] == '@') return error("unknown builtin '" + text + "' (known: @latency, @goid)");

  ProbeExpr e{.text = text};
  std::string_view rest = text;
  for (auto [prefix, fn] :
       {std::pair{"len(", ProbeExpr::Fn::Len}, std::pair{"cap(", ProbeExpr::Fn::Cap}}) {
    if (rest.starts_with(prefix)) {
      if (!rest.ends_with(")")) return error("'" + text + "': missing ')'");
      rest = rest.substr(4, rest.size() - 5);
      e.fn = fn;
      break;
    }
  }
  // Leading '*'s dereference the whole path: *p, **pp.
  size_t derefs = 0;
  while (!rest.empty() && rest[0] == '*') {
    ++derefs;
    rest.remove_prefix(1);
  }
  size_t root_end = rest.find_first_of(".[");
  std::string root(rest.substr(0, root_end));
  rest = root_end == std::string_view::npos ? std::string_view{} : rest.substr(root_end);
  if (!root.empty() && root[0] == '$') {
    std::string digits = root.substr(1);
    if (digits.empty() || digits.size() > 3 ||
        digits.find_first_not_of("0123456789") != std::string::npos)
      return error("'" + root + "' is not a result reference ($0, $1, ...)");
    e.kind = ProbeExpr::Kind::Result;
    e.index = static_cast<unsigned>(std::stoul(digits));
  } else if (is_identifier(root)) {
    e.kind = ProbeExpr::Kind::Name;
    e.name = root;
  } else {
    return error(
        "'" + text +
        "' is not a parameter name, $N, a path (a.b, *p, s[i], m[\"k\"], e.(T)), len(x), cap(x), "
        "@latency or @goid");
  }
  while (!rest.empty()) {
    if (rest.starts_with(".(")) {
      // A type name has dots and parentheses of its own: "*main.MyErr", "func(int) int".
      int depth = 0;
      size_t close = std::string_view::npos;
      for (size_t i = 1; i < rest.size(); ++i) {
        if (rest[i] == '(') ++depth;
        if (rest[i] == ')' && --depth == 0) {
          close = i;
          break;
        }
      }
      std::string type = close == std::string_view::npos ? "" : trim(rest.substr(2, close - 2));
      if (type.empty()) return error("'" + text + "': a type assertion is .(TYPE)");
      e.path.push_back({.kind = PathStep::Kind::Assert, .field = type});
      rest = rest.substr(close + 1);
    } else if (rest.starts_with("[\"")) {
      std::string key;
      size_t i = 2;
      for (; i < rest.size() && rest[i] != '"'; ++i) {
        if (rest[i] == '\\' && i + 1 < rest.size()) ++i;  // \" and \\ only
        key += rest[i];
      }
      if (i + 1 >= rest.size() || rest[i + 1] != ']')
        return error("'" + text + "': a map key is [\"text\"] or a constant like [3]");
      e.path.push_back({.kind = PathStep::Kind::Key, .field = key});
      rest = rest.substr(i + 2);
    } else if (rest[0] == '.') {
      size_t end = rest.find_first_of(".[", 1);
      std::string field(
          rest.substr(1, end == std::string_view::npos ? std::string_view::npos : end - 1));
      if (!is_identifier(field)) return error("'" + text + "': bad field name '" + field + "'");
      e.path.push_back({.kind = PathStep::Kind::Field, .field = field});
      rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
    } else if (rest[0] == '[') {
      size_t close = rest.find(']');
      std::string digits(rest.substr(1, close == std::string_view::npos ? 0 : close - 1));
      bool negative = digits.starts_with("-");
      if (negative) digits.erase(0, 1);
      if (close == std::string_view::npos || digits.empty() || digits.size() > 18 ||
          digits.find_first_not_of("0123456789") != std::string::npos)
        return error("'" + text + "': an index is a constant like [3]");
      e.path.push_back(
          {.kind = PathStep::Kind::Index, .index = std::stoull(digits), .negative = negative});
      rest = rest.substr(close + 1);
    } else {
      return error("'" + text + "': unexpected '" + std::string(1, rest[0]) + "'");
    }
  }
  for (size_t i = 0; i < derefs; ++i) e.path.push_back({.kind = PathStep::Kind::Deref});
  return e;
}

}  // namespace

Result<ProbeSpec> parse_probe_spec(const std::string& input) {
  std::string text = trim(input);
  if (text.empty()) return fail("empty probe: expected FUNC or FUNC(expr, ...)");
  // Go names contain parentheses of their own ("main.(*T).M"), so the
  // argument list is the last balanced (...) that ends the text, and only if
  // what precedes it does not end in '.' (a receiver is always followed by one).
  if (text.back() != ')') return ProbeSpec{.function = text};
  int depth = 0;
  size_t open = std::string::npos;
  for (size_t i = text.size(); i-- > 0;) {
    if (text[i] == ')') ++depth;
    if (text[i] == '(' && --depth == 0) {
      open = i;
      break;
    }
  }
  if (open == std::string::npos) return fail("probe '" + text + "': unbalanced parentheses");
  std::string function = trim(std::string_view(text).substr(0, open));
  if (function.empty()) return fail("probe '" + text + "': missing function name");
  if (std::count(function.begin(), function.end(), '(') !=
      std::count(function.begin(), function.end(), ')'))
    return fail("probe '" + text + "': unbalanced parentheses");
  if (function.back() == '.' || function.back() == '*' || function.back() == '/')
    return ProbeSpec{.function = text};  // "(*T)" receiver, no argument list

  ProbeSpec spec{.function = function, .capture_all = false};
  std::string body = text.substr(open + 1, text.size() - open - 2);
  if (trim(body).empty()) return fail("probe '" + text + "': empty expression list");
  size_t start = 0;
  while (true) {
    size_t comma = body.find(',', start);
    std::string piece =
        body.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    auto expr = parse_expr(text, trim(piece), open + 2 + start);
    if (!expr) return ProbeSpec{.function = text, .list_error = expr.error().message};
    spec.exprs.push_back(std::move(*expr));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return spec;
}

}  // namespace dynprobe

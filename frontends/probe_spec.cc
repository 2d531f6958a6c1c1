#include "frontends/probe_spec.h"

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
  if (text[0] == '$') {
    std::string digits = text.substr(1);
    if (digits.empty() || digits.size() > 3 ||
        digits.find_first_not_of("0123456789") != std::string::npos)
      return error("'" + text + "' is not a result reference ($0, $1, ...)");
    return ProbeExpr{.kind = ProbeExpr::Kind::Result,
                     .text = text,
                     .index = static_cast<unsigned>(std::stoul(digits))};
  }
  if (!is_identifier(text))
    return error("'" + text + "' is not a parameter name, $N, @latency or @goid");
  return ProbeExpr{.kind = ProbeExpr::Kind::Name, .text = text, .name = text};
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
    if (!expr) return std::unexpected(expr.error());
    spec.exprs.push_back(std::move(*expr));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return spec;
}

}  // namespace dynprobe

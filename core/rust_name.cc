#include "core/rust_name.h"

#include <array>
#include <cctype>
#include <utility>

namespace dynprobe {

namespace {

// The legacy scheme's hash element: "h" and 16 hex digits.
std::string_view without_hash(std::string_view s) {
  constexpr size_t kLen = 2 + 1 + 16;  // "::h" + digits
  if (s.size() <= kLen || s.substr(s.size() - kLen, 3) != "::h") return s;
  for (char c : s.substr(s.size() - 16))
    if (!std::isxdigit(static_cast<unsigned char>(c))) return s;
  return s.substr(0, s.size() - kLen);
}

// rustc's legacy mangling writes characters an Itanium identifier cannot hold
// as $XX$ escapes and "::" inside generic arguments as ".."; LLVM's Itanium
// demangler leaves them as they are (it has no legacy Rust mode).
std::string unescape_legacy(std::string_view s) {
  static constexpr std::array<std::pair<std::string_view, char>, 9> kNamed = {{{"$SP$", '@'},
                                                                               {"$BP$", '*'},
                                                                               {"$RF$", '&'},
                                                                               {"$LT$", '<'},
                                                                               {"$GT$", '>'},
                                                                               {"$LP$", '('},
                                                                               {"$RP$", ')'},
                                                                               {"$C$", ','},
                                                                               {"$u20$", ' '}}};
  std::string out;
  for (size_t i = 0; i < s.size();) {
    if (s[i] == '$') {
      bool done = false;
      for (auto [esc, c] : kNamed)
        if (s.substr(i, esc.size()) == esc) {
          out += c;
          i += esc.size();
          done = true;
          break;
        }
      if (done) continue;
      // $uXX$: a character by its hex code.
      size_t end = s.find('$', i + 1);
      if (end != std::string_view::npos && s[i + 1] == 'u' && end - i - 2 == 2) {
        unsigned v = 0;
        bool hex = true;
        for (char c : s.substr(i + 2, 2)) {
          if (!std::isxdigit(static_cast<unsigned char>(c))) hex = false;
          v = v * 16 + static_cast<unsigned>(std::isdigit(static_cast<unsigned char>(c))
                                                 ? c - '0'
                                                 : std::tolower(c) - 'a' + 10);
        }
        if (hex && v < 0x80) {
          out += static_cast<char>(v);
          i = end + 1;
          continue;
        }
      }
    }
    if (s.substr(i, 2) == "..") {
      out += "::";
      i += 2;
      continue;
    }
    if (s.substr(i, 2) == "_$" && (i == 0 || s[i - 1] == ':')) {
      ++i;  // a leading '$' escape is prefixed with '_'
      continue;
    }
    out += s[i++];
  }
  return out;
}

// "<shop::Ledger>::record" -> "shop::Ledger::record": an inherent impl's
// path in angle brackets. "<T as Trait>::f" keeps them: the trait is part
// of the name.
std::string without_inherent_brackets(std::string s) {
  if (s.empty() || s.front() != '<') return s;
  int depth = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '<') ++depth;
    if (s[i] == '>' && --depth == 0) {
      if (s.compare(i + 1, 2, "::") != 0) return s;
      std::string inner = s.substr(1, i - 1);
      int d = 0;
      for (size_t k = 0; k < inner.size(); ++k) {
        d += inner[k] == '<';
        d -= inner[k] == '>';
        if (d == 0 && inner.compare(k, 4, " as ") == 0) return s;
      }
      return inner + s.substr(i + 1);
    }
  }
  return s;
}

}  // namespace

bool has_legacy_rust_hash(std::string_view demangled) {
  return without_hash(demangled).size() != demangled.size();
}

std::string rust_function_name(std::string_view demangled) {
  std::string_view s = without_hash(demangled);
  std::string out = s.find('$') != std::string_view::npos || s.find("..") != std::string_view::npos
                        ? unescape_legacy(s)
                        : std::string(s);
  return without_inherent_brackets(std::move(out));
}

}  // namespace dynprobe

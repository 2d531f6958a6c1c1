#include "core/go_version.h"

#include <charconv>

namespace dynprobe {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Reads a decimal number at the front of `s` and drops it; nullopt if none.
std::optional<int> take_number(std::string_view& s) {
  int value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end == s.data()) return std::nullopt;
  s.remove_prefix(static_cast<size_t>(end - s.data()));
  return value;
}

}  // namespace

std::string GoVersion::to_string() const {
  return "go" + std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

std::optional<GoVersion> parse_go_version(std::string_view s) {
  // The version is the first "go<digit>" anywhere: development builds
  // prefix it ("devel go1.23-abcdef ..."), experiments suffix it
  // ("go1.24.0 X:nocoverageredesign"), pre-releases glue a tag to it
  // ("go1.22rc1", "go1.9beta2") and the tag is not a number we keep.
  size_t at = 0;
  while ((at = s.find("go", at)) != std::string_view::npos) {
    if (at + 2 < s.size() && is_digit(s[at + 2])) break;
    at += 2;
  }
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view rest = s.substr(at + 2);

  GoVersion v;
  auto major = take_number(rest);
  if (!major) return std::nullopt;
  v.major = *major;
  for (int* part : {&v.minor, &v.patch}) {
    if (rest.size() < 2 || rest[0] != '.' || !is_digit(rest[1])) break;
    rest.remove_prefix(1);
    auto n = take_number(rest);
    if (!n) return std::nullopt;  // too large for an int: not a version
    *part = *n;
  }
  return v;
}

}  // namespace dynprobe

#pragma once

#include <compare>
#include <optional>
#include <string>
#include <string_view>

namespace dynprobe {

struct GoVersion {
  int major = 0;
  int minor = 0;
  int patch = 0;
  auto operator<=>(const GoVersion&) const = default;
  std::string to_string() const;  // always three parts: "go1.19.8", "go1.21.0"
};

// Accepts "go1.19.8", "go1.21", "go1.22rc1", "devel go1.23-abcdef ...",
// "go1.24.0 X:nocoverageredesign": the first "go<digits>" anywhere, with
// missing parts 0 and pre-release tags dropped.
std::optional<GoVersion> parse_go_version(std::string_view s);

}  // namespace dynprobe

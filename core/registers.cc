#include "core/registers.h"

#include <array>

namespace dynprobe {

namespace {
constexpr std::array<std::string_view, 33> kNames = {
    "RAX", "RDX", "RCX", "RBX", "RSI", "RDI", "RBP", "RSP", "R8",  "R9",  "R10",
    "R11", "R12", "R13", "R14", "R15", "RIP", "X0",  "X1",  "X2",  "X3",  "X4",
    "X5",  "X6",  "X7",  "X8",  "X9",  "X10", "X11", "X12", "X13", "X14", "X15",
};
}  // namespace

std::string_view reg_name(Reg r) {
  auto i = static_cast<size_t>(r);
  return i < kNames.size() ? kNames[i] : "?";
}

std::optional<Reg> reg_from_dwarf(uint64_t n) {
  if (n < kNames.size()) return static_cast<Reg>(n);
  return std::nullopt;
}

}  // namespace dynprobe

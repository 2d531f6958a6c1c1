// x86-64 registers named by their DWARF numbers (System V psABI, figure 3.36),
// the one numbering shared by DWARF expressions, ABI plugins and the BPF
// backend's pt_regs mapping.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace dynprobe {

enum class Reg : uint16_t {
  RAX = 0,
  RDX = 1,
  RCX = 2,
  RBX = 3,
  RSI = 4,
  RDI = 5,
  RBP = 6,
  RSP = 7,
  R8 = 8,
  R9 = 9,
  R10 = 10,
  R11 = 11,
  R12 = 12,
  R13 = 13,
  R14 = 14,
  R15 = 15,
  RIP = 16,
  XMM0 = 17,
  XMM1,
  XMM2,
  XMM3,
  XMM4,
  XMM5,
  XMM6,
  XMM7,
  XMM8,
  XMM9,
  XMM10,
  XMM11,
  XMM12,
  XMM13,
  XMM14,
  XMM15,
};

inline constexpr bool is_vector_reg(Reg r) {
  return static_cast<uint16_t>(r) >= static_cast<uint16_t>(Reg::XMM0) &&
         static_cast<uint16_t>(r) <= static_cast<uint16_t>(Reg::XMM15);
}

inline constexpr Reg xmm(unsigned n) {
  return static_cast<Reg>(static_cast<uint16_t>(Reg::XMM0) + n);
}

// Upper-case names as Go's assembler and abi-internal.md spell them.
std::string_view reg_name(Reg r);
std::optional<Reg> reg_from_dwarf(uint64_t dwarf_regno);

}  // namespace dynprobe

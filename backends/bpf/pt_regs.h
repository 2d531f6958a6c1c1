// Where a uprobe program finds each x86-64 register: its context (R1) points
// at the trapped thread's struct pt_regs, whose layout the UAPI header gives.
// Vector registers are not in pt_regs at all (see docs/bpf-backend.md for
// where X0-X15 live and when they can be read).
#pragma once

#include <asm/ptrace.h>

#include <cstddef>
#include <cstdint>
#include <optional>

#include "core/registers.h"

namespace dynprobe::bpf {

inline constexpr std::optional<int16_t> pt_regs_offset(Reg r) {
  auto at = [](std::size_t off) { return std::optional<int16_t>(static_cast<int16_t>(off)); };
  // clang-format off
  switch (r) {
    case Reg::RAX: return at(offsetof(pt_regs, rax));
    case Reg::RDX: return at(offsetof(pt_regs, rdx));
    case Reg::RCX: return at(offsetof(pt_regs, rcx));
    case Reg::RBX: return at(offsetof(pt_regs, rbx));
    case Reg::RSI: return at(offsetof(pt_regs, rsi));
    case Reg::RDI: return at(offsetof(pt_regs, rdi));
    case Reg::RBP: return at(offsetof(pt_regs, rbp));
    case Reg::RSP: return at(offsetof(pt_regs, rsp));
    case Reg::R8:  return at(offsetof(pt_regs, r8));
    case Reg::R9:  return at(offsetof(pt_regs, r9));
    case Reg::R10: return at(offsetof(pt_regs, r10));
    case Reg::R11: return at(offsetof(pt_regs, r11));
    case Reg::R12: return at(offsetof(pt_regs, r12));
    case Reg::R13: return at(offsetof(pt_regs, r13));
    case Reg::R14: return at(offsetof(pt_regs, r14));
    case Reg::R15: return at(offsetof(pt_regs, r15));
    // At a uprobe the kernel has not yet stepped over the probed instruction,
    // so ip is its address (tested in BpfUprobe.RecordsEveryCall...).
    case Reg::RIP: return at(offsetof(pt_regs, rip));
    default: return std::nullopt;
  }
  // clang-format on
}

inline constexpr int16_t kPtRegsSize = sizeof(pt_regs);

static_assert(*pt_regs_offset(Reg::RDI) == 112 && *pt_regs_offset(Reg::R14) == 8 &&
                  *pt_regs_offset(Reg::RSP) == 152,
              "x86-64 pt_regs layout");

}  // namespace dynprobe::bpf

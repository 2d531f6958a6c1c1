// Machine-code facts found with Capstone: every RET of a function (where
// return probes go, since uretprobes corrupt Go stacks) and the end of the
// stack-check prologue.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/result.h"

namespace dynprobe {

struct CodeSites {
  std::vector<uint64_t> returns;  // addresses of every RET instruction in the function
  // First instruction after the stack-bound check (Go: `CMP SP, stackguard; JLS
  // morestack`, i.e. the instruction after the jbe/jb, or the target of a
  // ja/jae that jumps over an inline morestack call; for code without it the
  // SysV frame setup `[endbr64;] push rbp; mov rbp, rsp [; sub rsp, N]`).
  // Equal to the entry address when there is no such prologue.
  uint64_t prologue_end = 0;
  bool has_stack_check = false;  // Go split-stack check present
  // Tail calls (JMP out of the function) end a call without a RET; latency
  // from them is not measured but they are reported.
  std::vector<uint64_t> tail_jumps;
  // Bytes that neither Capstone nor LLVM could decode, skipped one at a
  // time. Non-zero means the instruction boundaries after them are guesses:
  // a return probe there may land inside an instruction.
  uint64_t undecoded_bytes = 0;
};

// `code` holds the function's bytes, `addr` is the address of code[0].
Result<CodeSites> find_code_sites(std::span<const uint8_t> code, uint64_t addr);

}  // namespace dynprobe

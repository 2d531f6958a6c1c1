// A small BPF assembler: the backend emits probe programs straight from the
// physical plan, so deploying a probe needs no compiler at run time.
//
// Jumps name labels; a label may be bound before or after the jumps that use
// it, and every offset is filled in by finish(). Mistakes in use (a label
// bound twice, a jump to a label never bound, an offset beyond 16 bits) are
// remembered and reported by finish() rather than thrown, so emission code
// stays a straight list of calls.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "backends/bpf/insn.h"
#include "core/result.h"

namespace dynprobe::bpf {

struct Label {
  uint32_t id = 0;
};

class Assembler {
 public:
  Label new_label();
  // Places the label at the next instruction to be emitted.
  void bind(Label label);

  void alu64(AluOp op, BpfReg dst, BpfReg src);
  void alu64(AluOp op, BpfReg dst, int32_t imm);
  void alu32(AluOp op, BpfReg dst, BpfReg src);
  void alu32(AluOp op, BpfReg dst, int32_t imm);
  void mov64(BpfReg dst, BpfReg src) { alu64(AluOp::Mov, dst, src); }
  void mov64(BpfReg dst, int32_t imm) { alu64(AluOp::Mov, dst, imm); }
  void mov32(BpfReg dst, BpfReg src) { alu32(AluOp::Mov, dst, src); }
  void mov32(BpfReg dst, int32_t imm) { alu32(AluOp::Mov, dst, imm); }
  void add64(BpfReg dst, int32_t imm) { alu64(AluOp::Add, dst, imm); }
  void neg64(BpfReg dst);

  // dst = *(size *)(src + off)
  void ldx(Size size, BpfReg dst, BpfReg src, int16_t off);
  // *(size *)(dst + off) = src
  void stx(Size size, BpfReg dst, int16_t off, BpfReg src);
  // *(size *)(dst + off) = imm
  void st(Size size, BpfReg dst, int16_t off, int32_t imm);
  // *(size *)(dst + off) += src, atomically (W or DW only).
  void atomic_add(Size size, BpfReg dst, int16_t off, BpfReg src);

  // Two instruction slots: a 64-bit constant, or a map's fd that the kernel
  // turns into the map's address at load time.
  void ld_imm64(BpfReg dst, uint64_t imm);
  void ld_map_fd(BpfReg dst, int map_fd);

  void ja(Label target);
  void jmp(JmpOp op, BpfReg dst, BpfReg src, Label target);
  void jmp(JmpOp op, BpfReg dst, int32_t imm, Label target);
  void jmp32(JmpOp op, BpfReg dst, BpfReg src, Label target);
  void jmp32(JmpOp op, BpfReg dst, int32_t imm, Label target);

  void call(Helper helper) { call(static_cast<int32_t>(helper)); }
  void call(int32_t helper_id);
  void exit();

  // Instruction slots emitted so far (ld_imm64 counts two).
  size_t size() const { return insns_.size(); }

  // The finished program with every jump resolved, or the first misuse.
  Result<std::vector<bpf_insn>> finish() const;

 private:
  struct Fixup {
    size_t at;
    uint32_t label;
  };
  void emit(bpf_insn insn) { insns_.push_back(insn); }
  void emit_jump(uint8_t code, BpfReg dst, BpfReg src, int32_t imm, Label target);
  void note_error(std::string message);

  std::vector<bpf_insn> insns_;
  std::vector<std::optional<size_t>> labels_;
  std::vector<Fixup> fixups_;
  std::optional<std::string> error_;
};

}  // namespace dynprobe::bpf

#include "backends/bpf/assembler.h"

#include <limits>

namespace dynprobe::bpf {

namespace {
constexpr uint8_t op(AluOp o) { return static_cast<uint8_t>(o); }
constexpr uint8_t op(JmpOp o) { return static_cast<uint8_t>(o); }
constexpr uint8_t sz(Size s) { return static_cast<uint8_t>(s); }
}  // namespace

Label Assembler::new_label() {
  labels_.emplace_back();
  return Label{static_cast<uint32_t>(labels_.size() - 1)};
}

void Assembler::bind(Label label) {
  if (label.id >= labels_.size()) return note_error("bind of a label from another assembler");
  if (labels_[label.id]) return note_error("label " + std::to_string(label.id) + " bound twice");
  labels_[label.id] = insns_.size();
}

void Assembler::note_error(std::string message) {
  if (!error_) error_ = std::move(message);
}

void Assembler::alu64(AluOp o, BpfReg dst, BpfReg src) {
  emit(make_insn(BPF_ALU64 | op(o) | BPF_X, dst, src, 0, 0));
}
void Assembler::alu64(AluOp o, BpfReg dst, int32_t imm) {
  emit(make_insn(BPF_ALU64 | op(o) | BPF_K, dst, r0, 0, imm));
}
void Assembler::alu32(AluOp o, BpfReg dst, BpfReg src) {
  emit(make_insn(BPF_ALU | op(o) | BPF_X, dst, src, 0, 0));
}
void Assembler::alu32(AluOp o, BpfReg dst, int32_t imm) {
  emit(make_insn(BPF_ALU | op(o) | BPF_K, dst, r0, 0, imm));
}
void Assembler::neg64(BpfReg dst) { emit(make_insn(BPF_ALU64 | BPF_NEG | BPF_K, dst, r0, 0, 0)); }

void Assembler::ldx(Size s, BpfReg dst, BpfReg src, int16_t off) {
  emit(make_insn(BPF_LDX | sz(s) | BPF_MEM, dst, src, off, 0));
}
void Assembler::stx(Size s, BpfReg dst, int16_t off, BpfReg src) {
  emit(make_insn(BPF_STX | sz(s) | BPF_MEM, dst, src, off, 0));
}
void Assembler::st(Size s, BpfReg dst, int16_t off, int32_t imm) {
  emit(make_insn(BPF_ST | sz(s) | BPF_MEM, dst, r0, off, imm));
}
void Assembler::atomic_add(Size s, BpfReg dst, int16_t off, BpfReg src) {
  if (s != Size::W && s != Size::DW) note_error("atomic add needs a 4 or 8 byte access");
  emit(make_insn(BPF_STX | sz(s) | BPF_ATOMIC, dst, src, off, BPF_ADD));
}

void Assembler::ld_imm64(BpfReg dst, uint64_t imm) {
  emit(make_insn(BPF_LD | BPF_DW | BPF_IMM, dst, r0, 0, static_cast<int32_t>(imm)));
  emit(make_insn(0, r0, r0, 0, static_cast<int32_t>(imm >> 32)));
}
void Assembler::ld_map_fd(BpfReg dst, int map_fd) {
  emit(
      make_insn(BPF_LD | BPF_DW | BPF_IMM, dst, static_cast<BpfReg>(BPF_PSEUDO_MAP_FD), 0, map_fd));
  emit(make_insn(0, r0, r0, 0, 0));
}

void Assembler::emit_jump(uint8_t code, BpfReg dst, BpfReg src, int32_t imm, Label target) {
  if (target.id >= labels_.size()) note_error("jump to a label from another assembler");
  fixups_.push_back({insns_.size(), target.id});
  emit(make_insn(code, dst, src, 0, imm));
}
void Assembler::ja(Label t) { emit_jump(BPF_JMP | BPF_JA, r0, r0, 0, t); }
void Assembler::jmp(JmpOp o, BpfReg dst, BpfReg src, Label t) {
  emit_jump(BPF_JMP | op(o) | BPF_X, dst, src, 0, t);
}
void Assembler::jmp(JmpOp o, BpfReg dst, int32_t imm, Label t) {
  emit_jump(BPF_JMP | op(o) | BPF_K, dst, r0, imm, t);
}
void Assembler::jmp32(JmpOp o, BpfReg dst, BpfReg src, Label t) {
  emit_jump(BPF_JMP32 | op(o) | BPF_X, dst, src, 0, t);
}
void Assembler::jmp32(JmpOp o, BpfReg dst, int32_t imm, Label t) {
  emit_jump(BPF_JMP32 | op(o) | BPF_K, dst, r0, imm, t);
}

void Assembler::call(int32_t helper_id) {
  emit(make_insn(BPF_JMP | BPF_CALL, r0, r0, 0, helper_id));
}
void Assembler::exit() { emit(make_insn(BPF_JMP | BPF_EXIT, r0, r0, 0, 0)); }

Result<std::vector<bpf_insn>> Assembler::finish() const {
  if (error_) return fail("BPF assembler: " + *error_);
  std::vector<bpf_insn> out = insns_;
  for (const Fixup& f : fixups_) {
    const std::optional<size_t>& where = labels_[f.label];
    if (!where)
      return fail("BPF assembler: jump at instruction " + std::to_string(f.at) + " to label " +
                  std::to_string(f.label) + " that was never bound");
    // Offsets count from the instruction after the jump.
    int64_t delta = static_cast<int64_t>(*where) - static_cast<int64_t>(f.at) - 1;
    if (delta < std::numeric_limits<int16_t>::min() || delta > std::numeric_limits<int16_t>::max())
      return fail("BPF assembler: jump at instruction " + std::to_string(f.at) +
                  " spans more than 32767 instructions");
    out[f.at].off = static_cast<int16_t>(delta);
  }
  return out;
}

}  // namespace dynprobe::bpf

// Vocabulary of the BPF instruction set as typed values, so that the
// assembler's callers cannot mix up an opcode with a register number or an
// access size. Encodings come from the kernel's UAPI header, never retyped.
#pragma once

#include <linux/bpf.h>

#include <cstdint>
#include <optional>

namespace dynprobe::bpf {

// R0: return value and helper result; R1-R5: helper arguments (clobbered by
// calls); R6-R9: callee-saved; R10: read-only frame pointer.
enum class BpfReg : uint8_t { R0 = 0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10 };

inline constexpr BpfReg r0 = BpfReg::R0, r1 = BpfReg::R1, r2 = BpfReg::R2, r3 = BpfReg::R3,
                        r4 = BpfReg::R4, r5 = BpfReg::R5, r6 = BpfReg::R6, r7 = BpfReg::R7,
                        r8 = BpfReg::R8, r9 = BpfReg::R9, r10 = BpfReg::R10;

enum class Size : uint8_t { B = BPF_B, H = BPF_H, W = BPF_W, DW = BPF_DW };

inline constexpr int size_bytes(Size s) {
  switch (s) {
    case Size::B:
      return 1;
    case Size::H:
      return 2;
    case Size::W:
      return 4;
    case Size::DW:
      return 8;
  }
  return 0;
}

// The access size for a value of 1, 2, 4 or 8 bytes.
inline constexpr std::optional<Size> size_for_bytes(int bytes) {
  switch (bytes) {
    case 1:
      return Size::B;
    case 2:
      return Size::H;
    case 4:
      return Size::W;
    case 8:
      return Size::DW;
    default:
      return std::nullopt;
  }
}

enum class AluOp : uint8_t {
  Add = BPF_ADD,
  Sub = BPF_SUB,
  Mul = BPF_MUL,
  Div = BPF_DIV,
  Or = BPF_OR,
  And = BPF_AND,
  Lsh = BPF_LSH,
  Rsh = BPF_RSH,
  Neg = BPF_NEG,
  Mod = BPF_MOD,
  Xor = BPF_XOR,
  Mov = BPF_MOV,
  Arsh = BPF_ARSH,
};

enum class JmpOp : uint8_t {
  Jeq = BPF_JEQ,
  Jgt = BPF_JGT,
  Jge = BPF_JGE,
  Jset = BPF_JSET,
  Jne = BPF_JNE,
  Jsgt = BPF_JSGT,
  Jsge = BPF_JSGE,
  Jlt = BPF_JLT,
  Jle = BPF_JLE,
  Jslt = BPF_JSLT,
  Jsle = BPF_JSLE,
};

// Helper function ids as the kernel numbers them (enum bpf_func_id).
enum class Helper : int32_t {
  MapLookupElem = BPF_FUNC_map_lookup_elem,
  MapUpdateElem = BPF_FUNC_map_update_elem,
  MapDeleteElem = BPF_FUNC_map_delete_elem,
  KtimeGetNs = BPF_FUNC_ktime_get_ns,
  GetSmpProcessorId = BPF_FUNC_get_smp_processor_id,
  GetCurrentPidTgid = BPF_FUNC_get_current_pid_tgid,
  GetCurrentTask = BPF_FUNC_get_current_task,
  ProbeReadUser = BPF_FUNC_probe_read_user,
  ProbeReadKernel = BPF_FUNC_probe_read_kernel,
  RingbufOutput = BPF_FUNC_ringbuf_output,
  RingbufReserve = BPF_FUNC_ringbuf_reserve,
  RingbufSubmit = BPF_FUNC_ringbuf_submit,
  RingbufDiscard = BPF_FUNC_ringbuf_discard,
  GetAttachCookie = BPF_FUNC_get_attach_cookie,
  KtimeGetBootNs = BPF_FUNC_ktime_get_boot_ns,
};

inline constexpr bpf_insn make_insn(uint8_t code, BpfReg dst, BpfReg src, int16_t off,
                                    int32_t imm) {
  bpf_insn i{};
  i.code = code;
  i.dst_reg = static_cast<uint8_t>(dst) & 0xf;
  i.src_reg = static_cast<uint8_t>(src) & 0xf;
  i.off = off;
  i.imm = imm;
  return i;
}

}  // namespace dynprobe::bpf

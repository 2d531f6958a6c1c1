#include "core/code_sites.h"

#include <capstone/capstone.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <vector>

#include "llvm/MC/MCAsmInfo.h"
#include "llvm/MC/MCContext.h"
#include "llvm/MC/MCDisassembler/MCDisassembler.h"
#include "llvm/MC/MCInst.h"
#include "llvm/MC/MCRegisterInfo.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/MCTargetOptions.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/TargetParser/Triple.h"

namespace dynprobe {

namespace {

// The stack check is always among a function's first instructions; the
// longest form (Go <= 1.16, frames over 4 KiB) takes eight.
constexpr size_t kPrologueWindow = 16;
// runtime.g.stackguard0 is the g's third word on amd64 (after stack.lo/hi).
constexpr int64_t kStackGuardOffset = 0x10;
// Go keeps g at fs:-8 in the local-exec TLS model (non-PIE executables).
constexpr int64_t kGoTlsGOffset = -8;

struct Handle {
  csh h = 0;
  ~Handle() {
    if (h != 0) cs_close(&h);
  }
};

struct InsnDeleter {
  void operator()(cs_insn* insn) const { cs_free(insn, 1); }
};

// Capstone 4 does not know newer extensions (AVX-512 VBMI/GFNI, which Go
// 1.26's runtime uses); stepping over such an instruction one byte at a time
// would decode its operand bytes as instructions and could report a RET in
// the middle of one, where a probe would corrupt the program. LLVM's x86
// disassembler knows them, so it supplies the length Capstone could not.
class LlvmLength {
 public:
  // 0 when LLVM cannot decode the bytes either.
  uint64_t operator()(std::span<const uint8_t> bytes, uint64_t addr) {
    if (!ready_ && !init()) return 0;
    llvm::MCInst inst;
    uint64_t size = 0;
    const auto status = dis_->getInstruction(inst, size, llvm::ArrayRef(bytes.data(), bytes.size()),
                                             addr, llvm::nulls());
    return status == llvm::MCDisassembler::Success ? size : 0;
  }

 private:
  bool init() {
    LLVMInitializeX86TargetInfo();
    LLVMInitializeX86TargetMC();
    LLVMInitializeX86Disassembler();
    const llvm::Triple triple("x86_64-unknown-linux-gnu");
    std::string err;
    const llvm::Target* target = llvm::TargetRegistry::lookupTarget(triple.str(), err);
    if (target == nullptr) return false;
    regs_.reset(target->createMCRegInfo(triple.str()));
    if (!regs_) return false;
    asm_info_.reset(target->createMCAsmInfo(*regs_, triple.str(), llvm::MCTargetOptions()));
    subtarget_.reset(target->createMCSubtargetInfo(triple.str(), "", ""));
    if (!asm_info_ || !subtarget_) return false;
    ctx_ =
        std::make_unique<llvm::MCContext>(triple, asm_info_.get(), regs_.get(), subtarget_.get());
    dis_.reset(target->createMCDisassembler(*subtarget_, *ctx_));
    ready_ = dis_ != nullptr;
    return ready_;
  }

  bool ready_ = false;
  std::unique_ptr<llvm::MCRegisterInfo> regs_;
  std::unique_ptr<llvm::MCAsmInfo> asm_info_;
  std::unique_ptr<llvm::MCSubtargetInfo> subtarget_;
  std::unique_ptr<llvm::MCContext> ctx_;
  std::unique_ptr<llvm::MCDisassembler> dis_;
};

// What the prologue scan needs from one instruction, copied out of
// Capstone's reused buffer.
struct Insn {
  uint64_t addr = 0;
  uint16_t size = 0;
  unsigned id = X86_INS_INVALID;
  cs_x86 x86{};
  uint64_t next() const { return addr + size; }
  const cs_x86_op* op(size_t i) const { return i < x86.op_count ? &x86.operands[i] : nullptr; }
};

bool is_reg(const cs_x86_op* op, x86_reg r) {
  return op != nullptr && op->type == X86_OP_REG && op->reg == r;
}

bool is_any_reg(const cs_x86_op* op) { return op != nullptr && op->type == X86_OP_REG; }

bool in(const std::vector<x86_reg>& set, x86_reg r) {
  return std::find(set.begin(), set.end(), r) != set.end();
}

void remove(std::vector<x86_reg>& set, x86_reg r) { std::erase(set, r); }

bool is_stack_guard(const cs_x86_op* op, const std::vector<x86_reg>& g_regs) {
  return op != nullptr && op->type == X86_OP_MEM && op->mem.segment == X86_REG_INVALID &&
         in(g_regs, op->mem.base) && op->mem.index == X86_REG_INVALID &&
         op->mem.disp == kStackGuardOffset;
}

// `mov REG, qword ptr fs:[-8]` (local exec) or `mov REG, qword ptr fs:[REG2]`
// (initial exec, PIE): the register now holds g.
bool loads_g_from_tls(const Insn& i) {
  if (i.id != X86_INS_MOV || i.x86.op_count != 2) return false;
  const cs_x86_op* src = i.op(1);
  if (!is_any_reg(i.op(0)) || src->type != X86_OP_MEM || src->mem.segment != X86_REG_FS ||
      src->size != 8 || src->mem.index != X86_REG_INVALID) {
    return false;
  }
  return src->mem.base == X86_REG_INVALID ? src->mem.disp == kGoTlsGOffset : src->mem.disp == 0;
}

bool is_stack_check_branch(unsigned id) {
  return id == X86_INS_JBE || id == X86_INS_JB || id == X86_INS_JA || id == X86_INS_JAE;
}

bool ends_straight_line(unsigned id) {
  return id == X86_INS_JMP || id == X86_INS_RET || id == X86_INS_CALL || id == X86_INS_INT3 ||
         id == X86_INS_UD2;
}

std::optional<uint64_t> branch_target(const Insn& i) {
  const cs_x86_op* op = i.op(0);
  if (i.x86.op_count != 1 || op->type != X86_OP_IMM) return std::nullopt;
  return static_cast<uint64_t>(op->imm);
}

// Go's split-stack check, in any of the forms its compilers emit:
//   regabi:        cmp rsp, [r14+0x10]                    ; jbe morestack
//   regabi, big:   lea r12, [rsp-N]; cmp r12, [r14+0x10]  ; jbe
//   regabi, huge:  mov r12, rsp; sub r12, N; jb; cmp r12, [r14+0x10]; jbe
//   ABI0:          mov rcx, fs:[-8]; cmp rsp, [rcx+0x10]  ; jbe
//   ABI0, huge:    mov rcx, fs:[-8]; mov rsi, [rcx+0x10]; cmp rsi, stackPreempt; je;
//                  lea rax, [rsp+StackGuard]; sub rax, rsi; cmp rax, N; jbe
// Returns the first body instruction.
std::optional<uint64_t> go_stack_check_end(const std::vector<Insn>& insns, uint64_t lo,
                                           uint64_t hi) {
  std::vector<x86_reg> g_regs = {X86_REG_R14};
  std::vector<x86_reg> guard_regs;  // hold stackguard0, or a value computed from it
  for (size_t k = 0; k < insns.size(); ++k) {
    const Insn& i = insns[k];
    const cs_x86_op* a = i.op(0);
    const cs_x86_op* b = i.op(1);
    if (loads_g_from_tls(i)) {
      g_regs.push_back(a->reg);
      continue;
    }
    if (i.id == X86_INS_MOV && is_any_reg(a) && is_stack_guard(b, g_regs)) {
      guard_regs.push_back(a->reg);
      continue;
    }
    if (i.id == X86_INS_SUB && is_any_reg(a) && is_any_reg(b) && in(guard_regs, b->reg)) {
      guard_regs.push_back(a->reg);
      continue;
    }
    const bool check =
        i.id == X86_INS_CMP && i.x86.op_count == 2 &&
        (is_stack_guard(a, g_regs) || is_stack_guard(b, g_regs) ||
         (is_any_reg(a) && in(guard_regs, a->reg)) || (is_any_reg(b) && in(guard_regs, b->reg)));
    if (check && k + 1 < insns.size() && is_stack_check_branch(insns[k + 1].id)) {
      const Insn& jcc = insns[k + 1];
      // jbe/jb leave for morestack and fall into the body; ja/jae jump
      // over an inline morestack call into the body.
      if (jcc.id == X86_INS_JA || jcc.id == X86_INS_JAE) {
        auto target = branch_target(jcc);
        if (target && *target >= lo && *target < hi) return *target;
      }
      return jcc.next();
    }
    if (ends_straight_line(i.id)) return std::nullopt;
    // Any other write to a tracked register ends what it tracked.
    if (is_any_reg(a) && (a->access & CS_AC_WRITE) && i.id != X86_INS_CMP) {
      remove(g_regs, a->reg);
      remove(guard_regs, a->reg);
    }
  }
  return std::nullopt;
}

// SysV frame setup: [endbr64;] push rbp; mov rbp, rsp [; sub rsp, N].
std::optional<uint64_t> frame_setup_end(const std::vector<Insn>& insns) {
  size_t k = 0;
  if (k < insns.size() && insns[k].id == X86_INS_ENDBR64) ++k;
  if (k + 1 >= insns.size()) return std::nullopt;
  const Insn& push = insns[k];
  const Insn& mov = insns[k + 1];
  if (push.id != X86_INS_PUSH || !is_reg(push.op(0), X86_REG_RBP)) return std::nullopt;
  if (mov.id != X86_INS_MOV || !is_reg(mov.op(0), X86_REG_RBP) || !is_reg(mov.op(1), X86_REG_RSP)) {
    return std::nullopt;
  }
  k += 2;
  if (k < insns.size() && insns[k].id == X86_INS_SUB && is_reg(insns[k].op(0), X86_REG_RSP) &&
      insns[k].op(1) != nullptr && insns[k].op(1)->type == X86_OP_IMM) {
    ++k;
  }
  return insns[k - 1].next();
}

}  // namespace

Result<CodeSites> find_code_sites(std::span<const uint8_t> code, uint64_t addr) {
  if (code.empty()) return fail("no machine code to disassemble (function of size 0)");
  Handle cs;
  if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs.h) != CS_ERR_OK) {
    return fail("cannot initialise the Capstone x86-64 disassembler");
  }
  cs_option(cs.h, CS_OPT_DETAIL, CS_OPT_ON);
  std::unique_ptr<cs_insn, InsnDeleter> insn(cs_malloc(cs.h));
  if (!insn) return fail("cannot initialise the Capstone x86-64 disassembler");

  const uint64_t end = addr + code.size();
  LlvmLength llvm_length;
  CodeSites sites;
  sites.prologue_end = addr;
  std::vector<Insn> head;  // the first instructions, contiguous from the entry
  bool head_open = true;

  const uint8_t* p = code.data();
  size_t left = code.size();
  uint64_t pc = addr;
  while (left > 0) {
    if (!cs_disasm_iter(cs.h, &p, &left, &pc, insn.get())) {
      uint64_t step = llvm_length(std::span(p, left), pc);
      if (step == 0) {
        // Not an instruction at all (data, a cut-off tail): step one byte.
        step = 1;
        ++sites.undecoded_bytes;
      }
      p += step;
      left -= step;
      pc += step;
      head_open = false;
      continue;
    }
    const cs_insn& i = *insn;
    if (head_open && head.size() < kPrologueWindow) {
      head.push_back(Insn{i.address, i.size, i.id, i.detail != nullptr ? i.detail->x86 : cs_x86{}});
    }
    if (i.id == X86_INS_RET) {
      sites.returns.push_back(i.address);
    } else if (i.id == X86_INS_JMP) {
      const cs_x86& x = i.detail->x86;
      if (x.op_count == 1 && x.operands[0].type == X86_OP_IMM) {
        const auto target = static_cast<uint64_t>(x.operands[0].imm);
        if (target < addr || target >= end) sites.tail_jumps.push_back(i.address);
      }
    }
  }

  if (auto body = go_stack_check_end(head, addr, end)) {
    sites.prologue_end = *body;
    sites.has_stack_check = true;
  } else if (auto body = frame_setup_end(head)) {
    sites.prologue_end = *body;
  }
  return sites;
}

}  // namespace dynprobe

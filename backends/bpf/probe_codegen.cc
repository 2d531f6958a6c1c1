#include "backends/bpf/probe_codegen.h"

#include <algorithm>
#include <cstddef>

#include "backends/bpf/assembler.h"
#include "backends/bpf/pt_regs.h"

namespace dynprobe::bpf {

namespace {

// BPF stack slots (offsets from R10).
constexpr int16_t kTmp = -8;
constexpr int16_t kGoid = -16;
constexpr int16_t kStackHi = -24;
constexpr int16_t kKey = -40;  // CallKey: context at -40, depth at -32
constexpr int16_t kZero = -48;

constexpr int16_t kFlagsOff = offsetof(RecordHeader, flags);
constexpr int16_t kGoidOff = offsetof(RecordHeader, goid);
constexpr int16_t kEntryNsOff = offsetof(RecordHeader, entry_ns);
constexpr int16_t kLatencyOff = offsetof(RecordHeader, latency_ns);
constexpr int16_t kMissingOff = offsetof(RecordHeader, missing);
constexpr int16_t kEntryIpOff = offsetof(RecordHeader, entry_ip);

enum StatSlot : int16_t {
  kDrops = offsetof(SessionStats, drops),
  kOrphans = offsetof(SessionStats, orphans),
  kContextErrors = offsetof(SessionStats, context_errors),
};

// R6 holds the pt_regs context throughout; R8 the record being written.
class Emitter {
 public:
  Emitter(const ProbePlan& plan, const ProbeMaps& maps, const TaskOffsets& task)
      : plan_(plan), maps_(maps), task_(task) {}

  Assembler& a() { return a_; }

  void prologue() {
    a_.mov64(r6, r1);
    a_.st(Size::W, r10, kZero, 0);
  }

  // Fills the CallKey at kKey and the goid at kGoid, or jumps to `fail`
  // after counting a context error.
  void load_context(Label done) {
    Label fail = a_.new_label(), ok = a_.new_label();
    if (plan_.context == ContextSource::Thread) {
      a_.call(Helper::GetCurrentPidTgid);
      a_.stx(Size::DW, r10, kKey, r0);
      a_.st(Size::DW, r10, kGoid, 0);
      a_.ldx(Size::DW, r1, r6, *pt_regs_offset(Reg::RSP));
      a_.stx(Size::DW, r10, kKey + 8, r1);
      return;
    }
    if (plan_.context == ContextSource::GoRegisterG) {
      a_.ldx(Size::DW, r7, r6, *pt_regs_offset(Reg::R14));
    } else {
      // ABI0: g lives at fsbase - 8; fsbase is in the task struct, not pt_regs.
      a_.call(Helper::GetCurrentTask);
      a_.mov64(r3, r0);
      a_.add64(r3, static_cast<int32_t>(task_.thread_fsbase));
      read_into_stack(Helper::ProbeReadKernel, kTmp, 8, fail);
      a_.ldx(Size::DW, r3, r10, kTmp);
      a_.add64(r3, static_cast<int32_t>(kGoTlsGOffset));
      read_into_stack(Helper::ProbeReadUser, kTmp, 8, fail);
      a_.ldx(Size::DW, r7, r10, kTmp);
    }
    a_.jmp(JmpOp::Jeq, r7, 0, fail);
    a_.mov64(r3, r7);
    a_.add64(r3, static_cast<int32_t>(plan_.go.goid_offset));
    read_into_stack(Helper::ProbeReadUser, kGoid, 8, fail);
    a_.mov64(r3, r7);
    a_.add64(r3, static_cast<int32_t>(plan_.go.stack_hi_offset));
    read_into_stack(Helper::ProbeReadUser, kStackHi, 8, fail);
    a_.ldx(Size::DW, r1, r10, kGoid);
    a_.stx(Size::DW, r10, kKey, r1);
    // depth = g.stack.hi - SP survives stack copying and thread migration.
    a_.ldx(Size::DW, r1, r10, kStackHi);
    a_.ldx(Size::DW, r2, r6, *pt_regs_offset(Reg::RSP));
    a_.alu64(AluOp::Sub, r1, r2);
    a_.stx(Size::DW, r10, kKey + 8, r1);
    a_.ja(ok);
    a_.bind(fail);
    bump(kContextErrors);
    a_.ja(done);
    a_.bind(ok);
  }

  // R3 = source address on entry.
  void read_into_stack(Helper helper, int16_t slot, int32_t size, Label fail) {
    a_.mov64(r1, r10);
    a_.add64(r1, slot);
    a_.mov64(r2, size);
    a_.call(helper);
    a_.jmp(JmpOp::Jne, r0, 0, fail);
  }

  void bump(StatSlot slot) {
    Label skip = a_.new_label();
    a_.ld_map_fd(r1, maps_.stats);
    a_.mov64(r2, r10);
    a_.add64(r2, kZero);
    a_.call(Helper::MapLookupElem);
    a_.jmp(JmpOp::Jeq, r0, 0, skip);
    a_.ldx(Size::DW, r1, r0, slot);
    a_.add64(r1, 1);
    a_.stx(Size::DW, r0, slot, r1);
    a_.bind(skip);
  }

  void header() {
    a_.st(Size::W, r8, offsetof(RecordHeader, probe_id), static_cast<int32_t>(plan_.id));
    a_.st(Size::W, r8, kFlagsOff, plan_.inlined ? static_cast<int32_t>(kRecordInlined) : 0);
    a_.call(Helper::GetCurrentPidTgid);
    a_.stx(Size::W, r8, offsetof(RecordHeader, tid), r0);
    a_.alu64(AluOp::Rsh, r0, 32);
    a_.stx(Size::W, r8, offsetof(RecordHeader, pid), r0);
    a_.ldx(Size::DW, r1, r10, kGoid);
    a_.stx(Size::DW, r8, kGoidOff, r1);
    a_.call(Helper::KtimeGetNs);
    a_.stx(Size::DW, r8, kEntryNsOff, r0);
    a_.st(Size::DW, r8, kLatencyOff, 0);
    a_.st(Size::DW, r8, kMissingOff, 0);
    a_.ldx(Size::DW, r1, r6, *pt_regs_offset(Reg::RIP));
    a_.stx(Size::DW, r8, kEntryIpOff, r1);
  }

  void mark_missing(uint32_t value_index) {
    if (value_index >= 64) return;  // the planner keeps at most 64 values per probe
    a_.ldx(Size::DW, r1, r8, kMissingOff);
    if (value_index < 31) {
      a_.alu64(AluOp::Or, r1, static_cast<int32_t>(1u << value_index));
    } else {
      a_.ld_imm64(r2, uint64_t{1} << value_index);
      a_.alu64(AluOp::Or, r1, r2);
    }
    a_.stx(Size::DW, r8, kMissingOff, r1);
  }

  Status capture(const std::vector<CaptureOp>& ops) {
    for (const CaptureOp& op : ops) {
      if (op.record_offset + op.size > plan_.record_size || op.record_offset > 0x7fff)
        return fail("capture op outside the record");
      auto rec = static_cast<int16_t>(op.record_offset);
      if (op.source == CaptureOp::Source::Stack) {
        Label ok = a_.new_label();
        a_.mov64(r1, r8);
        a_.add64(r1, rec);
        a_.mov64(r2, static_cast<int32_t>(op.size));
        a_.ldx(Size::DW, r3, r6, *pt_regs_offset(Reg::RSP));
        a_.add64(r3, static_cast<int32_t>(op.sp_offset));
        a_.call(Helper::ProbeReadUser);
        a_.jmp(JmpOp::Jeq, r0, 0, ok);
        mark_missing(op.value_index);
        a_.bind(ok);
        continue;
      }
      if (op.source == CaptureOp::Source::Constant) {
        a_.ld_imm64(r1, op.constant);
      } else if (auto reg_off = pt_regs_offset(op.reg); reg_off) {
        a_.ldx(Size::DW, r1, r6, *reg_off);
      } else {
        // Vector registers are not in pt_regs (docs/bpf-backend.md).
        mark_missing(op.value_index);
        continue;
      }
      if (auto sz = size_for_bytes(static_cast<int>(op.size))) {
        a_.stx(*sz, r8, rec, r1);
        continue;
      }
      for (uint32_t i = 0; i < op.size && i < 8; ++i) {
        a_.stx(Size::B, r8, static_cast<int16_t>(rec + i), r1);
        a_.alu64(AluOp::Rsh, r1, 8);
      }
    }
    return {};
  }

  // R9 holds the address being followed; R2 the byte count, clamped so the
  // verifier can bound the read.
  Status deref(const std::vector<DerefOp>& ops) {
    for (const DerefOp& op : ops) {
      if (op.dest + op.max_bytes > plan_.record_size || op.dest > 0x7fff ||
          op.addr_offset > 0x7fff || op.status > 0x7fff || op.len_offset > 0x7fff ||
          op.guard_len_offset > 0x7fff || op.count_out > 0x7fff)
        return fail("deref op outside the record");
      Label keep = a_.new_label(), sized = a_.new_label(), done = a_.new_label();
      a_.st(Size::B, r8, static_cast<int16_t>(op.status), 0);
      a_.ldx(Size::DW, r9, r8, static_cast<int16_t>(op.addr_offset));
      if (op.guard_len_offset >= 0) {
        a_.ldx(op.guard_byte ? Size::B : Size::DW, r1, r8,
               static_cast<int16_t>(op.guard_len_offset));
        a_.jmp(JmpOp::Jsgt, r1, static_cast<int32_t>(op.guard_index), keep);
        a_.mov64(r9, 0);
      }
      a_.bind(keep);
      if (op.addr_add != 0) {
        Label nil = a_.new_label();
        a_.jmp(JmpOp::Jeq, r9, 0, nil);
        a_.add64(r9, op.addr_add);
        a_.bind(nil);
      }
      if (op.len_offset >= 0) {
        Label nonneg = a_.new_label();
        uint32_t max_count = op.max_bytes / std::max<uint32_t>(op.elem_size, 1);
        a_.ldx(Size::DW, r2, r8, static_cast<int16_t>(op.len_offset));
        if (op.len_is_end) a_.alu64(AluOp::Sub, r2, r9);
        a_.jmp(JmpOp::Jsge, r2, 0, nonneg);
        a_.mov64(r2, 0);
        a_.bind(nonneg);
        if (op.len_is_end) {
          if (op.elem_size > 1) a_.alu64(AluOp::Div, r2, static_cast<int32_t>(op.elem_size));
          if (op.count_out >= 0) a_.stx(Size::DW, r8, static_cast<int16_t>(op.count_out), r2);
        }
        a_.jmp(JmpOp::Jle, r2, static_cast<int32_t>(max_count), sized);
        a_.mov64(r2, static_cast<int32_t>(max_count));
        a_.bind(sized);
        if (op.elem_size > 1) a_.alu64(AluOp::Mul, r2, static_cast<int32_t>(op.elem_size));
      } else {
        a_.mov64(r2, static_cast<int32_t>(op.max_bytes));
        a_.bind(sized);
      }
      a_.mov64(r1, r8);
      a_.add64(r1, static_cast<int32_t>(op.dest));
      a_.mov64(r3, r9);
      // A nil (or guarded-out) address zeroes the destination, which is
      // what the ops following from it must see. bpf_probe_read_kernel
      // refuses a user address before touching it and zeroes; the user read
      // would take a page fault first, which costs about a microsecond each
      // (an interface's speculative reads are mostly nil).
      Label user = a_.new_label();
      a_.jmp(JmpOp::Jne, r9, 0, user);
      a_.call(Helper::ProbeReadKernel);
      a_.ja(done);
      a_.bind(user);
      a_.call(Helper::ProbeReadUser);
      a_.jmp(JmpOp::Jeq, r0, 0, done);
      if (op.split_at_page && op.len_offset < 0 && op.max_bytes > 1) split_at_page(op, done);
      if (op.shrink_on_fault && op.len_offset < 0) {
        for (uint32_t size = op.max_bytes / 2; size >= 8; size /= 2) {
          a_.mov64(r1, r8);
          a_.add64(r1, static_cast<int32_t>(op.dest));
          a_.mov64(r2, static_cast<int32_t>(size));
          a_.mov64(r3, r9);
          a_.call(Helper::ProbeReadUser);
          a_.jmp(JmpOp::Jeq, r0, 0, done);
        }
      }
      a_.st(Size::B, r8, static_cast<int16_t>(op.status), 1);
      a_.bind(done);
    }
    return {};
  }

  // A read that failed is retried up to the page boundary: the failed read
  // zeroed the destination, and zeros are what an untouched page of fresh
  // heap holds (bpf_probe_read_user cannot fault it in). Go maps' buckets
  // straddle such pages when only their first slots were written.
  void split_at_page(const DerefOp& op, Label done) {
    Label no = a_.new_label();
    a_.mov64(r2, r9);
    a_.alu64(AluOp::And, r2, 4095);
    a_.mov64(r1, 4096);
    a_.alu64(AluOp::Sub, r1, r2);  // bytes left on the address's page: 1..4096
    a_.jmp(JmpOp::Jge, r1, static_cast<int32_t>(op.max_bytes), no);
    a_.mov64(r2, r1);
    a_.mov64(r1, r8);
    a_.add64(r1, static_cast<int32_t>(op.dest));
    a_.mov64(r3, r9);
    a_.call(Helper::ProbeReadUser);
    a_.jmp(JmpOp::Jeq, r0, 0, done);
    a_.bind(no);
  }

  // R8 = a ring-buffer record, or count a drop, run `on_drop` and go to `done`.
  template <class OnDrop>
  void reserve_record(Label done, OnDrop on_drop) {
    Label ok = a_.new_label();
    a_.ld_map_fd(r1, maps_.ring);
    a_.mov64(r2, static_cast<int32_t>(plan_.record_size));
    a_.mov64(r3, 0);
    a_.call(Helper::RingbufReserve);
    a_.jmp(JmpOp::Jne, r0, 0, ok);
    bump(kDrops);
    on_drop();
    a_.ja(done);
    a_.bind(ok);
    a_.mov64(r8, r0);
  }
  void reserve_record(Label done) {
    reserve_record(done, [] {});
  }

  // No wake-up: waking the reader costs the traced thread an IPI and a
  // scheduler wake-up per record (docs/benchmarks.md); the session consumes
  // on a short timer instead.
  void submit_record() {
    a_.mov64(r1, r8);
    a_.mov64(r2, BPF_RB_NO_WAKEUP);
    a_.call(Helper::RingbufSubmit);
  }

  void key_ptr(BpfReg r) {
    a_.mov64(r, r10);
    a_.add64(r, kKey);
  }

  void epilogue(Label done) {
    a_.bind(done);
    a_.mov64(r0, 0);
    a_.exit();
  }

  const ProbePlan& plan_;
  const ProbeMaps& maps_;
  const TaskOffsets& task_;
  Assembler a_;
};

}  // namespace

Result<std::vector<bpf_insn>> emit_entry_program(const ProbePlan& plan, const ProbeMaps& maps,
                                                 const TaskOffsets& task) {
  Emitter e(plan, maps, task);
  Assembler& a = e.a();
  Label done = a.new_label();
  e.prologue();
  e.load_context(done);
  if (plan.needs_return()) {
    a.ld_map_fd(r1, maps.scratch);
    a.mov64(r2, r10);
    a.add64(r2, kZero);
    a.call(Helper::MapLookupElem);
    a.jmp(JmpOp::Jeq, r0, 0, done);
    a.mov64(r8, r0);
  } else {
    e.reserve_record(done);
  }
  e.header();
  if (auto s = e.capture(plan.entry_ops); !s) return std::unexpected(s.error());
  if (auto s = e.deref(plan.entry_derefs); !s) return std::unexpected(s.error());
  if (plan.needs_return()) {
    // A second hit at the same depth (Go's prologue re-runs the function after
    // morestack) overwrites the first: one record per call.
    a.ld_map_fd(r1, maps.inflight);
    e.key_ptr(r2);
    a.mov64(r3, r8);
    a.mov64(r4, 0);  // BPF_ANY
    a.call(Helper::MapUpdateElem);
  } else {
    e.submit_record();
  }
  e.epilogue(done);
  return a.finish();
}

Result<std::vector<bpf_insn>> emit_return_program(const ProbePlan& plan, const ProbeMaps& maps,
                                                  const TaskOffsets& task) {
  Emitter e(plan, maps, task);
  Assembler& a = e.a();
  Label done = a.new_label(), found = a.new_label();
  e.prologue();
  e.load_context(done);
  a.ld_map_fd(r1, maps.inflight);
  e.key_ptr(r2);
  a.call(Helper::MapLookupElem);
  a.jmp(JmpOp::Jne, r0, 0, found);
  e.bump(kOrphans);
  a.ja(done);
  a.bind(found);
  a.mov64(r7, r0);
  // A dropped record must not leave its call in flight.
  e.reserve_record(done, [&] {
    a.ld_map_fd(r1, maps.inflight);
    e.key_ptr(r2);
    a.call(Helper::MapDeleteElem);
  });
  for (uint32_t off = 0; off + 8 <= plan.entry_size; off += 8) {
    a.ldx(Size::DW, r1, r7, static_cast<int16_t>(off));
    a.stx(Size::DW, r8, static_cast<int16_t>(off), r1);
  }
  a.st(Size::W, r8, kFlagsOff, 1);
  a.call(Helper::KtimeGetNs);
  a.ldx(Size::DW, r1, r8, kEntryNsOff);
  a.alu64(AluOp::Sub, r0, r1);
  a.stx(Size::DW, r8, kLatencyOff, r0);
  if (auto s = e.capture(plan.return_ops); !s) return std::unexpected(s.error());
  if (auto s = e.deref(plan.return_derefs); !s) return std::unexpected(s.error());
  e.submit_record();
  a.ld_map_fd(r1, maps.inflight);
  e.key_ptr(r2);
  a.call(Helper::MapDeleteElem);
  e.epilogue(done);
  return a.finish();
}

}  // namespace dynprobe::bpf

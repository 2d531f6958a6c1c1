#include "tests/unit/bpf/programs.h"

#include <cstddef>

#include "backends/bpf/assembler.h"
#include "backends/bpf/pt_regs.h"

namespace dynprobe::bpf::testing {

namespace {

Result<Program> finish_and_load(const Assembler& a, const char* name, const LoadOptions& o) {
  auto insns = a.finish();
  if (!insns) return std::unexpected(insns.error());
  return Program::load(name, *insns, o);
}

// r0 = &counts[r_key_on_stack at fp-8]; jumps to out when absent; then adds 1.
void add_one_at_key(Assembler& a, const Map& counts, Label out) {
  a.ld_map_fd(r1, counts.fd());
  a.mov64(r2, r10);
  a.add64(r2, -8);
  a.call(Helper::MapLookupElem);
  a.jmp(JmpOp::Jeq, r0, 0, out);
  a.mov64(r1, 1);
  a.atomic_add(Size::DW, r0, 0, r1);
}

}  // namespace

Result<Program> record_args_program(const Map& ring) {
  Assembler a;
  constexpr int rec = -static_cast<int>(sizeof(ArgRecord));
  auto at = [](size_t field) { return static_cast<int16_t>(rec + static_cast<int>(field)); };
  a.mov64(r6, r1);
  a.ldx(Size::DW, r2, r6, *pt_regs_offset(Reg::RDI));
  a.stx(Size::DW, r10, at(offsetof(ArgRecord, rdi)), r2);
  a.ldx(Size::DW, r2, r6, *pt_regs_offset(Reg::RIP));
  a.stx(Size::DW, r10, at(offsetof(ArgRecord, rip)), r2);
  a.mov64(r1, r6);
  a.call(Helper::GetAttachCookie);
  a.stx(Size::DW, r10, at(offsetof(ArgRecord, cookie)), r0);
  a.call(Helper::GetCurrentPidTgid);
  a.stx(Size::DW, r10, at(offsetof(ArgRecord, pid_tgid)), r0);
  a.ld_map_fd(r1, ring.fd());
  a.mov64(r2, r10);
  a.add64(r2, rec);
  a.mov64(r3, static_cast<int32_t>(sizeof(ArgRecord)));
  a.mov64(r4, 0);
  a.call(Helper::RingbufOutput);
  a.mov64(r0, 0);
  a.exit();
  return finish_and_load(a, "record_args", {});
}

Result<Program> count_program(const Map& counts, const LoadOptions& options) {
  Assembler a;
  Label out = a.new_label();
  a.st(Size::DW, r10, -8, 0);
  add_one_at_key(a, counts, out);
  a.bind(out);
  a.mov64(r0, 0);
  a.exit();
  return finish_and_load(a, "count", options);
}

Result<Program> count_by_cookie_program(const Map& counts, const LoadOptions& options) {
  Assembler a;
  Label out = a.new_label();
  a.call(Helper::GetAttachCookie);  // r1 still holds the context
  a.st(Size::DW, r10, -8, 0);
  a.stx(Size::W, r10, -8, r0);
  add_one_at_key(a, counts, out);
  a.bind(out);
  a.mov64(r0, 0);
  a.exit();
  return finish_and_load(a, "count_by_cookie", options);
}

}  // namespace dynprobe::bpf::testing

// Offsets inside kernel structures, read from the running kernel's BTF so a
// probe can walk from the current task to what pt_regs lacks: the thread's
// fs base (where ABI0 Go keeps g) and its saved FPU/SSE state.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"

struct btf;

namespace dynprobe::bpf {

struct MemberInfo {
  uint32_t offset = 0;  // bytes from the start of the outer struct
  uint32_t size = 0;    // bytes
};

class KernelBtf {
 public:
  // /sys/kernel/btf/vmlinux (or the other places libbpf knows).
  static Result<KernelBtf> load_vmlinux();
  // A raw BTF blob or an ELF file with a .BTF section.
  static Result<KernelBtf> load_file(const std::string& path);

  Result<uint32_t> struct_size(std::string_view struct_name) const;
  // A dotted path through nested members, e.g. ("task_struct", "thread.fsbase").
  // Members of anonymous structs and unions are found as if they were direct.
  Result<MemberInfo> member(std::string_view struct_name, std::string_view path) const;

 private:
  struct Free {
    void operator()(::btf* b) const;
  };
  explicit KernelBtf(::btf* b) : btf_(b) {}
  std::unique_ptr<::btf, Free> btf_;
};

// How to reach the task's struct fpu.
enum class FpuPlacement {
  AfterTaskStruct,  // recent kernels: x86_task_fpu(t) == (void *)t + sizeof(*t)
  InThreadStruct,   // older: &t->thread.fpu
};

// Everything a probe needs, from the current task pointer
// (bpf_get_current_task), to read fsbase and the saved XMM registers.
struct TaskOffsets {
  uint32_t thread_info_flags = 0;  // task_struct.thread_info.flags (TIF_* bits)
  uint32_t thread_fsbase = 0;      // task_struct.thread.fsbase
  FpuPlacement fpu_placement = FpuPlacement::AfterTaskStruct;
  uint32_t fpu = 0;             // offset of struct fpu from the task pointer
  uint32_t fpu_fpstate = 0;     // fpu.fpstate: pointer to the active struct fpstate
  uint32_t fpstate_regs = 0;    // fpstate.regs: the XSAVE/FXSAVE image
  uint32_t regs_xmm = 0;        // fxregs_state.xmm_space within the image: X0-X15, 16 bytes each
  uint32_t regs_xfeatures = 0;  // xregs_state.header.xfeatures (XSTATE_BV) within the image
  // Bit of thread_info.flags set while the task's user FPU registers sit in
  // fpstate rather than in the CPU; only then is the image current.
  uint32_t tif_need_fpu_load_bit = 19;
};

// Offsets from BTF; the TIF bit from the running kernel's release.
Result<TaskOffsets> task_offsets(const KernelBtf& btf);

// TIF_NEED_FPU_LOAD is a #define, so BTF cannot give it: 14 while x86 had
// its own TIF numbering, 19 since x86 uses the generic TIF bits (Linux 6.18,
// where it was measured: docs/bpf-backend.md). Release as uname -r prints it.
uint32_t tif_need_fpu_load_bit(std::string_view kernel_release);

// ABI0 Go (and the register ABI in non-Go code) keeps g in thread-local
// storage at fsbase - 8 on linux/amd64.
inline constexpr int64_t kGoTlsGOffset = -8;

// XSTATE_BV bit of the SSE state: when clear, XSAVE left X0-X15 unwritten
// because they held their initial value, zero.
inline constexpr uint64_t kXfeatureSse = 1u << 1;

}  // namespace dynprobe::bpf

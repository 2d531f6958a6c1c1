#include "backends/bpf/kernel_offsets.h"

#include <bpf/btf.h>
#include <sys/utsname.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>

namespace dynprobe::bpf {

void KernelBtf::Free::operator()(::btf* b) const { btf__free(b); }

Result<KernelBtf> KernelBtf::load_vmlinux() {
  ::btf* b = btf__load_vmlinux_btf();
  if (!b)
    return fail(std::string("reading the kernel's BTF: ") + std::strerror(errno) +
                " (needs a kernel built with CONFIG_DEBUG_INFO_BTF)");
  return KernelBtf(b);
}

Result<KernelBtf> KernelBtf::load_file(const std::string& path) {
  ::btf* b = btf__parse(path.c_str(), nullptr);
  if (!b) return fail("reading BTF from " + path + ": " + std::strerror(errno));
  return KernelBtf(b);
}

namespace {

struct Found {
  uint32_t bit_offset;
  uint32_t type_id;
  bool bitfield;
};

// Searches the struct or union type_id for a member called name, descending
// into anonymous members. The bit offset is relative to type_id's start.
std::optional<Found> find_member(const ::btf* b, uint32_t type_id, std::string_view name) {
  const btf_type* t = btf__type_by_id(b, type_id);
  if (!t || !btf_is_composite(t)) return std::nullopt;
  const btf_member* m = btf_members(t);
  for (uint16_t i = 0; i < btf_vlen(t); ++i, ++m) {
    uint32_t off = btf_member_bit_offset(t, i);
    const char* mname = btf__name_by_offset(b, m->name_off);
    if (mname && *mname) {
      if (name == mname) return Found{off, m->type, btf_member_bitfield_size(t, i) != 0};
      continue;
    }
    int inner = btf__resolve_type(b, m->type);
    if (inner < 0) continue;
    if (auto f = find_member(b, static_cast<uint32_t>(inner), name)) {
      f->bit_offset += off;
      return f;
    }
  }
  return std::nullopt;
}

Result<uint32_t> find_struct(const ::btf* b, std::string_view name) {
  std::string n(name);
  int id = btf__find_by_name_kind(b, n.c_str(), BTF_KIND_STRUCT);
  if (id < 0) id = btf__find_by_name_kind(b, n.c_str(), BTF_KIND_UNION);
  if (id < 0) return fail("kernel BTF has no struct " + n);
  return static_cast<uint32_t>(id);
}

}  // namespace

Result<uint32_t> KernelBtf::struct_size(std::string_view struct_name) const {
  auto id = find_struct(btf_.get(), struct_name);
  if (!id) return std::unexpected(id.error());
  long long size = btf__resolve_size(btf_.get(), *id);
  if (size < 0) return fail("kernel BTF: cannot size struct " + std::string(struct_name));
  return static_cast<uint32_t>(size);
}

Result<MemberInfo> KernelBtf::member(std::string_view struct_name, std::string_view path) const {
  const ::btf* b = btf_.get();
  auto id = find_struct(b, struct_name);
  if (!id) return std::unexpected(id.error());
  const std::string full = std::string(struct_name) + "." + std::string(path);

  uint32_t type = *id;
  uint64_t bits = 0;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    std::string_view part = path.substr(start, dot == std::string_view::npos ? dot : dot - start);
    int resolved = btf__resolve_type(b, type);
    if (resolved < 0) return fail("kernel BTF: cannot resolve the type holding " + full);
    auto f = find_member(b, static_cast<uint32_t>(resolved), part);
    if (!f) return fail("kernel BTF has no member " + full + " (no '" + std::string(part) + "')");
    if (f->bitfield) return fail("kernel BTF: " + full + " is a bit field");
    bits += f->bit_offset;
    type = f->type_id;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (bits % 8) return fail("kernel BTF: " + full + " is not byte aligned");
  long long size = btf__resolve_size(b, type);
  if (size < 0) return fail("kernel BTF: cannot size " + full);
  return MemberInfo{static_cast<uint32_t>(bits / 8), static_cast<uint32_t>(size)};
}

uint32_t tif_need_fpu_load_bit(std::string_view kernel_release) {
  int major = 0, minor = 0;
  std::string r(kernel_release);
  if (std::sscanf(r.c_str(), "%d.%d", &major, &minor) != 2) return 19;
  return (major > 6 || (major == 6 && minor >= 18)) ? 19 : 14;
}

Result<TaskOffsets> task_offsets(const KernelBtf& btf) {
  TaskOffsets o;
  auto need = [](Result<MemberInfo> m, uint32_t& out) -> Status {
    if (!m) return std::unexpected(m.error());
    out = m->offset;
    return {};
  };
  if (auto s = need(btf.member("task_struct", "thread_info.flags"), o.thread_info_flags); !s)
    return std::unexpected(s.error());
  if (auto s = need(btf.member("task_struct", "thread.fsbase"), o.thread_fsbase); !s)
    return std::unexpected(s.error());

  // Recent kernels put struct fpu after task_struct instead of in
  // thread_struct; BTF shows which by whether thread_struct still has it.
  if (auto embedded = btf.member("task_struct", "thread.fpu")) {
    if (embedded->size < 16)
      return fail("kernel BTF: task_struct.thread.fpu is a pointer; this kernel is not supported");
    o.fpu_placement = FpuPlacement::InThreadStruct;
    o.fpu = embedded->offset;
  } else {
    auto size = btf.struct_size("task_struct");
    if (!size) return std::unexpected(size.error());
    o.fpu_placement = FpuPlacement::AfterTaskStruct;
    o.fpu = *size;
  }
  if (auto s = need(btf.member("fpu", "fpstate"), o.fpu_fpstate); !s)
    return std::unexpected(s.error());
  if (auto s = need(btf.member("fpstate", "regs"), o.fpstate_regs); !s)
    return std::unexpected(s.error());
  if (auto s = need(btf.member("fpregs_state", "fxsave.xmm_space"), o.regs_xmm); !s)
    return std::unexpected(s.error());
  if (auto s = need(btf.member("fpregs_state", "xsave.header.xfeatures"), o.regs_xfeatures); !s)
    return std::unexpected(s.error());
  utsname u{};
  if (uname(&u) == 0) o.tif_need_fpu_load_bit = tif_need_fpu_load_bit(u.release);
  return o;
}

}  // namespace dynprobe::bpf

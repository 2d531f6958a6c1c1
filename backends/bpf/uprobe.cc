#include "backends/bpf/uprobe.h"

#include <bpf/bpf.h>
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace dynprobe::bpf {

static_assert(BPF_LSM_CGROUP == 43 && kAttachTraceUprobeMulti == BPF_LSM_CGROUP + 5,
              "BPF_TRACE_UPROBE_MULTI follows STRUCT_OPS, NETFILTER, TCX_INGRESS, TCX_EGRESS");

namespace {

constexpr const char* kPmuTypeFile = "/sys/bus/event_source/devices/uprobe/type";

std::string errno_text(int err) {
  std::string s = std::strerror(err);
  if (err == EPERM || err == EACCES) s += " (needs root, or CAP_BPF and CAP_PERFMON)";
  return s;
}

std::string where(const std::string& binary, uint64_t offset) {
  char hex[32];
  std::snprintf(hex, sizeof hex, "0x%llx", static_cast<unsigned long long>(offset));
  return binary + ":" + hex;
}

// The uprobe_multi member of union bpf_attr's link_create, laid out as in
// Linux >= 6.6 (the installed 6.1 UAPI header predates it).
struct LinkCreateUprobeMulti {
  uint32_t prog_fd;
  uint32_t target_fd;
  uint32_t attach_type;
  uint32_t flags;
  uint64_t path;
  uint64_t offsets;
  uint64_t ref_ctr_offsets;
  uint64_t cookies;
  uint32_t cnt;
  uint32_t multi_flags;
  uint32_t pid;
  uint32_t pad;
};
static_assert(sizeof(LinkCreateUprobeMulti) == 64);

}  // namespace

Result<UprobePmu> UprobePmu::detect() {
  std::ifstream in(kPmuTypeFile);
  uint32_t type = 0;
  if (!(in >> type))
    return fail(std::string("cannot read ") + kPmuTypeFile +
                ": this kernel lacks the uprobe perf PMU (CONFIG_UPROBE_EVENTS)");
  return UprobePmu{type};
}

Result<UprobeLink> UprobeLink::attach(const Program& program, const UprobeTarget& target) {
  auto pmu = UprobePmu::detect();
  if (!pmu) return std::unexpected(pmu.error());
  return attach(*pmu, program, target);
}

Result<UprobeLink> UprobeLink::attach(const UprobePmu& pmu, const Program& program,
                                      const UprobeTarget& target) {
  const std::string what = "attaching uprobe at " + where(target.binary, target.offset) + ": ";
  perf_event_attr attr{};
  attr.size = sizeof(attr);
  attr.type = pmu.type;
  attr.config1 = reinterpret_cast<uint64_t>(target.binary.c_str());  // uprobe_path
  attr.config2 = target.offset;                                      // probe_offset
  // A process filter is a task-bound event; without one the event is bound
  // to a CPU, and the kernel runs the program for every process anyway.
  pid_t pid = target.pid ? *target.pid : -1;
  int cpu = target.pid ? -1 : 0;
  int pfd =
      static_cast<int>(syscall(__NR_perf_event_open, &attr, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC));
  if (pfd < 0) {
    int err = errno;
    if (err == ENOENT) return fail(what + "no such file");
    if (err == ESRCH) return fail(what + "no process " + std::to_string(pid));
    return fail(what + errno_text(err));
  }
  UniqueFd perf(pfd);

  LIBBPF_OPTS(bpf_link_create_opts, opts);
  opts.perf_event.bpf_cookie = target.cookie;
  int lfd = bpf_link_create(program.fd(), perf.get(), BPF_PERF_EVENT, &opts);
  UniqueFd link;
  if (lfd >= 0) {
    link.reset(lfd);
  } else {
    int err = errno;
    // Kernels before 5.15 have no perf link, and then no cookies either.
    if (target.cookie != 0 || (err != EINVAL && err != EOPNOTSUPP))
      return fail(what + "creating BPF link: " + errno_text(err));
    if (ioctl(perf.get(), PERF_EVENT_IOC_SET_BPF, program.fd()) != 0)
      return fail(what + "PERF_EVENT_IOC_SET_BPF: " + errno_text(errno));
  }
  if (ioctl(perf.get(), PERF_EVENT_IOC_ENABLE, 0) != 0)
    return fail(what + "enabling perf event: " + errno_text(errno));
  return UprobeLink(std::move(perf), std::move(link));
}

Result<UprobeMultiLink> UprobeMultiLink::attach(const Program& program,
                                                const UprobeMultiTarget& target) {
  const std::string what =
      "attaching " + std::to_string(target.offsets.size()) + " uprobes in " + target.binary + ": ";
  if (target.offsets.empty()) return fail(what + "no offsets");
  if (!target.cookies.empty() && target.cookies.size() != target.offsets.size())
    return fail(what + "need one cookie per offset");

  // The kernel reads offsets and cookies as arrays of unsigned long.
  static_assert(sizeof(unsigned long) == sizeof(uint64_t));
  LinkCreateUprobeMulti attr{};
  attr.prog_fd = static_cast<uint32_t>(program.fd());
  attr.attach_type = kAttachTraceUprobeMulti;
  attr.path = reinterpret_cast<uint64_t>(target.binary.c_str());
  attr.offsets = reinterpret_cast<uint64_t>(target.offsets.data());
  attr.cookies = target.cookies.empty() ? 0 : reinterpret_cast<uint64_t>(target.cookies.data());
  attr.cnt = static_cast<uint32_t>(target.offsets.size());
  attr.pid = target.pid ? static_cast<uint32_t>(*target.pid) : 0;
  int fd = static_cast<int>(syscall(__NR_bpf, BPF_LINK_CREATE, &attr, sizeof(attr)));
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) return fail(what + "no such file");
    if (err == ESRCH) return fail(what + "no process " + std::to_string(attr.pid));
    if (err == EINVAL)
      return fail(what + std::strerror(err) +
                  " (uprobe_multi needs Linux >= 6.6 and a program loaded for it)");
    return fail(what + errno_text(err));
  }
  return UprobeMultiLink(UniqueFd(fd));
}

}  // namespace dynprobe::bpf

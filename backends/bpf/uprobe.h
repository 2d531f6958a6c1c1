// Uprobes attached without tracefs: a perf event of the kernel's uprobe PMU
// carries the (binary, file offset) pair, and a BPF link joins the program to
// it. Also one uprobe_multi link for many offsets of one binary (Linux >= 6.6).
// Dropping the owner detaches the probe.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "backends/bpf/program.h"
#include "backends/bpf/unique_fd.h"
#include "core/result.h"

namespace dynprobe::bpf {

// enum bpf_attach_type's BPF_TRACE_UPROBE_MULTI, absent from the 6.1 UAPI
// headers we build against. A program for UprobeMultiLink is loaded with it.
inline constexpr uint32_t kAttachTraceUprobeMulti = 48;

// The dynamic PMU type the kernel gave its uprobe event source.
struct UprobePmu {
  uint32_t type = 0;
  static Result<UprobePmu> detect();
};

struct UprobeTarget {
  std::string binary;   // path of the ELF file
  uint64_t offset = 0;  // file offset of the probed instruction
  // Only this process (all of its threads); otherwise every process mapping the binary.
  std::optional<pid_t> pid;
  uint64_t cookie = 0;  // read by the program with bpf_get_attach_cookie
};

class UprobeLink {
 public:
  static Result<UprobeLink> attach(const UprobePmu& pmu, const Program& program,
                                   const UprobeTarget& target);
  static Result<UprobeLink> attach(const Program& program, const UprobeTarget& target);

  // True when the kernel took a BPF link; false on the ioctl fallback (no cookie).
  bool has_link() const { return link_.valid(); }

 private:
  UprobeLink(UniqueFd perf, UniqueFd link) : perf_(std::move(perf)), link_(std::move(link)) {}

  // Member order: the link is closed before the perf event that anchors it.
  UniqueFd perf_;
  UniqueFd link_;
};

struct UprobeMultiTarget {
  std::string binary;
  std::vector<uint64_t> offsets;
  std::vector<uint64_t> cookies;  // empty, or one per offset
  std::optional<pid_t> pid;
};

class UprobeMultiLink {
 public:
  // The program must be loaded with expected_attach_type = kAttachTraceUprobeMulti.
  static Result<UprobeMultiLink> attach(const Program& program, const UprobeMultiTarget& target);

 private:
  explicit UprobeMultiLink(UniqueFd link) : link_(std::move(link)) {}
  UniqueFd link_;
};

}  // namespace dynprobe::bpf

// A loaded BPF program owned by its fd. Uprobe programs use the kprobe
// program type (the kernel runs uprobe and kprobe programs alike on pt_regs).
#pragma once

#include <linux/bpf.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "backends/bpf/unique_fd.h"
#include "core/result.h"

namespace dynprobe::bpf {

struct LoadOptions {
  // Needed by link types that check it, e.g. BPF_TRACE_UPROBE_MULTI (uprobe.h).
  uint32_t expected_attach_type = 0;
};

class Program {
 public:
  // On rejection the error holds the verifier's log (its last part when long).
  static Result<Program> load(std::string_view name, std::span<const bpf_insn> insns,
                              const LoadOptions& options = {});

  int fd() const { return fd_.get(); }
  const std::string& name() const { return name_; }

 private:
  Program(UniqueFd fd, std::string name) : fd_(std::move(fd)), name_(std::move(name)) {}

  UniqueFd fd_;
  std::string name_;
};

}  // namespace dynprobe::bpf

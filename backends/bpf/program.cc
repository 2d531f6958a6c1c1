#include "backends/bpf/program.h"

#include <bpf/bpf.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <vector>

namespace dynprobe::bpf {

namespace {

// Enough for the verifier's account of any program we emit; on overflow the
// kernel keeps the end of the log, which names the rejected instruction.
constexpr size_t kLogSize = 1 << 20;
// What an error message carries of a long log.
constexpr size_t kLogTail = 16 << 10;

int load_once(const std::string& name, std::span<const bpf_insn> insns, const LoadOptions& options,
              char* log, size_t log_size) {
  LIBBPF_OPTS(bpf_prog_load_opts, opts);
  opts.expected_attach_type = static_cast<bpf_attach_type>(options.expected_attach_type);
  if (log) {
    opts.log_buf = log;
    opts.log_size = static_cast<uint32_t>(log_size);
    opts.log_level = 1;
  }
  return bpf_prog_load(BPF_PROG_TYPE_KPROBE, name.c_str(), "GPL", insns.data(), insns.size(),
                       &opts);
}

}  // namespace

Result<Program> Program::load(std::string_view name, std::span<const bpf_insn> insns,
                              const LoadOptions& options) {
  // The kernel accepts only [A-Za-z0-9_.] in object names, 15 bytes at most.
  std::string kname(name.substr(0, BPF_OBJ_NAME_LEN - 1));
  for (char& c : kname)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.')) c = '_';

  if (insns.empty())
    return fail("loading BPF program '" + std::string(name) + "': no instructions");

  // Loading without a log is measurably faster (the verifier formats nothing),
  // so the log is only asked for when the first attempt fails.
  int fd = load_once(kname, insns, options, nullptr, 0);
  if (fd >= 0) return Program(UniqueFd(fd), std::string(name));
  int first_errno = errno;

  std::vector<char> log(kLogSize, '\0');
  fd = load_once(kname, insns, options, log.data(), log.size());
  if (fd >= 0) return Program(UniqueFd(fd), std::string(name));  // a transient failure

  std::string text(log.data(), strnlen(log.data(), log.size()));
  while (!text.empty() && text.back() == '\n') text.pop_back();
  if (text.size() > kLogTail) text = "...\n" + text.substr(text.size() - kLogTail);
  std::string msg =
      "loading BPF program '" + std::string(name) + "': " + std::strerror(first_errno);
  if (first_errno == EPERM) msg += " (needs root, or CAP_BPF and CAP_PERFMON)";
  if (!text.empty()) msg += "; verifier log:\n" + text;
  return fail(std::move(msg));
}

}  // namespace dynprobe::bpf

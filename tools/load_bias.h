// Runtime address -> link-time address for one binary in each traced process:
// zero for fixed-address executables, the mapping's start for PIE (read from
// /proc/PID/maps once per process).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <unordered_map>

namespace dynprobe {
class ElfFile;
}

namespace dynprobe::cli {

class LoadBias {
 public:
  LoadBias(const ElfFile& elf, const std::string& binary_path);
  // 0 when the binary is not PIE or the process has gone.
  uint64_t of(uint32_t pid);

 private:
  bool pie_;
  uint64_t first_vaddr_;
  std::string real_path_;
  std::unordered_map<uint32_t, uint64_t> cache_;
};

}  // namespace dynprobe::cli

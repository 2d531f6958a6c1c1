#include "tests/unit/bpf/self_probe.h"

#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace dynprobe::bpf::testing {

Result<ProbeSite> site_of(const void* code) {
  auto addr = reinterpret_cast<uintptr_t>(code);
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    // start-end perms offset dev inode path
    uintptr_t start = 0, end = 0;
    unsigned long long file_off = 0;
    char perms[8] = {};
    int path_at = 0;
    if (std::sscanf(line.c_str(), "%" SCNxPTR "-%" SCNxPTR " %7s %llx %*s %*s %n", &start, &end,
                    perms, &file_off, &path_at) < 4)
      continue;
    if (addr < start || addr >= end) continue;
    std::string path = path_at > 0 ? line.substr(static_cast<size_t>(path_at)) : "";
    if (path.empty() || path[0] != '/') return fail("code at an anonymous mapping");
    return ProbeSite{path, addr - start + file_off};
  }
  return fail("address not mapped");
}

}  // namespace dynprobe::bpf::testing

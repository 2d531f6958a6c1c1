#include "tools/load_bias.h"

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/elf_file.h"

namespace dynprobe::cli {

LoadBias::LoadBias(const ElfFile& elf, const std::string& binary_path) : pie_(elf.is_pie()) {
  first_vaddr_ = UINT64_MAX;
  for (const Segment& s : elf.load_segments())
    first_vaddr_ = std::min(first_vaddr_, s.vaddr & ~uint64_t{0xfff});
  if (first_vaddr_ == UINT64_MAX) first_vaddr_ = 0;
  char buf[PATH_MAX];
  real_path_ = realpath(binary_path.c_str(), buf) ? buf : binary_path;
}

uint64_t LoadBias::of(uint32_t pid) {
  if (!pie_) return 0;
  if (auto it = cache_.find(pid); it != cache_.end()) return it->second;
  std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
  uint64_t bias = 0;
  for (std::string line; std::getline(maps, line);) {
    std::istringstream in(line);
    std::string range, perms, offset, dev, inode, path;
    in >> range >> perms >> offset >> dev >> inode >> path;
    if (path != real_path_ || std::stoull(offset, nullptr, 16) != 0) continue;
    bias = std::stoull(range.substr(0, range.find('-')), nullptr, 16) - first_vaddr_;
    break;
  }
  cache_[pid] = bias;
  return bias;
}

}  // namespace dynprobe::cli

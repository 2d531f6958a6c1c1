// Runs a plan's deref ops over fake target memory with the BPF program's
// semantics (guards, zeroing on failure, the status byte), so that unit tests
// can check what the planner reads and what the decoder makes of it without
// a probe.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <vector>

#include "core/plan/plan.h"

namespace dynprobe::test {

// Target memory: a few regions; a read must lie wholly inside one.
class Memory {
 public:
  uint64_t add(std::vector<uint8_t> bytes) {
    uint64_t at = next_;
    next_ += (bytes.size() + 0xfff) & ~uint64_t{0xfff};
    next_ += 0x1000;  // a hole between regions
    regions_[at] = std::move(bytes);
    return at;
  }
  bool read(uint64_t addr, uint8_t* out, size_t n) const {
    auto it = regions_.upper_bound(addr);
    if (it == regions_.begin()) return false;
    --it;
    if (addr - it->first + n > it->second.size()) return false;
    memcpy(out, it->second.data() + (addr - it->first), n);
    return true;
  }

 private:
  uint64_t next_ = 0x10000;
  std::map<uint64_t, std::vector<uint8_t>> regions_;
};

inline int64_t i64(const std::vector<uint8_t>& rec, uint32_t at) {
  int64_t v;
  memcpy(&v, rec.data() + at, 8);
  return v;
}

// What backends/bpf/probe_codegen.cc emits for each op, in C++.
inline void run_ops(const std::vector<DerefOp>& ops, const Memory& mem, std::vector<uint8_t>& rec) {
  for (const DerefOp& op : ops) {
    rec[op.status] = 0;
    uint64_t addr = static_cast<uint64_t>(i64(rec, op.addr_offset));
    if (op.guard_len_offset >= 0) {
      int64_t g = op.guard_byte ? rec[op.guard_len_offset] : i64(rec, op.guard_len_offset);
      if (!(g > static_cast<int64_t>(op.guard_index))) addr = 0;
    }
    if (addr != 0) addr += op.addr_add;
    uint64_t n = op.max_bytes;
    if (op.len_offset >= 0) {
      int64_t count = std::max<int64_t>(i64(rec, op.len_offset), 0);
      n = std::min<uint64_t>(count, op.max_bytes / op.elem_size) * op.elem_size;
    }
    if (addr != 0 && mem.read(addr, rec.data() + op.dest, n)) continue;
    memset(rec.data() + op.dest, 0, n);
    uint64_t first = 4096 - (addr & 4095);
    if (addr != 0 && op.split_at_page && op.len_offset < 0 && first < n &&
        mem.read(addr, rec.data() + op.dest, first))
      continue;
    if (addr != 0) rec[op.status] = 1;
  }
}

template <class T>
void put(std::vector<uint8_t>& b, size_t at, T v) {
  memcpy(b.data() + at, &v, sizeof v);
}

}  // namespace dynprobe::test

// Reads a String's or Slice's header from a value image through the type's
// SeqLayout, so Go, Rust and C++ sequences decode alike.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <span>

#include "core/types.h"

namespace dynprobe {

struct SeqHeader {
  uint64_t ptr = 0;
  int64_t len = 0;
  std::optional<int64_t> cap;
};

inline SeqHeader read_seq_header(const TypeTable& types, const Type& t,
                                 std::span<const uint8_t> image) {
  auto word = [&](uint32_t at) {
    uint64_t v = 0;
    if (at + 8 <= image.size()) memcpy(&v, image.data() + at, 8);
    return v;
  };
  SeqHeader h;
  h.ptr = word(t.seq.ptr);
  uint64_t esz = t.kind == TypeKind::Slice ? types.get(t.elem).size : 1;
  auto count = [&](uint32_t at) -> int64_t {
    uint64_t v = word(at);
    if (!t.seq.len_is_end) return static_cast<int64_t>(v);
    if (v < h.ptr || esz == 0) return 0;
    return static_cast<int64_t>((v - h.ptr) / esz);
  };
  h.len = count(t.seq.len);
  if (t.kind == TypeKind::Slice && t.seq.cap >= 0) h.cap = count(static_cast<uint32_t>(t.seq.cap));
  return h;
}

}  // namespace dynprobe

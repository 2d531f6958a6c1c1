#include "backends/decode/value_decoder.h"

#include "backends/decode/seq_header.h"

#include <charconv>
#include <cinttypes>
#include <cmath>
#include <cstring>

namespace dynprobe {

namespace {

constexpr int kMaxDepth = 8;

uint64_t load_uint(std::span<const uint8_t> b, size_t size) {
  uint64_t v = 0;
  memcpy(&v, b.data(), std::min<size_t>({size, b.size(), 8}));
  return v;
}

int64_t load_int(std::span<const uint8_t> b, size_t size) {
  uint64_t v = load_uint(b, size);
  if (size >= 8) return static_cast<int64_t>(v);
  unsigned shift = 64 - 8 * static_cast<unsigned>(size);
  return static_cast<int64_t>(v << shift) >> shift;
}

// A float32 widens to the double nearest its shortest decimal digits (as Go's
// strconv 'g' -1 picks them), so that 0.1f prints as 0.1, not
// 0.10000000149011612, and 2^31 as 2.1474836e+09.
double load_float(std::span<const uint8_t> b, size_t size) {
  if (size == 4) {
    float f;
    memcpy(&f, b.data(), 4);
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf - 1, f, std::chars_format::scientific);
    *r.ptr = 0;
    return strtod(buf, nullptr);
  }
  double d;
  memcpy(&d, b.data(), 8);
  return d;
}

llvm::json::Value address(uint64_t v) {
  if (v == 0) return nullptr;
  char buf[24];
  snprintf(buf, sizeof buf, "0x%" PRIx64, v);
  return std::string(buf);
}

// Floats that JSON cannot hold (NaN, Inf) become strings, like Go's %v.
llvm::json::Value number(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "+Inf" : "-Inf";
  return d;
}

}  // namespace

llvm::json::Value unavailable_marker(std::string why) {
  return llvm::json::Object{{"$unavailable", std::move(why)}};
}

llvm::json::Value unreadable_marker() { return llvm::json::Object{{"$unreadable", true}}; }

llvm::json::Value decode_value(const TypeTable& types, TypeId id, std::span<const uint8_t> b,
                               int depth) {
  const Type& t = types.get(id);
  if (t.size > b.size()) return llvm::json::Object{{"$truncated", static_cast<int64_t>(b.size())}};
  if (depth > kMaxDepth) return unavailable_marker("depth limit");
  switch (t.kind) {
    case TypeKind::Bool:
      return b[0] != 0;
    case TypeKind::Enum:
      if (t.elem != kNoType && types.get(t.elem).kind == TypeKind::Uint)
        return load_uint(b, t.size);
      return load_int(b, t.size);
    case TypeKind::Int:
      return load_int(b, t.size);
    case TypeKind::Uint: {
      uint64_t v = load_uint(b, t.size);
      return v;  // llvm::json keeps a uint64 exact
    }
    case TypeKind::Float:
      return number(load_float(b, t.size));
    case TypeKind::Complex: {
      size_t half = t.size / 2;
      return llvm::json::Array{number(load_float(b, half)),
                               number(load_float(b.subspan(half), half))};
    }
    case TypeKind::Pointer:
    case TypeKind::Map:
    case TypeKind::Chan:
    case TypeKind::Func:
      return address(load_uint(b, 8));
    case TypeKind::String: {
      SeqHeader h = read_seq_header(types, t, b);
      return llvm::json::Object{
          {"$string", llvm::json::Object{{"ptr", address(h.ptr)}, {"len", h.len}}}};
    }
    case TypeKind::Slice: {
      SeqHeader h = read_seq_header(types, t, b);
      llvm::json::Object o{{"ptr", address(h.ptr)}, {"len", h.len}};
      if (h.cap) o["cap"] = *h.cap;
      return llvm::json::Object{{"$slice", std::move(o)}};
    }
    case TypeKind::Interface: {
      uint64_t tab = load_uint(b, 8);
      if (tab == 0) return nullptr;
      return llvm::json::Object{
          {"$interface", llvm::json::Object{{"tab", address(tab)},
                                            {"data", address(load_uint(b.subspan(8), 8))}}}};
    }
    case TypeKind::Array: {
      llvm::json::Array out;
      uint64_t elem_size = types.get(t.elem).size;
      for (uint64_t i = 0; i < t.count && elem_size > 0 && (i + 1) * elem_size <= b.size(); ++i)
        out.push_back(decode_value(types, t.elem, b.subspan(i * elem_size, elem_size), depth + 1));
      return out;
    }
    case TypeKind::Struct: {
      llvm::json::Object out;
      for (const Field& f : t.fields) {
        uint64_t fsize = types.get(f.type).size;
        if (f.offset + fsize > b.size()) continue;
        out[f.name] = decode_value(types, f.type, b.subspan(f.offset, fsize), depth + 1);
      }
      return out;
    }
    case TypeKind::Void:
      return nullptr;
    case TypeKind::Union:
    case TypeKind::Unknown:
      break;
  }
  std::string hex;
  for (size_t i = 0; i < t.size && i < b.size(); ++i) {
    char buf[3];
    snprintf(buf, sizeof buf, "%02x", b[i]);
    hex += buf;
  }
  return llvm::json::Object{{"$bytes", hex}};
}

}  // namespace dynprobe

#include "backends/decode/node_decoder.h"

#include <llvm/Support/ConvertUTF.h>

#include <cinttypes>
#include <cstring>

#include "backends/decode/value_decoder.h"

namespace dynprobe {

namespace {

uint64_t word(std::span<const uint8_t> rec, uint32_t offset) {
  uint64_t v = 0;
  if (offset + 8 <= rec.size()) memcpy(&v, rec.data() + offset, 8);
  return v;
}

llvm::json::Value cut_len(int64_t len, llvm::json::Value part) {
  return llvm::json::Object{{"$cut", llvm::json::Object{{"len", len}, {"value", std::move(part)}}}};
}

llvm::json::Value cut_depth(int depth) {
  return llvm::json::Object{{"$cut", llvm::json::Object{{"depth", depth}}}};
}

std::string hex_address(uint64_t v) {
  char buf[24];
  snprintf(buf, sizeof buf, "0x%" PRIx64, v);
  return buf;
}

class NodeDecoder {
 public:
  NodeDecoder(const DecodeContext& ctx, std::span<const uint8_t> rec) : ctx_(ctx), rec_(rec) {}

  llvm::json::Value node(const ValueNode& n) {
    // A copy: decoding an interface below may add types and move the table.
    Type t = ctx_.types->get(n.type);
    if (in_hole(n, t)) return unavailable_marker(ctx_.holes_reason);
    auto image = rec_.subspan(std::min<size_t>(n.offset, rec_.size()));
    if (image.size() < t.size)
      return llvm::json::Object{{"$truncated", static_cast<int64_t>(image.size())}};
    image = image.first(t.size);
    bool failed = n.status < rec_.size() && rec_[n.status] != 0;
    switch (n.follow) {
      case ValueNode::Follow::String: {
        if (failed) return unreadable_marker();
        int64_t len = static_cast<int64_t>(word(rec_, n.offset + 8));
        return text(rec_.subspan(n.payload, clamp(len, n.payload_max)), len, n.payload_max);
      }
      case ValueNode::Follow::Slice: {
        if (word(rec_, n.offset) == 0) return nullptr;
        if (failed) return unreadable_marker();
        int64_t len = static_cast<int64_t>(word(rec_, n.offset + 8));
        uint64_t esz = ctx_.types->get(t.elem).size;
        size_t fits = n.payload_max / std::max<uint64_t>(esz, 1);
        size_t have = std::min<size_t>(
            {static_cast<size_t>(std::max<int64_t>(len, 0)), fits, n.children.size()});
        if (is_byte(t.elem)) return text(rec_.subspan(n.payload, have), len, n.payload_max);
        llvm::json::Array items;
        for (size_t i = 0; i < have; ++i) items.push_back(node(n.children[i]));
        if (static_cast<uint64_t>(len) > have) return cut_len(len, std::move(items));
        return items;
      }
      case ValueNode::Follow::Pointer:
        if (word(rec_, n.offset) == 0) return nullptr;
        if (failed) return unreadable_marker();
        return n.children.empty() ? llvm::json::Value(nullptr) : node(n.children[0]);
      case ValueNode::Follow::CutDepth:
        if (word(rec_, n.offset) == 0) return nullptr;
        return cut_depth(n.depth);
      case ValueNode::Follow::CutBudget:
        if (word(rec_, n.offset) == 0) return nullptr;
        return llvm::json::Object{{"$cut", llvm::json::Object{{"budget", true}}}};
      case ValueNode::Follow::Map:
        if (word(rec_, n.offset) == 0) return nullptr;
        if (failed) return unreadable_marker();
        return llvm::json::Object{
            {"$map", llvm::json::Object{{"len", static_cast<int64_t>(word(rec_, n.payload))}}}};
      case ValueNode::Follow::Chan:
        if (word(rec_, n.offset) == 0) return nullptr;
        if (failed) return unreadable_marker();
        return llvm::json::Object{
            {"$chan",
             llvm::json::Object{{"len", static_cast<int64_t>(word(rec_, n.payload))},
                                {"cap", static_cast<int64_t>(word(rec_, n.payload + 8))}}}};
      case ValueNode::Follow::Func: {
        if (word(rec_, n.offset) == 0) return nullptr;
        if (failed) return unreadable_marker();
        uint64_t code = word(rec_, n.payload);
        std::string name = ctx_.symbolize ? ctx_.symbolize(code - ctx_.bias) : "";
        return name.empty() ? hex_address(code) : name;
      }
      case ValueNode::Follow::Interface:
        return interface(n);
      case ValueNode::Follow::None:
        break;
    }
    if (t.kind == TypeKind::Struct && !n.children.empty()) {
      llvm::json::Object out;
      for (size_t i = 0; i < t.fields.size() && i < n.children.size(); ++i)
        out[t.fields[i].name] = node(n.children[i]);
      return out;
    }
    if (t.kind == TypeKind::Array && !n.children.empty()) {
      if (is_byte(t.elem)) return text(image, static_cast<int64_t>(t.count), t.count);
      llvm::json::Array out;
      for (const ValueNode& c : n.children) out.push_back(node(c));
      return out;
    }
    return decode_value(*ctx_.types, n.type, image);
  }

 private:
  // Whether a leaf of the value's own image overlaps bytes that were not
  // captured; structs and arrays answer field by field.
  bool in_hole(const ValueNode& n, const Type& t) const {
    if (!ctx_.holes || ctx_.holes->empty()) return false;
    if (!n.children.empty() && n.follow == ValueNode::Follow::None) return false;
    if (n.offset < ctx_.value_offset || n.offset >= ctx_.value_offset + ctx_.value_size)
      return false;
    uint32_t lo = n.offset - ctx_.value_offset, hi = lo + static_cast<uint32_t>(t.size);
    for (const auto& h : *ctx_.holes)
      if (lo < h.offset + h.size && h.offset < hi) return true;
    return false;
  }

  static size_t clamp(int64_t len, uint32_t max) {
    return len <= 0 ? 0 : std::min<size_t>(static_cast<size_t>(len), max);
  }

  bool is_byte(TypeId id) const {
    const Type& e = ctx_.types->get(id);
    return e.kind == TypeKind::Uint && e.size == 1 && (e.name == "uint8" || e.name == "byte");
  }

  llvm::json::Value text(std::span<const uint8_t> bytes, int64_t len, uint64_t max) {
    llvm::json::Value v = nullptr;
    if (ctx_.bytes_as_hex) {
      std::string h = "hex:";
      for (uint8_t b : bytes) {
        char buf[3];
        snprintf(buf, sizeof buf, "%02x", b);
        h += buf;
      }
      v = h;
    } else {
      v = escape_go_string(bytes);
    }
    if (len > 0 && static_cast<uint64_t>(len) > max) return cut_len(len, std::move(v));
    return v;
  }

  // Decodes a value of type `id` held in an interface's data chunk; strings
  // in it come from the chunk's followed pairs, deeper references are cut.
  llvm::json::Value chunk_value(const ValueNode& n, TypeId id, std::span<const uint8_t> chunk,
                                uint32_t at, int depth) {
    Type t = ctx_.types->get(id);
    if (at + t.size > chunk.size())
      return llvm::json::Object{
          {"$cut", llvm::json::Object{{"len", static_cast<int64_t>(t.size)}}}};
    switch (t.kind) {
      case TypeKind::String: {
        int64_t len = static_cast<int64_t>(word(chunk, at + 8));
        for (const auto& cs : n.chunk_strings)
          if (cs.chunk_offset == at) {
            if (word(chunk, at) != 0 && rec_[cs.status]) return unreadable_marker();
            return text(rec_.subspan(cs.dest, clamp(len, cs.max_bytes)), len, cs.max_bytes);
          }
        return cut_depth(depth + 1);
      }
      case TypeKind::Struct: {
        llvm::json::Object out;
        for (const Field& f : t.fields)
          out[f.name] = chunk_value(n, f.type, chunk, at + static_cast<uint32_t>(f.offset), depth);
        return out;
      }
      case TypeKind::Array: {
        llvm::json::Array out;
        uint64_t esz = ctx_.types->get(t.elem).size;
        for (uint64_t i = 0; i < t.count && esz > 0; ++i)
          out.push_back(chunk_value(n, t.elem, chunk, at + static_cast<uint32_t>(i * esz), depth));
        return out;
      }
      case TypeKind::Pointer:
      case TypeKind::Slice:
      case TypeKind::Interface:
      case TypeKind::Map:
      case TypeKind::Chan:
        return word(chunk, at) == 0 ? llvm::json::Value(nullptr) : cut_depth(depth + 1);
      case TypeKind::Func:
        return word(chunk, at) == 0 ? llvm::json::Value(nullptr) : cut_depth(depth + 1);
      default:
        return decode_value(*ctx_.types, id, chunk.subspan(at, t.size));
    }
  }

 public:
  llvm::json::Value path(const ValueNode& root, const std::vector<PathStep>& steps,
                         ProbeExpr::Fn fn) {
    const ValueNode* n = &root;
    // Steps through one pointer; a value instead when that is not possible.
    auto through = [&]() -> std::optional<llvm::json::Value> {
      if (word(rec_, n->offset) == 0) return llvm::json::Value(nullptr);
      switch (n->follow) {
        case ValueNode::Follow::CutDepth:
          return cut_depth(n->depth);
        case ValueNode::Follow::CutBudget:
          return llvm::json::Object{{"$cut", llvm::json::Object{{"budget", true}}}};
        case ValueNode::Follow::Pointer:
          if (rec_[n->status]) return unreadable_marker();
          if (n->children.empty()) break;
          n = &n->children[0];
          return std::nullopt;
        default:
          break;
      }
      return unavailable_marker("not captured");
    };
    auto kind = [&] { return ctx_.types->get(n->type).kind; };
    for (const PathStep& step : steps) {
      switch (step.kind) {
        case PathStep::Kind::Field: {
          while (kind() == TypeKind::Pointer)
            if (auto v = through()) return *v;
          const Type& t = ctx_.types->get(n->type);
          size_t i = 0;
          while (i < t.fields.size() && t.fields[i].name != step.field) ++i;
          if (i >= n->children.size()) return unavailable_marker("not captured");
          n = &n->children[i];
          break;
        }
        case PathStep::Kind::Index: {
          if (kind() == TypeKind::Pointer)
            if (auto v = through()) return *v;
          if (kind() == TypeKind::Slice) {
            if (word(rec_, n->offset) == 0) return unavailable_marker("index of a nil slice");
            if (step.index >= word(rec_, n->offset + 8))
              return unavailable_marker("index out of range");
          }
          if (step.index >= n->children.size())
            return llvm::json::Object{
                {"$cut", llvm::json::Object{{"index", static_cast<int64_t>(step.index)}}}};
          n = &n->children[step.index];
          break;
        }
        case PathStep::Kind::Deref:
          if (auto v = through()) return *v;
          break;
      }
    }
    if (fn == ProbeExpr::Fn::None) return node(*n);
    const Type& t = ctx_.types->get(n->type);
    bool nil = word(rec_, n->offset) == 0;
    switch (t.kind) {
      case TypeKind::String:
        return static_cast<int64_t>(word(rec_, n->offset + 8));
      case TypeKind::Slice:
        return static_cast<int64_t>(word(rec_, n->offset + (fn == ProbeExpr::Fn::Len ? 8 : 16)));
      case TypeKind::Array:
        return static_cast<int64_t>(t.count);
      case TypeKind::Map:
      case TypeKind::Chan:
        if (nil) return 0;
        if (n->follow != ValueNode::Follow::Map && n->follow != ValueNode::Follow::Chan)
          return unavailable_marker("not captured");
        if (rec_[n->status]) return unreadable_marker();
        return static_cast<int64_t>(word(rec_, n->payload + (fn == ProbeExpr::Fn::Cap ? 8 : 0)));
      default:
        return unavailable_marker("no length");
    }
  }

 private:
  llvm::json::Value interface(const ValueNode& n) {
    if (word(rec_, n.offset) == 0) return nullptr;
    uint64_t rtype = word(rec_, n.dyn_type);
    std::optional<TypeId> dyn =
        ctx_.dynamic_type ? ctx_.dynamic_type(rtype - ctx_.bias) : std::nullopt;
    if (!dyn)
      return llvm::json::Object{
          {"type", hex_address(rtype)},
          {"value", llvm::json::Object{{"$unavailable", "dynamic type not in DWARF"}}}};
    Type t = ctx_.types->get(*dyn);
    std::string name = t.name;
    uint64_t data = word(rec_, n.offset + 8);
    auto chunk = rec_.subspan(n.payload, n.payload_max);
    bool failed = rec_[n.status] != 0;
    llvm::json::Value value = nullptr;
    switch (t.kind) {
      case TypeKind::Pointer:
        // Pointer-shaped dynamic types are stored in the data word itself:
        // the chunk is their pointee.
        if (data == 0) break;
        value = failed ? unreadable_marker() : chunk_value(n, t.elem, chunk, 0, n.depth + 1);
        break;
      case TypeKind::Map:
      case TypeKind::Chan:
      case TypeKind::Func:
        value = data == 0 ? llvm::json::Value(nullptr) : cut_depth(n.depth + 1);
        break;
      default:
        value = failed ? unreadable_marker() : chunk_value(n, *dyn, chunk, 0, n.depth);
    }
    return llvm::json::Object{{"type", name}, {"value", std::move(value)}};
  }

  const DecodeContext& ctx_;
  std::span<const uint8_t> rec_;
};

}  // namespace

std::string escape_go_string(std::span<const uint8_t> bytes) {
  std::string out;
  size_t i = 0;
  while (i < bytes.size()) {
    unsigned n = llvm::getNumBytesForUTF8(bytes[i]);
    if (i + n <= bytes.size() &&
        llvm::isLegalUTF8Sequence(bytes.data() + i, bytes.data() + i + n)) {
      out.append(reinterpret_cast<const char*>(bytes.data() + i), n);
      i += n;
      continue;
    }
    char buf[8];
    snprintf(buf, sizeof buf, "\\x%02x", bytes[i]);
    out += buf;
    ++i;
  }
  return out;
}

llvm::json::Value decode_node(const DecodeContext& ctx, const ValueNode& node,
                              std::span<const uint8_t> record) {
  return NodeDecoder(ctx, record).node(node);
}

llvm::json::Value decode_path(const DecodeContext& ctx, const ValueNode& root,
                              const std::vector<PathStep>& path, ProbeExpr::Fn fn,
                              std::span<const uint8_t> record) {
  return NodeDecoder(ctx, record).path(root, path, fn);
}

}  // namespace dynprobe

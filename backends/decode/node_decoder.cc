#include "backends/decode/node_decoder.h"

#include <llvm/Support/ConvertUTF.h>

#include <algorithm>
#include <cinttypes>
#include <cstring>

#include "backends/decode/seq_header.h"
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
        int64_t len = read_seq_header(*ctx_.types, t, image).len;
        return text(rec_.subspan(n.payload, clamp(len, n.payload_max)), len, n.payload_max);
      }
      case ValueNode::Follow::Slice: {
        SeqHeader h = read_seq_header(*ctx_.types, t, image);
        // Go's nil slice is null; an empty std::vector (end-pointer layout)
        // holds null pointers and is just empty.
        if (h.ptr == 0 && !t.seq.len_is_end) return nullptr;
        if (failed) return unreadable_marker();
        int64_t len = h.len;
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
        return map(n);
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
    if (t.kind == TypeKind::Struct && !t.variant_part.variants.empty())
      return enum_value(n, t, image);
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
  // A Rust enum as serde's externally tagged form: a variant without fields
  // is its name ("None"), one tuple field {"Some": v}, several tuple fields
  // {"V": [a, b]}, named fields {"V": {"x": 1}}.
  llvm::json::Value enum_value(const ValueNode& n, const Type& t, std::span<const uint8_t> image) {
    auto i = active_variant(*ctx_.types, t, image.data(), image.size());
    if (!i) return unavailable_marker("the discriminant matches no variant");
    const Variant& v = t.variant_part.variants[*i];
    const Type vt = ctx_.types->get(v.type);
    if (vt.fields.empty()) return v.name;
    std::vector<llvm::json::Value> values;
    const ValueNode* vn = *i < n.children.size() ? &n.children[*i] : nullptr;
    for (size_t k = 0; k < vt.fields.size(); ++k) {
      if (vn && k < vn->children.size()) {
        values.push_back(node(vn->children[k]));
      } else {
        uint64_t at = v.offset + vt.fields[k].offset;
        uint64_t size = ctx_.types->get(vt.fields[k].type).size;
        if (at + size > image.size()) return unavailable_marker("variant outside the value");
        values.push_back(decode_value(*ctx_.types, vt.fields[k].type, image.subspan(at, size)));
      }
    }
    bool tuple = std::all_of(vt.fields.begin(), vt.fields.end(),
                             [](const Field& f) { return f.name.starts_with("__"); });
    llvm::json::Value inner = nullptr;
    if (tuple && values.size() == 1) {
      inner = std::move(values.front());
    } else if (tuple) {
      llvm::json::Array a;
      for (auto& x : values) a.push_back(std::move(x));
      inner = std::move(a);
    } else {
      llvm::json::Object o;
      for (size_t k = 0; k < values.size(); ++k) o[vt.fields[k].name] = std::move(values[k]);
      inner = std::move(o);
    }
    return llvm::json::Object{{v.name, std::move(inner)}};
  }

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
      case TypeKind::Interface:
        if (word(chunk, at) == 0) return nullptr;
        for (const ValueNode& c : n.children) {
          if (c.offset != n.payload + at) continue;
          if (c.follow == ValueNode::Follow::CutBudget) return cut_budget();
          if (c.follow == ValueNode::Follow::Interface)
            return interface_at(c, t.empty_interface ? c.offset : c.dyn_type, depth);
        }
        return cut_depth(depth + 1);
      case TypeKind::Pointer:
      case TypeKind::Slice:
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
    for (size_t i = 0; i < steps.size(); ++i) {
      const PathStep& step = steps[i];
      // Map entries and interfaces' values exist only as decoded values: the
      // rest of the path is applied to those.
      if (step.kind == PathStep::Kind::Key || step.kind == PathStep::Kind::Assert ||
          (step.kind == PathStep::Kind::Index && kind() == TypeKind::Map)) {
        llvm::json::Value v = node(*n);
        for (; i < steps.size(); ++i)
          if (!value_step(v, steps[i])) break;
        return fn == ProbeExpr::Fn::None ? std::move(v) : value_len(v, fn);
      }
      switch (step.kind) {
        case PathStep::Kind::Key:
        case PathStep::Kind::Assert:
          break;
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
            SeqHeader h = read_seq_header(*ctx_.types, ctx_.types->get(n->type), image_of(*n));
            if (h.ptr == 0) return unavailable_marker("index of a nil slice");
            if (step.index >= static_cast<uint64_t>(std::max<int64_t>(h.len, 0)))
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
      case TypeKind::Slice: {
        SeqHeader h = read_seq_header(*ctx_.types, t, image_of(*n));
        if (fn == ProbeExpr::Fn::Len) return h.len;
        if (h.cap) return *h.cap;
        return unavailable_marker("no capacity in this type");
      }
      case TypeKind::Array:
        return static_cast<int64_t>(t.count);
      case TypeKind::Map:
      case TypeKind::Chan:
        if (nil) return 0;
        if (n->follow != ValueNode::Follow::Map && n->follow != ValueNode::Follow::Chan)
          return unavailable_marker("not captured");
        if (rec_[n->status]) return unreadable_marker();
        if (n->map) return static_cast<int64_t>(word(rec_, n->payload + n->map->count));
        return static_cast<int64_t>(word(rec_, n->payload + (fn == ProbeExpr::Fn::Cap ? 8 : 0)));
      default:
        return unavailable_marker("no length");
    }
  }

 private:
  llvm::json::Value interface(const ValueNode& n) { return interface_at(n, n.dyn_type, n.depth); }

  // `rtype_at`: where the record holds the _type address. `depth`: pointers
  // followed to reach the interface. An interface found in another's chunk
  // may have been read without a chunk of its own (the last nesting level):
  // its type is known, its value is cut.
  llvm::json::Value interface_at(const ValueNode& n, uint32_t rtype_at, int depth) {
    if (word(rec_, n.offset) == 0) return nullptr;
    uint64_t rtype = word(rec_, rtype_at);
    std::optional<TypeId> dyn =
        ctx_.dynamic_type ? ctx_.dynamic_type(rtype - ctx_.bias) : std::nullopt;
    std::string name;
    if (!dyn && n.type_name && ctx_.descriptor_type) {
      if (auto raw = descriptor_name(*n.type_name)) {
        auto named = ctx_.descriptor_type(*raw);
        name = std::move(named.name);
        dyn = named.type;
        if (!dyn)
          return llvm::json::Object{
              {"type", name}, {"value", unavailable_marker("type not in the binary's DWARF")}};
      }
    }
    // An address in place of a type name would read as a wrong value: the
    // whole interface is marked instead.
    if (!dyn) return unavailable_marker("dynamic type " + hex_address(rtype) + " not in DWARF");
    Type t = ctx_.types->get(*dyn);
    if (name.empty()) name = t.name;
    uint64_t data = word(rec_, n.offset + 8);
    auto chunk = rec_.subspan(n.payload, n.payload_max);
    bool failed = rec_[n.status] != 0;
    llvm::json::Value value = nullptr;
    switch (t.kind) {
      case TypeKind::Pointer:
        // Pointer-shaped dynamic types are stored in the data word itself:
        // the chunk is their pointee.
        if (data == 0) break;
        if (n.payload_max == 0) {
          value = cut_depth(depth);
          break;
        }
        value = failed ? unreadable_marker() : chunk_value(n, t.elem, chunk, 0, depth + 1);
        break;
      case TypeKind::Map:
      case TypeKind::Chan:
      case TypeKind::Func:
        value = data == 0 ? llvm::json::Value(nullptr) : cut_depth(depth + 1);
        break;
      default:
        if (n.payload_max == 0)
          value = cut_depth(depth);
        else
          value = failed ? unreadable_marker() : chunk_value(n, *dyn, chunk, 0, depth);
    }
    return llvm::json::Object{{"type", name}, {"value", std::move(value)}};
  }

  // The bytes of a type name read from a descriptor; nullopt when unreadable
  // or cut (a partial name would name another type).
  std::optional<std::string_view> descriptor_name(const ValueNode::DescriptorName& d) const {
    if (rec_[d.status] != 0) return std::nullopt;
    uint64_t len = word(rec_, d.header + 8);
    if (len == 0 || len > d.max_bytes || d.dest + len > rec_.size()) return std::nullopt;
    return std::string_view(reinterpret_cast<const char*>(rec_.data() + d.dest), len);
  }

  static bool marker(const llvm::json::Value& v) {
    const auto* o = v.getAsObject();
    return o && o->size() == 1 && o->begin()->first.str().starts_with("$") &&
           !o->getObject("$map") && !o->getObject("$chan");
  }

  // One path step on a decoded value; false (with `v` replaced by what to
  // print) when the path ends here.
  static bool value_step(llvm::json::Value& v, const PathStep& step) {
    auto stop = [&](llvm::json::Value with) {
      v = std::move(with);
      return false;
    };
    if (v.kind() == llvm::json::Value::Null)
      return stop(step.kind == PathStep::Kind::Deref || step.kind == PathStep::Kind::Field
                      ? llvm::json::Value(nullptr)
                      : unavailable_marker(step.kind == PathStep::Kind::Assert ? "nil interface"
                                                                               : "nil map"));
    if (marker(v)) {
      // A cut map still lists the entries read.
      const auto* cut = v.getAsObject()->getObject("$cut");
      const auto* part = cut ? cut->get("value") : nullptr;
      if (!part || !part->getAsObject() || !part->getAsObject()->getObject("$map")) return false;
    }
    auto* o = v.getAsObject();
    switch (step.kind) {
      case PathStep::Kind::Deref:
        return true;  // pointers are already their pointees
      case PathStep::Kind::Assert: {
        auto type = o ? o->getString("type") : std::nullopt;
        if (!type || !o->get("value")) return stop(unavailable_marker("not an interface"));
        if (*type != step.field)
          return stop(unavailable_marker("dynamic type is " + type->str() + ", not " + step.field));
        llvm::json::Value inner = std::move(*o->get("value"));
        v = std::move(inner);
        return true;
      }
      case PathStep::Kind::Field: {
        auto* f = o ? o->get(step.field) : nullptr;
        if (!f) return stop(unavailable_marker("not captured"));
        llvm::json::Value inner = std::move(*f);
        v = std::move(inner);
        return true;
      }
      case PathStep::Kind::Index:
      case PathStep::Kind::Key: {
        const llvm::json::Object* m = o ? o->getObject("$map") : nullptr;
        bool cut = false;
        if (!m && o && o->getObject("$cut")) {
          cut = true;
          m = o->getObject("$cut")->getObject("value")->getObject("$map");
        }
        const llvm::json::Array* items = nullptr;
        if (m) {
          items = m->getArray("entries");
        } else if (auto* a = v.getAsArray()) {
          if (step.index >= a->size()) return stop(unavailable_marker("index out of range"));
          llvm::json::Value inner = std::move((*a)[step.index]);
          v = std::move(inner);
          return true;
        }
        if (!items) return stop(unavailable_marker("not captured"));
        for (const auto& e : *items) {
          const auto* eo = e.getAsObject();
          const auto* k = eo ? eo->get("key") : nullptr;
          if (!k) continue;
          bool match = false;
          if (step.kind == PathStep::Kind::Key) {
            match = k->getAsString() && *k->getAsString() == step.field;
          } else if (auto ki = k->getAsInteger()) {
            match = step.negative ? *ki < 0 && static_cast<uint64_t>(-*ki) == step.index
                                  : *ki >= 0 && static_cast<uint64_t>(*ki) == step.index;
          } else if (auto ku = k->getAsUINT64()) {
            match = !step.negative && *ku == step.index;
          }
          if (match) {
            llvm::json::Value inner = *eo->get("value");
            v = std::move(inner);
            return true;
          }
        }
        return stop(unavailable_marker(cut ? "key not among the entries read (the map was cut)"
                                           : "key not in the map"));
      }
    }
    return false;
  }

  // len/cap of a decoded value.
  static llvm::json::Value value_len(const llvm::json::Value& v, ProbeExpr::Fn fn) {
    if (auto s = v.getAsString()) {
      // The decoder's text is the bytes, with invalid ones as \xNN.
      int64_t n = 0;
      for (size_t i = 0; i < s->size(); ++i, ++n)
        if (s->substr(i).starts_with("\\x") && i + 3 < s->size()) i += 3;
      return n;
    }
    if (auto* a = v.getAsArray()) return static_cast<int64_t>(a->size());
    if (auto* o = v.getAsObject()) {
      if (auto* m = o->getObject("$map")) return *m->get("len");
      if (auto* c = o->getObject("$cut"); c && c->get("len")) return *c->get("len");
      if (marker(v)) return v;
      if (auto* c = o->getObject("$chan")) return *c->get(fn == ProbeExpr::Fn::Cap ? "cap" : "len");
    }
    return unavailable_marker("no length");
  }

  static llvm::json::Value cut_budget() {
    return llvm::json::Object{{"$cut", llvm::json::Object{{"budget", true}}}};
  }

  // A map's entries from its header and the buckets or groups read with it
  // (ValueNode::MapLayout). The count in the header is the truth: entries
  // are complete when as many full slots were found, else the map is cut,
  // saying why. Entries are sorted by their key's JSON text: Go's order is
  // random, a reader's diff should not be.
  llvm::json::Value map(const ValueNode& n) {
    int64_t len = static_cast<int64_t>(word(rec_, n.payload + (n.map ? n.map->count : 0)));
    if (!n.map) {
      // No layout (gccgo's DWARF has no key and value types): the count
      // alone, marked as a cut unless the map is empty.
      llvm::json::Value out = llvm::json::Object{
          {"$map", llvm::json::Object{{"len", len}, {"entries", llvm::json::Array{}}}}};
      if (len == 0) return out;
      return llvm::json::Object{
          {"$cut",
           llvm::json::Object{{"len", len},
                              {"value", std::move(out)},
                              {"why", "entries not read: no key and value types in the DWARF"}}}};
    }
    const ValueNode::MapLayout& m = *n.map;
    std::vector<std::pair<std::string, llvm::json::Value>> entries;
    std::string why;
    auto note = [&](std::string w) {
      if (why.empty()) why = std::move(w);
    };
    // Takes the full slots of one bucket or group; false if it was not read.
    auto take = [&](const ValueNode& g) {
      if (g.follow == ValueNode::Follow::CutBudget) {
        note("the record budget ran out before every bucket");
        return false;
      }
      if (rec_[g.status] != 0) {
        note("a bucket was unreadable");
        return false;
      }
      for (size_t s = 0; 2 * s + 1 < g.children.size() && s < 8; ++s) {
        uint8_t ctrl = rec_[g.offset + m.tophash + s];
        bool full = m.kind == ValueNode::MapLayout::Kind::Classic ? ctrl >= 5  // minTopHash
                                                                  : (ctrl & 0x80) == 0;
        if (!full) continue;
        llvm::json::Value key = node(g.children[2 * s]);
        std::string text;
        llvm::raw_string_ostream os(text);
        os << key;
        os.flush();
        entries.emplace_back(
            std::move(text),
            llvm::json::Object{{"key", std::move(key)}, {"value", node(g.children[2 * s + 1])}});
      }
      return true;
    };
    if (m.kind == ValueNode::MapLayout::Kind::Classic) {
      uint8_t log2 = rec_[n.payload + m.log2_buckets];
      uint64_t buckets = log2 < 63 ? uint64_t{1} << log2 : ~uint64_t{0};
      if (word(rec_, n.payload + m.old_buckets) != 0)
        note("the map is growing: entries still in its old buckets are not read");
      if (buckets > m.buckets) note("more buckets than --max-elems reads");
      for (uint64_t i = 0; i < std::min<uint64_t>(buckets, m.buckets); ++i) {
        const ValueNode& b = n.children[i];
        if (!take(b)) continue;
        if (word(rec_, b.offset + m.overflow) == 0) continue;
        const ValueNode& o = n.children[m.buckets + i];
        if (take(o) && word(rec_, o.offset + m.overflow) != 0)
          note("a second overflow bucket is not read");
      }
    } else if (word(rec_, n.payload + m.dir) != 0) {
      int64_t dir_len = static_cast<int64_t>(word(rec_, n.payload + m.dir_len));
      if (dir_len == 0) {
        take(n.children[0]);
      } else if (rec_[m.table_status] != 0) {
        note("the map's table was unreadable");
      } else {
        if (dir_len > 1) note("only the first of the map's tables is read");
        uint64_t groups = word(rec_, m.table + m.length_mask) + 1;
        if (groups > m.buckets) note("more groups than --max-elems reads");
        for (uint64_t g = 0; g < std::min<uint64_t>(groups, m.buckets); ++g)
          take(n.children[1 + g]);
      }
    }
    std::sort(entries.begin(), entries.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    if (entries.size() > m.max_entries) {
      entries.erase(entries.begin() + m.max_entries, entries.end());
      note("more than --max-elems entries");
    }
    llvm::json::Array list;
    for (auto& e : entries) list.push_back(std::move(e.second));
    bool complete = len >= 0 && list.size() == static_cast<uint64_t>(len);
    llvm::json::Value out = llvm::json::Object{
        {"$map", llvm::json::Object{{"len", len}, {"entries", std::move(list)}}}};
    if (complete) return out;
    note("the entries read do not add up to its length (it changed while being read)");
    return llvm::json::Object{
        {"$cut", llvm::json::Object{{"len", len}, {"value", std::move(out)}, {"why", why}}}};
  }

  // The value's own bytes in the record (short if the record is).
  std::span<const uint8_t> image_of(const ValueNode& n) const {
    auto image = rec_.subspan(std::min<size_t>(n.offset, rec_.size()));
    return image.first(std::min<size_t>(image.size(), ctx_.types->get(n.type).size));
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

// The planner's follow pass (plan_follows in core/plan/planner.h).
#include <algorithm>
#include <bit>
#include <deque>

#include "core/plan/planner.h"

namespace dynprobe {

namespace {

// Plans what is followed from captured values, breadth first: every value's
// first-level strings, slices and pointees get room before anything deeper,
// so one deep argument cannot starve its siblings of the record budget.
class Follower {
 public:
  Follower(const TypeTable& types, const CaptureLimits& limits, uint32_t& next, uint32_t budget_end,
           std::vector<DerefOp>& ops)
      : types_(types), limits_(limits), next_(next), end_(budget_end), ops_(ops) {}

  // `n` must already sit where it will stay (its address is queued).
  void add_root(ValueNode& n) { shape(n, 0, -1, 0); }

  void run() {
    while (!queue_.empty()) {
      Pending p = queue_.front();
      queue_.pop_front();
      follow(p);
    }
  }

 private:
  struct Pending {
    ValueNode* node;
    int32_t guard_len;
    uint32_t guard_index;
    uint32_t string_max = 0;  // 0: --string-max
    int iface_level = 0;      // > 0: an interface that may sit in a chunk, at this nesting
  };

  // Lays out the value's own image (struct fields, array elements) and
  // queues every reference in it.
  void shape(ValueNode& n, int depth, int32_t guard_len, uint32_t guard_index) {
    const Type& t = types_.get(n.type);
    n.depth = depth;
    switch (t.kind) {
      case TypeKind::String:
      case TypeKind::Slice:
      case TypeKind::Map:
      case TypeKind::Chan:
      case TypeKind::Func:
      case TypeKind::Interface:
        queue_.push_back({&n, guard_len, guard_index, string_max_});
        break;
      case TypeKind::Pointer:
        if (t.elem == kNoType || types_.get(t.elem).size == 0) break;  // unsafe.Pointer, *struct{}
        if (depth >= limits_.depth) {
          n.follow = ValueNode::Follow::CutDepth;
          break;
        }
        queue_.push_back({&n, guard_len, guard_index, string_max_});
        break;
      case TypeKind::Struct: {
        if (!t.variant_part.variants.empty()) {
          // A Rust enum: one child per variant, each laid out over the same
          // bytes. Which one is active is only known when decoding, so the
          // references of every variant are followed; in an inactive one
          // they are other bytes, read quietly (a bad address only sets a
          // status) and never shown.
          const auto& variants = t.variant_part.variants;
          n.children.resize(variants.size());
          for (size_t i = 0; i < variants.size(); ++i) {
            n.children[i].type = variants[i].type;
            n.children[i].offset = n.offset + static_cast<uint32_t>(variants[i].offset);
          }
          for (ValueNode& c : n.children) shape(c, depth, guard_len, guard_index);
          break;
        }
        n.children.resize(t.fields.size());
        for (size_t i = 0; i < t.fields.size(); ++i) {
          n.children[i].type = t.fields[i].type;
          n.children[i].offset = n.offset + static_cast<uint32_t>(t.fields[i].offset);
        }
        for (ValueNode& c : n.children) shape(c, depth, guard_len, guard_index);
        break;
      }
      case TypeKind::Array: {
        uint64_t esz = types_.get(t.elem).size;
        if (esz == 0) break;
        uint64_t count = std::min<uint64_t>(t.count, limits_.max_elems);
        n.children.resize(count);
        for (uint64_t i = 0; i < count; ++i) {
          n.children[i].type = t.elem;
          n.children[i].offset = n.offset + static_cast<uint32_t>(i * esz);
        }
        for (ValueNode& c : n.children) shape(c, depth, guard_len, guard_index);
        break;
      }
      default:
        break;
    }
  }

  void follow(const Pending& p) {
    ValueNode& n = *p.node;
    const Type& t = types_.get(n.type);
    DerefOp guard{.guard_len_offset = p.guard_len, .guard_index = p.guard_index};
    string_max_ = p.string_max;  // what this value leads to inherits its cap
    if (p.iface_level > 0) {
      follow_chunk_interface(n, p.iface_level);
      return;
    }
    switch (t.kind) {
      case TypeKind::String:
        follow_counted(n, ValueNode::Follow::String, 1,
                       p.string_max ? p.string_max : limits_.string_max, guard);
        break;
      case TypeKind::Slice: {
        uint32_t esz = static_cast<uint32_t>(types_.get(t.elem).size);
        if (esz == 0) break;
        uint32_t room = end_ > next_ + 24 ? (end_ - next_ - 24) / esz : 0;
        uint32_t count = std::min(limits_.max_elems, room);
        if (t.seq.len_is_end) {
          auto slot = alloc(8);
          if (!slot) {
            n.follow = ValueNode::Follow::CutBudget;
            break;
          }
          n.count = static_cast<int32_t>(*slot);
        }
        if (!follow_counted(n, ValueNode::Follow::Slice, esz, count * esz, guard)) break;
        n.children.resize(count);
        for (uint32_t i = 0; i < count; ++i) {
          n.children[i].type = t.elem;
          n.children[i].offset = n.payload + i * esz;
        }
        // Elements past the slice's length hold stale bytes: never follow them.
        int32_t len_at = n.count >= 0 ? n.count : static_cast<int32_t>(n.offset + t.seq.len);
        for (uint32_t i = 0; i < count; ++i) shape(n.children[i], n.depth, len_at, i);
        break;
      }
      case TypeKind::Pointer: {
        uint32_t size = static_cast<uint32_t>(types_.get(t.elem).size);
        if (!follow_fixed(n, ValueNode::Follow::Pointer, n.offset, 0, size, guard)) break;
        n.children.resize(1);
        n.children[0].type = t.elem;
        n.children[0].offset = n.payload;
        shape(n.children[0], n.depth + 1, -1, 0);
        break;
      }
      case TypeKind::Map:
        follow_map(n, t, guard);
        break;
      case TypeKind::Chan:
        follow_fixed(n, ValueNode::Follow::Chan, n.offset, 0, 16, guard);
        break;
      case TypeKind::Func:
        follow_fixed(n, ValueNode::Follow::Func, n.offset, 0, 8, guard);
        break;
      case TypeKind::Interface:
        follow_interface(n, t, guard);
        break;
      default:
        break;
    }
  }

  std::optional<uint32_t> alloc(uint32_t bytes, uint32_t align = 8) {
    uint32_t at = (next_ + align - 1) & ~(align - 1);
    if (at + bytes > end_) return std::nullopt;
    next_ = at + bytes;
    return at;
  }

  bool reserve(ValueNode& n, ValueNode::Follow kind, uint32_t bytes) {
    auto status = bytes ? alloc(1, 1) : std::nullopt;
    auto payload = status ? alloc(bytes) : std::nullopt;
    if (!payload) {
      n.follow = ValueNode::Follow::CutBudget;
      return false;
    }
    n.follow = kind;
    n.status = *status;
    n.payload = *payload;
    n.payload_max = bytes;
    return true;
  }

  bool follow_fixed(ValueNode& n, ValueNode::Follow kind, uint32_t addr_at, int32_t add,
                    uint32_t bytes, const DerefOp& guard) {
    if (!reserve(n, kind, bytes)) return false;
    DerefOp op = guard;
    op.addr_offset = addr_at;
    op.addr_add = add;
    op.max_bytes = bytes;
    op.dest = n.payload;
    op.status = n.status;
    ops_.push_back(op);
    return true;
  }

  // A (ptr, len) header: read len * elem_size bytes, at most `max`.
  bool follow_counted(ValueNode& n, ValueNode::Follow kind, uint32_t elem_size, uint32_t max,
                      const DerefOp& guard) {
    if (!reserve(n, kind, max)) return false;
    const SeqLayout& seq = types_.get(n.type).seq;
    DerefOp op = guard;
    op.addr_offset = n.offset + seq.ptr;
    op.len_offset = static_cast<int32_t>(n.offset + seq.len);
    op.len_is_end = seq.len_is_end;
    op.count_out = n.count;
    op.elem_size = elem_size;
    op.max_bytes = max;
    op.dest = n.payload;
    op.status = n.status;
    ops_.push_back(op);
    return true;
  }

  // The dynamic type is only known when the record is decoded, so the data
  // is read as a chunk, and every (ptr, len) pair that could be a string in
  // it is followed too: reading a non-pointer this way is harmless
  // (bpf_probe_read_user fails quietly) and the decoder only uses the pairs
  // the dynamic type says are strings.
  void follow_interface(ValueNode& n, const Type& t, const DerefOp& guard) {
    uint32_t chunk = limits_.interface_chunk;
    // A binary has one compiler's interfaces: nested ones are laid out alike.
    itab_type_at_ = t.itab_type_at;
    if (t.empty_interface) {
      n.dyn_type = n.offset;  // eface: the first word is the *_type itself
    } else {
      auto st = alloc(1, 1);
      auto dyn = st ? alloc(8) : std::nullopt;
      if (!dyn) {
        n.follow = ValueNode::Follow::CutBudget;
        return;
      }
      n.dyn_type = *dyn;
      DerefOp op = guard;
      op.addr_offset = n.offset;  // iface: the method table, which holds the type
      op.addr_add = static_cast<int32_t>(t.itab_type_at);
      op.max_bytes = 8;
      op.dest = *dyn;
      op.status = *st;
      ops_.push_back(op);
    }
    if (!follow_fixed(n, ValueNode::Follow::Interface, n.offset + 8, 0, chunk, guard)) return;
    ops_.back().shrink_on_fault = true;
    speculate_in_chunk(n, 1, std::min<uint32_t>(limits_.string_max, 128));
    if (t.descriptor_name_at != 0) follow_descriptor_name(n, t.descriptor_name_at, guard);
  }

  // The dynamic type's name, for types the binary's symbols and DWARF do not
  // know (gccgo's libgo.so defines errors.errorString): descriptor + `at`
  // -> *string -> string header -> bytes. Left out when the budget is short;
  // the decoder then names the type by address alone.
  void follow_descriptor_name(ValueNode& n, uint32_t at, const DerefOp& guard) {
    static constexpr uint32_t kMaxTypeName = 128;
    auto st = alloc(1, 1);
    auto ptr = st ? alloc(8) : std::nullopt;
    auto header = ptr ? alloc(16) : std::nullopt;
    auto dest = header ? alloc(kMaxTypeName) : std::nullopt;
    if (!dest) return;
    auto read = [&](uint32_t addr_at, int32_t add, uint32_t bytes, uint32_t to) {
      DerefOp op = guard;
      op.addr_offset = addr_at;
      op.addr_add = add;
      op.max_bytes = bytes;
      op.dest = to;
      op.status = *st;
      return op;
    };
    ops_.push_back(read(n.dyn_type, static_cast<int32_t>(at), 8, *ptr));
    ops_.push_back(read(*ptr, 0, 16, *header));
    DerefOp bytes = read(*header, 0, kMaxTypeName, *dest);
    bytes.len_offset = static_cast<int32_t>(*header + 8);
    bytes.elem_size = 1;
    ops_.push_back(bytes);
    n.type_name = ValueNode::DescriptorName{
        .header = *header, .dest = *dest, .max_bytes = kMaxTypeName, .status = *st};
  }

  // Where a map's entries are, from the synthesized runtime types of its
  // DWARF (docs/architecture.md, "Maps").
  struct MapTypes {
    ValueNode::MapLayout layout;
    uint32_t header_size = 0;
    uint32_t buckets = 0;  // classic: hmap.buckets; swiss: Map.dirPtr
    TypeId group = kNoType;
    uint32_t slots = 0;
    TypeId key = kNoType, value = kNoType;
    uint32_t key_at = 0, key_stride = 0, value_at = 0, value_stride = 0;
    uint32_t table_size = 0, group_data = 0;  // swiss: table image, groups.data in it
  };

  const Field* field(const Type& t, std::string_view name) const {
    if (t.kind != TypeKind::Struct) return nullptr;
    for (const Field& f : t.fields)
      if (f.name == name) return &f;
    return nullptr;
  }

  TypeId pointee(TypeId id) const {
    const Type& t = types_.get(id);
    return t.kind == TypeKind::Pointer ? t.elem : kNoType;
  }

  std::optional<MapTypes> map_types(const Type& map) const {
    if (map.fields.size() != 1) return std::nullopt;
    const Type& h = types_.get(pointee(map.fields[0].type));
    MapTypes m;
    m.header_size = static_cast<uint32_t>(h.size);
    auto u32 = [](uint64_t v) { return static_cast<uint32_t>(v); };
    if (const Field* count = field(h, "count"), *b = field(h, "B"), *buckets = field(h, "buckets"),
        *old = field(h, "oldbuckets");
        count && b && buckets && old) {
      const Type& bucket = types_.get(pointee(buckets->type));
      const Field *tophash = field(bucket, "tophash"), *keys = field(bucket, "keys"),
                  *values = field(bucket, "values"), *overflow = field(bucket, "overflow");
      if (!tophash || !keys || !values || !overflow) return std::nullopt;
      const Type &kt = types_.get(keys->type), &vt = types_.get(values->type);
      if (kt.kind != TypeKind::Array || vt.kind != TypeKind::Array || kt.count != vt.count)
        return std::nullopt;
      m.layout = {.kind = ValueNode::MapLayout::Kind::Classic,
                  .count = u32(count->offset),
                  .log2_buckets = u32(b->offset),
                  .old_buckets = u32(old->offset),
                  .group_size = u32(bucket.size),
                  .tophash = u32(tophash->offset),
                  .overflow = u32(overflow->offset)};
      m.buckets = u32(buckets->offset);
      m.group = pointee(buckets->type);
      m.slots = u32(kt.count);
      m.key = kt.elem;
      m.value = vt.elem;
      m.key_at = u32(keys->offset);
      m.key_stride = u32(types_.get(kt.elem).size);
      m.value_at = u32(values->offset);
      m.value_stride = u32(types_.get(vt.elem).size);
      return m;
    }
    const Field *used = field(h, "used"), *dir = field(h, "dirPtr"), *dir_len = field(h, "dirLen");
    if (!used || !dir || !dir_len) return std::nullopt;
    const Type& table = types_.get(pointee(pointee(dir->type)));
    const Field* groups = field(table, "groups");
    if (!groups) return std::nullopt;
    const Type& ref = types_.get(groups->type);
    const Field *data = field(ref, "data"), *mask = field(ref, "lengthMask");
    if (!data || !mask) return std::nullopt;
    const Type& group = types_.get(pointee(data->type));
    const Field *ctrl = field(group, "ctrl"), *slots = field(group, "slots");
    if (!ctrl || !slots) return std::nullopt;
    const Type& st = types_.get(slots->type);
    const Type& slot = types_.get(st.elem);
    const Field *key = field(slot, "key"), *elem = field(slot, "elem");
    if (st.kind != TypeKind::Array || !key || !elem) return std::nullopt;
    m.layout = {.kind = ValueNode::MapLayout::Kind::Swiss,
                .count = u32(used->offset),
                .dir = u32(dir->offset),
                .dir_len = u32(dir_len->offset),
                .group_size = u32(group.size),
                .tophash = u32(ctrl->offset),
                .length_mask = u32(groups->offset + mask->offset)};
    m.buckets = u32(dir->offset);
    m.group = pointee(data->type);
    m.slots = u32(st.count);
    m.key = key->type;
    m.value = elem->type;
    m.key_at = u32(slots->offset + key->offset);
    m.value_at = u32(slots->offset + elem->offset);
    m.key_stride = m.value_stride = u32(slot.size);
    m.table_size = u32(table.size);
    m.group_data = u32(groups->offset + data->offset);
    return m;
  }

  // Reads one bucket or group into the record and lays out its slots.
  ValueNode& add_group(ValueNode& n, const MapTypes& m, DerefOp op) {
    n.children.emplace_back();
    ValueNode& g = n.children.back();
    g.type = m.group;
    g.depth = n.depth;
    auto st = alloc(1, 1);
    auto image = st ? alloc(m.layout.group_size) : std::nullopt;
    if (!image) {
      g.follow = ValueNode::Follow::CutBudget;
      return g;
    }
    g.offset = *image;
    g.status = *st;
    op.max_bytes = m.layout.group_size;
    op.dest = *image;
    op.status = *st;
    op.split_at_page = true;
    ops_.push_back(op);
    return g;
  }

  // Map entries: the header, then the buckets (classic) or the small map's
  // group and the first table's groups (swiss), each read whole, guarded by
  // the header so only real ones are read; every slot's key and value is
  // then followed like any other value. Empty slots hold zeroes (Go clears
  // them), so following them reads nothing. The decoder keeps the slots
  // whose control byte says full.
  void follow_map(ValueNode& n, const Type& t, const DerefOp& guard) {
    auto m = map_types(t);
    if (!m || m->layout.group_size == 0 || m->slots == 0) {
      follow_fixed(n, ValueNode::Follow::Map, n.offset, 0, 8, guard);
      return;
    }
    if (!follow_fixed(n, ValueNode::Follow::Map, n.offset, 0, m->header_size, guard)) return;
    ops_.back().split_at_page = true;
    // Slots read: --max-elems, a power of two of groups. A map is between
    // 3/8 and 13/16 full (classic) or 7/16 and 7/8 (swiss), so about half
    // that many entries are read whole; the count tells when some are not.
    uint32_t groups = 1;
    while (groups * m->slots < limits_.max_elems && groups < 128) groups *= 2;
    ValueNode::MapLayout layout = m->layout;
    layout.max_entries = limits_.max_elems;
    if (layout.kind == ValueNode::MapLayout::Kind::Classic) {
      // Half the groups for the 2^B buckets, half for one overflow bucket each.
      layout.buckets = std::max(1u, groups / 2);
      n.children.reserve(2 * layout.buckets);
      for (uint32_t i = 0; i < layout.buckets; ++i) {
        DerefOp op{.addr_offset = n.payload + m->buckets,
                   .addr_add = static_cast<int32_t>(i * layout.group_size)};
        if (i > 0) {
          op.guard_len_offset = static_cast<int32_t>(n.payload + layout.log2_buckets);
          op.guard_index = static_cast<uint32_t>(std::bit_width(i) - 1);
          op.guard_byte = true;
        }
        add_group(n, *m, op);
      }
      for (uint32_t i = 0; i < layout.buckets; ++i) {
        const ValueNode& b = n.children[i];
        if (b.follow == ValueNode::Follow::CutBudget) {
          n.children.emplace_back().follow = ValueNode::Follow::CutBudget;
          continue;
        }
        add_group(n, *m, DerefOp{.addr_offset = b.offset + layout.overflow});
      }
    } else {
      layout.buckets = groups;
      n.children.reserve(1 + groups);
      add_group(n, *m, DerefOp{.addr_offset = n.payload + m->buckets});
      // dirLen > 0: dirPtr is the directory; its first table and groups.
      auto dst = alloc(1, 1);
      auto dir = dst ? alloc(8) : std::nullopt;
      auto tst = dir ? alloc(1, 1) : std::nullopt;
      auto table = tst ? alloc(m->table_size) : std::nullopt;
      if (!table) {
        n.follow = ValueNode::Follow::CutBudget;
        n.children.clear();
        return;
      }
      ops_.push_back(DerefOp{.addr_offset = n.payload + m->buckets,
                             .max_bytes = 8,
                             .dest = *dir,
                             .status = *dst,
                             .guard_len_offset = static_cast<int32_t>(n.payload + layout.dir_len),
                             .guard_index = 0});
      ops_.push_back(DerefOp{.addr_offset = *dir,
                             .max_bytes = m->table_size,
                             .dest = *table,
                             .status = *tst,
                             .split_at_page = true});
      layout.table = *table;
      layout.table_status = *tst;
      for (uint32_t g = 0; g < groups; ++g) {
        DerefOp op{.addr_offset = *table + m->group_data,
                   .addr_add = static_cast<int32_t>(g * layout.group_size)};
        if (g > 0) {
          op.guard_len_offset = static_cast<int32_t>(*table + layout.length_mask);
          op.guard_index = g - 1;
        }
        add_group(n, *m, op);
      }
    }
    n.map = layout;
    // Strings in entries (also in their structs and pointees) are read for
    // every slot, full or not: a smaller cap keeps a map from taking the
    // whole record.
    uint32_t string_max = std::min<uint32_t>(limits_.string_max, 64);
    string_max_ = string_max;
    for (ValueNode& g : n.children) {
      if (g.follow == ValueNode::Follow::CutBudget) continue;
      g.children.resize(2 * m->slots);
      for (uint32_t s = 0; s < m->slots; ++s) {
        g.children[2 * s] = {.type = m->key, .offset = g.offset + m->key_at + s * m->key_stride};
        g.children[2 * s + 1] = {.type = m->value,
                                 .offset = g.offset + m->value_at + s * m->value_stride};
      }
      for (ValueNode& c : g.children) shape(c, n.depth, -1, 0);
    }
  }

  // Interfaces nest (an error wrapping an error): each chunk gets its own
  // speculative interfaces, whose chunks are smaller, down to kChunkLevels
  // levels and one more that reads only the type (its value is past --depth
  // when it is a pointer, the common case). Three words per nested chunk
  // (fmt.wrapError's err is at 16) keep the tree at 7 * 3 * 3 leaves.
  static constexpr int kChunkLevels = 3;
  static constexpr uint32_t kNestedChunk = 32;
  // A word at most this is a length or a small integer, not a pointer worth
  // reading through.
  static constexpr uint32_t kMinAddress = 4095;

  int chunk_levels() const { return std::min(kChunkLevels, std::max(limits_.depth, 0)); }

  // Every (ptr, len) pair in the chunk that could be a string is read, and
  // every pair of words that could be an interface is queued.
  void speculate_in_chunk(ValueNode& n, int level, uint32_t max) {
    uint32_t chunk = n.payload_max;
    for (uint32_t k = 0; k + 16 <= chunk; k += 8) {
      auto st = alloc(1, 1);
      auto dest = st ? alloc(max) : std::nullopt;
      if (!dest) break;
      ops_.push_back(DerefOp{.addr_offset = n.payload + k,
                             .len_offset = static_cast<int32_t>(n.payload + k + 8),
                             .elem_size = 1,
                             .max_bytes = max,
                             .dest = *dest,
                             .status = *st});
      n.chunk_strings.push_back(
          {.chunk_offset = k, .dest = *dest, .max_bytes = max, .status = *st});
    }
    if (level > chunk_levels()) return;
    uint32_t pairs = chunk >= 16 ? (chunk - 16) / 8 + 1 : 0;
    if (pairs > speculative_left_) return;  // interfaces there are cut: the program stays small
    speculative_left_ -= pairs;
    n.children.resize(pairs);
    for (uint32_t i = 0; i < n.children.size(); ++i) {
      n.children[i].offset = n.payload + 8 * i;
      n.children[i].depth = n.depth;
      queue_.push_back(
          {.node = &n.children[i], .guard_len = -1, .guard_index = 0, .iface_level = level + 1});
    }
  }

  // A pair of words in a chunk read as an interface: the type (the first
  // word itself for interface{}, else the itab's _type, read here), and
  // unless this is the last level, a chunk of the data.
  void follow_chunk_interface(ValueNode& n, int level) {
    auto st = alloc(1, 1);
    auto dyn = st ? alloc(8) : std::nullopt;
    if (!dyn) {
      n.follow = ValueNode::Follow::CutBudget;
      return;
    }
    n.follow = ValueNode::Follow::Interface;
    n.dyn_type = *dyn;
    n.status = *st;
    ops_.push_back(DerefOp{.addr_offset = n.offset,
                           .addr_add = static_cast<int32_t>(itab_type_at_),
                           .max_bytes = 8,
                           .dest = *dyn,
                           .status = *st,
                           .guard_len_offset = static_cast<int32_t>(n.offset),
                           .guard_index = kMinAddress});
    if (level > chunk_levels()) return;  // type only
    auto cst = alloc(1, 1);
    auto chunk = cst ? alloc(kNestedChunk) : std::nullopt;
    if (!chunk) return;
    n.status = *cst;
    n.payload = *chunk;
    n.payload_max = kNestedChunk;
    ops_.push_back(DerefOp{.addr_offset = n.offset + 8,
                           .max_bytes = kNestedChunk,
                           .dest = *chunk,
                           .status = *cst,
                           .guard_len_offset = static_cast<int32_t>(n.offset + 8),
                           .guard_index = kMinAddress,
                           .shrink_on_fault = true});
    speculate_in_chunk(n, level, std::min<uint32_t>(limits_.string_max, 64));
  }

  const TypeTable& types_;
  const CaptureLimits& limits_;
  uint32_t& next_;
  uint32_t end_;
  std::vector<DerefOp>& ops_;
  std::deque<Pending> queue_;
  uint32_t string_max_ = 0;    // cap of strings queued now (0: --string-max); see follow_map
  uint32_t itab_type_at_ = 8;  // Type::itab_type_at of the interfaces followed
  // Nested interface candidates left for this side of the record: one fully
  // nested interface takes 7 + 21 + 63; a map of interfaces would take 64
  // times that, in instructions as much as in bytes.
  uint32_t speculative_left_ = 300;
};

}  // namespace

void plan_follows(const TypeTable& types, const std::vector<ValueNode*>& roots,
                  const CaptureLimits& limits, uint32_t& next, uint32_t budget_end,
                  std::vector<DerefOp>& ops) {
  Follower f(types, limits, next, budget_end, ops);
  for (ValueNode* n : roots) f.add_root(*n);
  f.run();
}

}  // namespace dynprobe

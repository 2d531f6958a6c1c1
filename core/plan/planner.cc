#include "core/plan/planner.h"

#include <algorithm>
#include <bit>
#include <deque>

#include "abi/registry.h"
#include "core/code_sites.h"
#include "core/signature.h"

namespace dynprobe {

namespace {

uint32_t align8(uint32_t v) { return (v + 7) & ~7u; }

std::string join_names(const std::vector<Variable>& vars, bool results) {
  std::string out;
  for (size_t i = 0; i < vars.size(); ++i) {
    std::string n = results ? result_key(i) : vars[i].name;
    if (results && !vars[i].name.empty() && !vars[i].name.starts_with("~"))
      n += " (" + vars[i].name + ")";
    out += (i ? ", " : "") + n;
  }
  return out.empty() ? "none" : out;
}

Result<GoRuntimeLayout> go_runtime_layout(Binary& binary) {
  auto g = binary.debug().type_named("runtime.g");
  if (!g)
    return fail("cannot find runtime.g in the DWARF of " + binary.elf().path() +
                " (needed to key calls by goroutine)");
  const TypeTable& types = binary.types();
  GoRuntimeLayout out;
  bool have_hi = false, have_goid = false;
  for (const Field& f : types.get(*g).fields) {
    if (f.name == "goid") {
      out.goid_offset = static_cast<uint32_t>(f.offset);
      have_goid = true;
    }
    if (f.name == "stack") {
      for (const Field& s : types.get(f.type).fields)
        if (s.name == "hi") {
          out.stack_hi_offset = static_cast<uint32_t>(f.offset + s.offset);
          have_hi = true;
        }
    }
  }
  if (!have_hi || !have_goid)
    return fail("runtime.g in " + binary.elf().path() + " lacks stack.hi or goid");
  return out;
}

struct Selected {
  const Variable* var;
  size_t index;  // position among params or results
  bool is_result;
  std::string key;
  const ProbeExpr* expr = nullptr;  // the expression, when one was written
};

TypeId strip_pointers(const TypeTable& types, TypeId t) {
  while (types.get(t).kind == TypeKind::Pointer && types.get(t).elem != kNoType)
    t = types.get(t).elem;
  return t;
}

// "int64", "main.Money (struct)": what a path error says a value is.
std::string describe_type(const TypeTable& types, TypeId t) {
  const Type& ty = types.get(t);
  std::string kind(kind_name(ty.kind));
  if (ty.name.empty()) return kind;
  bool obvious = ty.kind == TypeKind::Int || ty.kind == TypeKind::Uint ||
                 ty.kind == TypeKind::Float || ty.kind == TypeKind::Bool ||
                 ty.kind == TypeKind::String || ty.name == kind;
  return obvious ? ty.name : ty.name + " (" + kind + ")";
}

// A map index (`m["k"]`, `m[3]`) or a type assertion (`e.(*main.T)`) at `t`:
// the key must fit the map's key type, the asserted type must exist in the
// DWARF and `t` must be an interface. Advances `t` and `where`.
Status check_key_or_assert(Binary& binary, TypeId& t, std::string& where, const PathStep& step) {
  if (step.kind == PathStep::Kind::Assert) {
    if (binary.types().get(t).kind != TypeKind::Interface)
      return fail(where + ".(" + step.field + "): " + where + " is not an interface: it is " +
                  describe_type(binary.types(), t));
    auto target = binary.debug().type_named(step.field);
    if (!target)
      return fail(where + ".(" + step.field + "): no type " + step.field +
                  " in the binary's DWARF (write it as Go prints it: *main.T, main.T)");
    t = *target;
    where += ".(" + step.field + ")";
    return {};
  }
  const TypeTable& types = binary.types();
  const Type& m = types.get(t);
  std::string key = step.kind == PathStep::Kind::Key
                        ? "\"" + step.field + "\""
                        : (step.negative ? "-" : "") + std::to_string(step.index);
  if (m.kind != TypeKind::Map)
    return fail(where + "[" + key + "]: " + where + " is not a map: it is " +
                describe_type(types, t));
  TypeKind kk = types.get(m.key).kind;
  bool fits = step.kind == PathStep::Kind::Key
                  ? kk == TypeKind::String
                  : kk == TypeKind::Int || (kk == TypeKind::Uint && !step.negative);
  if (!fits)
    return fail(where + "[" + key + "]: the map's key type is " + describe_type(types, m.key));
  t = m.elem;
  where += "[" + key + "]";
  return {};
}

// Checks `e`'s path and function against the root's type, as Go would type
// them, so that a typo fails when the probe is planned, naming what exists.
Status check_path(Binary& binary, TypeId root, const std::string& root_name, const ProbeExpr& e) {
  TypeId t = root;
  std::string where = root_name;
  for (const PathStep& step : e.path) {
    const TypeTable& types = binary.types();
    switch (step.kind) {
      case PathStep::Kind::Key:
      case PathStep::Kind::Assert:
        if (auto st = check_key_or_assert(binary, t, where, step); !st)
          return std::unexpected(st.error());
        continue;
      case PathStep::Kind::Index:
        if (types.get(t).kind == TypeKind::Map) {
          if (auto st = check_key_or_assert(binary, t, where, step); !st)
            return std::unexpected(st.error());
          continue;
        }
        break;
      default:
        break;
    }
    switch (step.kind) {
      case PathStep::Kind::Field: {
        t = strip_pointers(types, t);
        const Type& st = types.get(t);
        if (st.kind != TypeKind::Struct)
          return fail(where + " has no field " + step.field + ": it is " + describe_type(types, t));
        if (!st.variant_part.variants.empty()) {
          std::string names;
          for (const Variant& v : st.variant_part.variants)
            names += (names.empty() ? "" : ", ") + v.name;
          return fail(where + " is an enum (variants: " + names +
                      "); capture it whole, paths into variants are not supported");
        }
        auto f = std::find_if(st.fields.begin(), st.fields.end(),
                              [&](const Field& f) { return f.name == step.field; });
        if (f == st.fields.end()) {
          std::string names;
          for (const Field& x : st.fields) names += (names.empty() ? "" : ", ") + x.name;
          return fail(where + " has no field " + step.field +
                      "; fields: " + (names.empty() ? "none" : names));
        }
        t = f->type;
        where += "." + step.field;
        break;
      }
      case PathStep::Kind::Index: {
        if (types.get(t).kind == TypeKind::Pointer &&
            types.get(types.get(t).elem).kind == TypeKind::Array)
          t = types.get(t).elem;
        const Type& at = types.get(t);
        if (at.kind != TypeKind::Array && at.kind != TypeKind::Slice)
          return fail(where + " cannot be indexed: it is " + describe_type(types, t));
        if (at.kind == TypeKind::Array && step.index >= at.count)
          return fail(where + "[" + std::to_string(step.index) + "]: index out of range (length " +
                      std::to_string(at.count) + ")");
        t = at.elem;
        where += "[" + std::to_string(step.index) + "]";
        break;
      }
      case PathStep::Kind::Deref:
        if (types.get(t).kind != TypeKind::Pointer)
          return fail("*" + where + ": " + where + " is not a pointer: it is " +
                      describe_type(types, t));
        t = types.get(t).elem;
        where = "*" + where;
        break;
    }
  }
  const TypeTable& types = binary.types();
  TypeKind k = types.get(t).kind;
  if (e.fn == ProbeExpr::Fn::Len && k != TypeKind::String && k != TypeKind::Slice &&
      k != TypeKind::Array && k != TypeKind::Map && k != TypeKind::Chan)
    return fail("len(" + where + "): " + where + " is " + describe_type(types, t));
  if (e.fn == ProbeExpr::Fn::Cap && k != TypeKind::Slice && k != TypeKind::Array &&
      k != TypeKind::Chan)
    return fail("cap(" + where + "): " + where + " is " + describe_type(types, t));
  return {};
}

Result<std::vector<Selected>> select_values(const Function& fn, const ProbeSpec& spec,
                                            ProbePlan& plan) {
  std::vector<Selected> out;
  if (spec.capture_all) {
    for (size_t i = 0; i < fn.params.size(); ++i)
      out.push_back({&fn.params[i], i, false, fn.params[i].name});
    for (size_t i = 0; i < fn.results.size(); ++i)
      out.push_back({&fn.results[i], i, true, result_key(i)});
    plan.want_latency = true;
    return out;
  }
  plan.want_latency = false;
  auto unknown = [&](const std::string& what) {
    return fail(fn.name + " has no " + what + "; parameters: " + join_names(fn.params, false) +
                "; results: " + join_names(fn.results, true));
  };
  for (const ProbeExpr& e : spec.exprs) {
    switch (e.kind) {
      case ProbeExpr::Kind::Latency:
        plan.want_latency = true;
        break;
      case ProbeExpr::Kind::Goid:
        plan.want_goid = true;
        break;
      case ProbeExpr::Kind::Result:
        if (e.index >= fn.results.size()) return unknown("result " + e.text);
        out.push_back({&fn.results[e.index], e.index, true, e.text, &e});
        break;
      case ProbeExpr::Kind::Name: {
        auto p = std::find_if(fn.params.begin(), fn.params.end(),
                              [&](const Variable& v) { return v.name == e.name; });
        if (p != fn.params.end()) {
          out.push_back({&*p, static_cast<size_t>(p - fn.params.begin()), false, e.text, &e});
          break;
        }
        auto r = std::find_if(fn.results.begin(), fn.results.end(),
                              [&](const Variable& v) { return v.name == e.name; });
        if (r == fn.results.end()) return unknown("parameter or named result '" + e.name + "'");
        out.push_back({&*r, static_cast<size_t>(r - fn.results.begin()), true, e.text, &e});
        break;
      }
    }
  }
  return out;
}

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

// A value that lives whole in memory a register points to: a MEMORY-class C
// result at RET (the callee returns the hidden pointer in RAX), or a C++
// class passed by invisible reference. The register is captured and the
// bytes are read from where it points.
std::optional<Piece> addressed_by_register(const Location& loc, uint32_t size) {
  if (loc.pieces.size() != 1) return std::nullopt;
  const Piece& p = loc.pieces.front();
  if (p.kind != PieceKind::Memory || p.base != MemBase::Register || p.reg == Reg::RSP ||
      is_vector_reg(p.reg) || p.value_offset != 0 || (p.size != 0 && p.size < size) || size == 0)
    return std::nullopt;
  return p;
}

}  // namespace

void plan_follows(const TypeTable& types, const std::vector<ValueNode*>& roots,
                  const CaptureLimits& limits, uint32_t& next, uint32_t budget_end,
                  std::vector<DerefOp>& ops) {
  Follower f(types, limits, next, budget_end, ops);
  for (ValueNode* n : roots) f.add_root(*n);
  f.run();
}

std::vector<CaptureOp> capture_ops_for(const Location& location, uint32_t value_size,
                                       uint32_t record_offset, uint32_t value_index,
                                       PlannedValue& value) {
  std::vector<CaptureOp> ops;
  value.available = location.available();
  if (!value.available)
    value.unavailable_reason = location.empty() ? "no location" : "optimized out";
  auto unavailable = [&](std::string why) {
    value.available = false;
    if (value.unavailable_reason.empty()) value.unavailable_reason = std::move(why);
  };
  for (const Piece& p : location.pieces) {
    uint32_t size = p.size ? p.size : value_size;
    if (p.value_offset >= value_size) continue;
    size = std::min(size, value_size - p.value_offset);
    CaptureOp op{
        .size = size, .record_offset = record_offset + p.value_offset, .value_index = value_index};
    if (p.kind == PieceKind::Register && is_vector_reg(p.reg)) {
      // pt_regs has no vector registers and the task's saved FPU state is
      // stale while the probed thread runs (docs/bpf-backend.md). The rest
      // of the value is still captured; this piece becomes a hole.
      value.holes.push_back({.offset = p.value_offset, .size = size});
      value.holes_reason = std::string(reg_name(p.reg)) + ": vector register, not readable by BPF";
      continue;
    }
    if (p.kind == PieceKind::Register) {
      op.source = CaptureOp::Source::Register;
      op.reg = p.reg;
    } else if (p.kind == PieceKind::Constant && size <= 8) {
      // DW_OP_constu/DW_OP_implicit_value: the compiler knew the value.
      op.source = CaptureOp::Source::Constant;
      op.constant = p.constant;
    } else if (p.kind == PieceKind::Memory && p.base == MemBase::Register && p.reg == Reg::RSP) {
      op.source = CaptureOp::Source::Stack;
      op.sp_offset = p.offset;
    } else if (p.kind == PieceKind::Memory && p.base == MemBase::CFA) {
      // Probes sit at a function's first instruction or at a RET: CFA = SP + 8 there.
      op.source = CaptureOp::Source::Stack;
      op.sp_offset = p.offset + 8;
    } else {
      // Constants, absolute and other register-based memory are not captured
      // yet; the value is reported unavailable rather than guessed.
      unavailable("location " + to_string(p) + " is not captured yet");
      continue;
    }
    CaptureOp* last = ops.empty() ? nullptr : &ops.back();
    if (last && op.source == CaptureOp::Source::Stack && last->source == CaptureOp::Source::Stack &&
        last->sp_offset + last->size == op.sp_offset &&
        last->record_offset + last->size == op.record_offset) {
      last->size += op.size;
      continue;
    }
    ops.push_back(op);
  }
  return ops;
}

Result<ProbePlan> plan_probe(Binary& binary, const ProbeSpec& typed, uint32_t id,
                             const PlanLimits& limits, const InlineSiteInput* inline_site) {
  ProbeSpec spec = typed;
  // A C++ name ends in its parameter list, which -p reads as an expression
  // list ("ns::f(long)"): the whole text names the function when one has it.
  if (!spec.capture_all && !binary.go()) {
    std::string whole = spec.function + "(";
    for (size_t i = 0; i < spec.exprs.size(); ++i) whole += (i ? ", " : "") + spec.exprs[i].text;
    if (binary.resolve(whole + ")")) spec = ProbeSpec{.function = whole + ")"};
  }
  auto name = binary.resolve(spec.function);
  if (!name && !spec.list_error.empty()) return fail(spec.list_error);
  if (!name) return std::unexpected(name.error());
  auto fn = binary.function(*name, LoadOptions{.inline_instances = false});
  if (!fn) return std::unexpected(fn.error());
  if (fn->low_pc == 0 && !inline_site)
    return fail(fn->name +
                " exists only inlined into its callers and has no entry of its own; trace "
                "probes its inlined call sites unless --no-inline is given");

  ProbePlan plan{.id = id,
                 .label = spec.capture_all ? fn->name : spec.function,
                 .function = fn->name,
                 .binary = binary.elf().path()};
  BinaryFacts facts{
      .language = fn->language != Language::Unknown ? fn->language : binary.language(),
      .pie = binary.elf().is_pie()};
  if (binary.go()) facts.go_version = binary.go()->parsed;
  AbiRegistry registry;
  auto abi = registry.select(facts, *fn);
  if (!abi) return std::unexpected(abi.error());
  plan.context = inline_site ? inline_site->context : (*abi)->context_source();
  if (plan.context != ContextSource::Thread) {
    auto layout = go_runtime_layout(binary);
    if (!layout) return std::unexpected(layout.error());
    plan.go = *layout;
  }
  auto params = inline_site ? Result<std::vector<ValueLocation>>(inline_site->params)
                            : (*abi)->params_at_entry(*fn, binary.types());
  if (!params) return std::unexpected(params.error());
  // An inlined call has no RET of its own to read results at.
  auto results = inline_site ? Result<std::vector<ValueLocation>>(std::vector<ValueLocation>(
                                   fn->results.size(), {.location = {{Piece::unavailable(0)}}}))
                             : (*abi)->results_at_return(*fn, binary.types());
  if (!results) return std::unexpected(results.error());

  auto selected = select_values(*fn, spec, plan);
  if (!selected) return std::unexpected(selected.error());
  if (inline_site) {
    plan.want_latency = false;
    plan.inlined = inline_site->site;
    if (spec.capture_all) std::erase_if(*selected, [](const Selected& s) { return s.is_result; });
  }
  for (const Selected& sel : *selected)
    if (sel.expr && (!sel.expr->path.empty() || sel.expr->fn != ProbeExpr::Fn::None))
      if (auto st =
              check_path(binary, sel.var->type,
                         sel.expr->kind == ProbeExpr::Kind::Result ? "$" + std::to_string(sel.index)
                                                                   : sel.var->name,
                         *sel.expr);
          !st)
        return std::unexpected(st.error());

  if (inline_site) {
    plan.entry = inline_site->entry;
  } else {
    auto entry_off = binary.elf().file_offset(fn->low_pc);
    if (!entry_off) return fail(fn->name + ": entry address is not in a loadable segment");
    plan.entry = {fn->low_pc, *entry_off};
  }

  // Layout: header | argument images | what arguments lead to | result
  // images | what results lead to. The entry part is kept in flight.
  std::stable_sort(selected->begin(), selected->end(), [](const Selected& a, const Selected& b) {
    return !a.is_result && b.is_result;
  });
  constexpr uint32_t kMaxRecord = 32000;  // BPF load/store offsets are 16-bit signed
  uint32_t budget = std::min(limits.capture.record_budget, kMaxRecord / 2);
  uint32_t offset = sizeof(RecordHeader);
  auto lay_out = [&](bool for_results) -> Status {
    size_t first = plan.values.size();
    std::vector<std::pair<uint32_t, int64_t>> indirect;  // value index, offset from the register
    for (const Selected& s : *selected) {
      if (s.is_result != for_results) continue;
      const Type& t = binary.types().get(s.var->type);
      uint32_t size = static_cast<uint32_t>(std::min<uint64_t>(t.size, limits.max_value_bytes));
      const ValueLocation& loc = s.is_result ? (*results)[s.index] : (*params)[s.index];
      uint32_t index = static_cast<uint32_t>(plan.values.size());
      PlannedValue v{.key = s.key,
                     .is_result = s.is_result,
                     .type = s.var->type,
                     .size = size,
                     .record_offset = offset,
                     .location = to_string(loc.location)};
      if (s.expr) {
        v.path = s.expr->path;
        v.fn = s.expr->fn;
      }
      std::vector<CaptureOp> ops;
      if (auto via = addressed_by_register(loc.location, size)) {
        ops.push_back(CaptureOp{.source = CaptureOp::Source::Register,
                                .reg = via->reg,
                                .size = 8,
                                .record_offset = offset,
                                .value_index = index});
        indirect.emplace_back(index, via->offset);
      } else {
        ops = capture_ops_for(loc.location, size, offset, index, v);
        if (inline_site && !v.available) {
          const std::string& why = s.index < inline_site->unavailable_reasons.size()
                                       ? inline_site->unavailable_reasons[s.index]
                                       : v.unavailable_reason;
          if (s.is_result)
            v.unavailable_reason = "an inlined call has no return to read results at";
          else if (!why.empty())
            v.unavailable_reason = why;
          else if (v.unavailable_reason == "optimized out" || v.unavailable_reason == "no location")
            v.unavailable_reason = "optimized out at this inlined call site";
        }
        if (!v.available) ops.clear();
        if (v.available && ops.empty() && !v.holes.empty()) {
          // Nothing but holes: the whole value is unavailable, for that reason.
          v.available = false;
          v.unavailable_reason = v.holes_reason;
          v.holes.clear();
        }
      }
      auto& dest = s.is_result ? plan.return_ops : plan.entry_ops;
      dest.insert(dest.end(), ops.begin(), ops.end());
      plan.values.push_back(std::move(v));
      offset += align8(size);
    }
    std::vector<ValueNode*> roots;
    // The record slot of an indirect value holds the address; its bytes go to
    // a payload read before anything is followed from them. Decoded as a
    // pointer, an unreadable address shows as such; a path expression needs
    // the value's own node, so there the payload is the image.
    for (auto [index, add] : indirect) {
      PlannedValue& v = plan.values[index];
      uint32_t status = offset++;
      uint32_t payload = align8(offset);
      offset = payload + align8(v.size);
      (for_results ? plan.return_derefs : plan.entry_derefs)
          .push_back(DerefOp{.addr_offset = v.record_offset,
                             .addr_add = static_cast<int32_t>(add),
                             .max_bytes = v.size,
                             .dest = payload,
                             .status = status});
      v.node.type = v.type;
      if (v.path.empty() && v.fn == ProbeExpr::Fn::None) {
        v.node.offset = v.record_offset;
        v.node.follow = ValueNode::Follow::Pointer;
        v.node.status = status;
        v.node.payload = payload;
        v.node.payload_max = v.size;
        v.node.children = {ValueNode{.type = v.type, .offset = payload}};
        roots.push_back(&v.node.children[0]);
      } else {
        v.node.offset = payload;
        roots.push_back(&v.node);
      }
    }
    if (offset > kMaxRecord) return fail(plan.function + ": the values are too large to capture");
    uint32_t end = std::min(offset + budget, kMaxRecord);
    for (size_t i = first; i < plan.values.size(); ++i) {
      PlannedValue& v = plan.values[i];
      if (std::any_of(indirect.begin(), indirect.end(), [&](auto& x) { return x.first == i; }))
        continue;
      v.node.type = v.type;
      v.node.offset = v.record_offset;
      if (v.available) roots.push_back(&v.node);
    }
    plan_follows(binary.types(), roots, limits.capture, offset, end,
                 for_results ? plan.return_derefs : plan.entry_derefs);
    offset = align8(offset);
    return {};
  };
  if (auto st = lay_out(false); !st) return std::unexpected(st.error());
  plan.entry_size = offset;
  if (auto st = lay_out(true); !st) return std::unexpected(st.error());
  plan.record_size = offset;

  if (plan.needs_return()) {
    auto code = binary.elf().read(fn->low_pc, fn->high_pc - fn->low_pc);
    if (!code) return std::unexpected(code.error());
    auto sites = find_code_sites(*code, fn->low_pc);
    if (!sites) return std::unexpected(sites.error());
    if (sites->returns.empty())
      return fail(fn->name +
                  " has no RET instruction (it never returns normally); capture its "
                  "arguments only, e.g. -p '" +
                  spec.function + "(" +
                  (fn->params.empty() ? std::string("@goid") : fn->params.front().name) + ")'");
    for (uint64_t ret : sites->returns) {
      auto off = binary.elf().file_offset(ret);
      if (!off) return fail(fn->name + ": RET address is not in a loadable segment");
      plan.returns.push_back({ret, *off});
    }
  }
  return plan;
}

}  // namespace dynprobe

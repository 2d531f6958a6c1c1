// The physical plan of one probe: where to attach (entry and every RET), what
// to copy into each record and where, and the record's layout (its schema).
// The BPF backend emits code from it; the decoder reads records with it.
// Plain data so a test can build one by hand.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "abi/abi.h"
#include "core/location.h"
#include "core/types.h"
#include "frontends/probe_spec.h"

namespace dynprobe {

// Offsets inside runtime.g, from the target's own DWARF.
struct GoRuntimeLayout {
  uint32_t stack_hi_offset = 0;  // g.stack.hi
  uint32_t goid_offset = 0;      // g.goid
};

// One copy into the record. Register pieces copy the low `size` bytes of the
// register; stack pieces copy `size` bytes from SP + sp_offset (at the probe's
// PC, where SP is the entry SP for both entry and RET sites).
struct CaptureOp {
  enum class Source : uint8_t { Register, Stack, Constant };
  Source source = Source::Register;
  Reg reg = Reg::RAX;
  int64_t sp_offset = 0;
  uint64_t constant = 0;  // Source::Constant: the low `size` bytes are stored
  uint32_t size = 0;
  uint32_t record_offset = 0;  // from the start of the record
  uint32_t value_index = 0;    // which PlannedValue it fills (its missing bit)
};

// Reads target memory whose address an earlier op put in the record: the
// bytes of a string, the elements of a slice, a pointee, an interface's data.
// A nil address, or one guarded out, reads nothing and zeroes `dest`, so the
// ops that follow from it see nil in turn.
struct DerefOp {
  uint32_t addr_offset = 0;  // record offset of the 8-byte address
  int32_t addr_add = 0;      // added to the address (itab._type is at +8)
  int32_t len_offset = -1;   // record offset of an int64 count; -1: read max_bytes
  // The word at len_offset is an end pointer (std::vector): the count is
  // (end - address) / elem_size, and is stored at count_out for the guards
  // of the elements' own follows.
  bool len_is_end = false;
  int32_t count_out = -1;
  uint32_t elem_size = 1;  // bytes per counted element
  uint32_t max_bytes = 0;  // reserved at dest
  uint32_t dest = 0;
  uint32_t status = 0;  // record offset of a byte set to 1 when a non-nil address was unreadable
  // Slice elements past the slice's length hold stale bytes: only follow
  // element `guard_index` when *(int64*)(record + guard_len_offset) > guard_index.
  int32_t guard_len_offset = -1;
  uint32_t guard_index = 0;
  // The guard is a uint8, not an int64: a classic map's B (log2 of its
  // bucket count), so bucket i is read only when B > floor(log2(i)).
  bool guard_byte = false;
  // An interface's data chunk is read blind: the value may end just before
  // unmapped memory, so on a fault the read is retried at half the size,
  // down to 8 bytes.
  bool shrink_on_fault = false;
  // A fixed-size read that faults is retried up to the page boundary, the
  // rest left zero as on an untouched page of fresh heap: a Go map's bucket
  // whose later slots were never written.
  bool split_at_page = false;
};

// Where a captured value and everything followed from it sit in the record.
struct ValueNode {
  enum class Follow : uint8_t {
    None,       // the image says it all (scalars), or children do (struct, array)
    String,     // payload: the bytes
    Slice,      // payload: the elements; children: one node per element slot;
                // count: record offset of the element count when the header
                // has an end pointer instead (else -1)
    Pointer,    // payload: the pointee; children[0]: its node
    CutDepth,   // a pointer beyond --depth
    CutBudget,  // not followed: the record budget ran out
    Map,        // payload: the runtime header (or only its 8-byte count
                // when `map` is empty); children: bucket/group nodes (MapLayout)
    Chan,       // payload: qcount and dataqsiz
    Func,       // payload: the code pointer
    Interface,  // dyn_type: the _type address; payload: a chunk of the data;
                // children: the interfaces that may sit in the chunk, one per
                // offset, each with its own chunk (none: type word only) and
                // dyn_type = 8 bytes read at its first word + Type::itab_type_at (the itab's
                // _type, if it is a non-empty interface)
  };
  // gccgo: the dynamic type's name read from its descriptor
  // (Type::descriptor_name_at): `header` holds the string header, `dest` up
  // to `max_bytes` of its bytes.
  struct DescriptorName {
    uint32_t header = 0;
    uint32_t dest = 0;
    uint32_t max_bytes = 0;
    uint32_t status = 0;
  };
  struct ChunkString {  // a (ptr, len) pair at `chunk_offset` of an interface's data
    uint32_t chunk_offset = 0;
    uint32_t dest = 0;
    uint32_t max_bytes = 0;
    uint32_t status = 0;
  };
  // Where a Go map keeps its entries, from the header, bucket and group
  // types the linker synthesizes per map type. Offsets are inside the
  // header image (the map node's payload) or inside one bucket/group image.
  // Each child of the map node is one bucket or group read into the record
  // (its offset, status and, if the budget ran out, follow = CutBudget),
  // whose children are its slots' nodes: key 0, value 0, key 1, value 1, ...
  struct MapLayout {
    enum class Kind : uint8_t {
      Classic,  // Go <= 1.23: hash<K,V>; children: `buckets` buckets, then each one's overflow
      Swiss,    // Go >= 1.24: map<K,V>; children: the small-map group, then `buckets`
                // groups of the directory's first table
    };
    Kind kind = Kind::Classic;
    uint32_t count = 0;         // hmap.count / Map.used (8 bytes)
    uint32_t log2_buckets = 0;  // classic: hmap.B (1 byte)
    uint32_t old_buckets = 0;   // classic: hmap.oldbuckets (non-nil while growing)
    uint32_t dir = 0;           // swiss: Map.dirPtr
    uint32_t dir_len = 0;       // swiss: Map.dirLen (0: dirPtr is a single group)
    uint32_t group_size = 0;    // bytes of one bucket / group
    uint32_t tophash = 0;       // classic: 8 tophash bytes; swiss: the 8 control bytes
    uint32_t overflow = 0;      // classic: the overflow bucket pointer
    uint32_t buckets = 0;       // buckets (classic) or table groups (swiss) read
    uint32_t table = 0;         // swiss: record offset of the first table's image
    uint32_t table_status = 0;
    uint32_t length_mask = 0;  // swiss: offset of groups.lengthMask in the table image
    uint32_t max_entries = 0;  // --max-elems
  };
  TypeId type = kNoType;
  uint32_t offset = 0;  // the value's own image
  Follow follow = Follow::None;
  uint32_t payload = 0;
  uint32_t payload_max = 0;
  uint32_t status = 0;
  uint32_t dyn_type = 0;
  int32_t count = -1;
  int depth = 0;  // pointers followed to reach this node
  std::vector<ValueNode> children;
  std::vector<ChunkString> chunk_strings;
  std::optional<MapLayout> map;
  std::optional<DescriptorName> type_name;  // Follow::Interface of gccgo
};

struct CaptureLimits {
  uint32_t string_max = 256;
  uint32_t max_elems = 64;
  int depth = 3;
  uint32_t record_budget = 16000;  // bytes of followed data per record
  uint32_t interface_chunk = 64;   // bytes read at an interface's data pointer
};

struct PlannedValue {
  std::string key;  // output key: parameter name, "$N", or the expression as written
  bool is_result = false;
  TypeId type = kNoType;
  uint32_t size = 0;
  uint32_t record_offset = 0;
  bool available = true;  // false: not captured; `unavailable_reason` says why
  std::string unavailable_reason;
  // Byte ranges of the value (from its start) that could not be captured
  // though the rest was: a struct field in a vector register.
  struct Hole {
    uint32_t offset = 0;
    uint32_t size = 0;
  };
  std::vector<Hole> holes;
  std::string holes_reason;
  ValueNode node;  // layout of the image and of what was followed
  // An expression below the captured root (`l.Currency`, `s[2]`, `len(x)`):
  // the root is captured whole and the path applied when decoding.
  std::vector<PathStep> path;
  ProbeExpr::Fn fn = ProbeExpr::Fn::None;
  std::string location;  // as `describe` prints it, for diagnostics
};

struct AttachSite {
  uint64_t address = 0;      // link-time virtual address
  uint64_t file_offset = 0;  // where the uprobe goes in the file
};

// Fixed record header; values follow at their record_offset.
struct RecordHeader {
  uint32_t probe_id;
  uint32_t flags;  // bit 0: latency measured; bit 1: an inlined call site (kRecordInlined)
  uint32_t pid;
  uint32_t tid;
  uint64_t goid;
  uint64_t entry_ns;  // CLOCK_MONOTONIC at entry
  uint64_t latency_ns;
  uint64_t missing;  // bit i: value i could not be read (bad memory)
  // The entry probe's instruction pointer: minus the entry's link-time
  // address it is the process's load bias (PIE), known even after the
  // process has exited.
  uint64_t entry_ip;
};
static_assert(sizeof(RecordHeader) == 56);
constexpr uint32_t kRecordLatency = 1;
constexpr uint32_t kRecordInlined = 2;

// A probe on one inlined instance of a function (DW_TAG_inlined_subroutine):
// the call site, as DWARF names it.
struct InlineCallSite {
  std::string caller;  // the function the call was inlined into
  std::string call_file;
  uint32_t call_line = 0;
};

struct ProbePlan {
  uint32_t id = 0;
  std::string label;     // the -p text
  std::string function;  // resolved full name
  std::string binary;    // path of the file the uprobes attach to
  ContextSource context = ContextSource::GoRegisterG;
  GoRuntimeLayout go;

  AttachSite entry;
  std::vector<AttachSite> returns;

  std::vector<PlannedValue> values;   // output order: args, then results
  std::vector<CaptureOp> entry_ops;   // arguments, read at entry
  std::vector<CaptureOp> return_ops;  // results, read at each RET
  std::vector<DerefOp> entry_derefs;  // run after entry_ops, in order
  std::vector<DerefOp> return_derefs;
  uint32_t record_size = 0;  // header + every value
  uint32_t entry_size = 0;   // header + argument values (kept in flight)

  bool want_latency = true;
  bool want_goid = true;
  // Set when this plan probes one inlined instance (core/plan/inline_plan.h):
  // entry only, arguments from the instance's own locations, no results and
  // no latency (an inlined call has no RET of its own).
  std::optional<InlineCallSite> inlined;
  // Results or latency need a RET probe and in-flight pairing; otherwise the
  // entry probe emits the record itself (one trap per call, not two).
  bool needs_return() const {
    return want_latency || !return_ops.empty() || !return_derefs.empty();
  }
};

}  // namespace dynprobe

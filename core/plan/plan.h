// The physical plan of one probe: where to attach (entry and every RET), what
// to copy into each record and where, and the record's layout (its schema).
// The BPF backend emits code from it; the decoder reads records with it.
// Plain data so a test can build one by hand.
#pragma once

#include <cstdint>
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
  enum class Source : uint8_t { Register, Stack };
  Source source = Source::Register;
  Reg reg = Reg::RAX;
  int64_t sp_offset = 0;
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
  uint32_t elem_size = 1;    // bytes per counted element
  uint32_t max_bytes = 0;    // reserved at dest
  uint32_t dest = 0;
  uint32_t status = 0;  // record offset of a byte set to 1 when a non-nil address was unreadable
  // Slice elements past the slice's length hold stale bytes: only follow
  // element `guard_index` when *(int64*)(record + guard_len_offset) > guard_index.
  int32_t guard_len_offset = -1;
  uint32_t guard_index = 0;
  // An interface's data chunk is read blind: the value may end just before
  // unmapped memory, so on a fault the read is retried at half the size,
  // down to 8 bytes.
  bool shrink_on_fault = false;
};

// Where a captured value and everything followed from it sit in the record.
struct ValueNode {
  enum class Follow : uint8_t {
    None,       // the image says it all (scalars), or children do (struct, array)
    String,     // payload: the bytes
    Slice,      // payload: the elements; children: one node per element slot
    Pointer,    // payload: the pointee; children[0]: its node
    CutDepth,   // a pointer beyond --depth
    CutBudget,  // not followed: the record budget ran out
    Map,        // payload: the 8-byte element count
    Chan,       // payload: qcount and dataqsiz
    Func,       // payload: the code pointer
    Interface,  // dyn_type: the _type address; payload: a chunk of the data
  };
  struct ChunkString {  // a (ptr, len) pair at `chunk_offset` of an interface's data
    uint32_t chunk_offset = 0;
    uint32_t dest = 0;
    uint32_t max_bytes = 0;
    uint32_t status = 0;
  };
  TypeId type = kNoType;
  uint32_t offset = 0;  // the value's own image
  Follow follow = Follow::None;
  uint32_t payload = 0;
  uint32_t payload_max = 0;
  uint32_t status = 0;
  uint32_t dyn_type = 0;
  int depth = 0;  // pointers followed to reach this node
  std::vector<ValueNode> children;
  std::vector<ChunkString> chunk_strings;
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
  uint32_t flags;  // bit 0: latency measured
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
  // Results or latency need a RET probe and in-flight pairing; otherwise the
  // entry probe emits the record itself (one trap per call, not two).
  bool needs_return() const {
    return want_latency || !return_ops.empty() || !return_derefs.empty();
  }
};

}  // namespace dynprobe

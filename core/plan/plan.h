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

struct PlannedValue {
  std::string key;  // output key: parameter name, "$N", or the expression as written
  bool is_result = false;
  TypeId type = kNoType;
  uint32_t size = 0;
  uint32_t record_offset = 0;
  bool available = true;  // false: not captured; `unavailable_reason` says why
  std::string unavailable_reason;
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
};
static_assert(sizeof(RecordHeader) == 48);

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
  uint32_t record_size = 0;           // header + every value
  uint32_t entry_size = 0;            // header + argument values (kept in flight)

  bool want_latency = true;
  bool want_goid = true;
  // Results or latency need a RET probe and in-flight pairing; otherwise the
  // entry probe emits the record itself (one trap per call, not two).
  bool needs_return() const { return want_latency || !return_ops.empty(); }
};

}  // namespace dynprobe

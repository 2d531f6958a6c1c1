// Decodes ring-buffer records by the plan that laid them out.
#pragma once

#include <llvm/Support/JSON.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "backends/decode/node_decoder.h"
#include "core/plan/plan.h"
#include "core/result.h"
#include "core/types.h"

namespace dynprobe {

struct CallRecord {
  const ProbePlan* probe = nullptr;
  uint32_t pid = 0;
  uint32_t tid = 0;
  uint64_t goid = 0;
  uint64_t entry_monotonic_ns = 0;
  std::optional<uint64_t> latency_ns;
  const InlineCallSite* inlined = nullptr;  // the call site, for a record of an inlined call
  llvm::json::Object args;  // key -> value, in plan order (llvm::json::Object is unordered:
  llvm::json::Object ret;   //   order comes from `probe->values` when rendering)
};

class RecordDecoder {
 public:
  // `context.types` and the callbacks are used for every record; its pid is
  // set per record.
  RecordDecoder(const std::vector<ProbePlan>& plans, DecodeContext context)
      : plans_(plans), context_(std::move(context)) {}

  Result<CallRecord> decode(std::span<const std::byte> record) const;

 private:
  const std::vector<ProbePlan>& plans_;
  DecodeContext context_;
};

}  // namespace dynprobe

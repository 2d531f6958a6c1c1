// Decodes ring-buffer records by the plan that laid them out.
#pragma once

#include <llvm/Support/JSON.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

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
  llvm::json::Object args;  // key -> value, in plan order (llvm::json::Object is unordered:
  llvm::json::Object ret;   //   order comes from `probe->values` when rendering)
};

class RecordDecoder {
 public:
  RecordDecoder(const std::vector<ProbePlan>& plans, const TypeTable& types)
      : plans_(plans), types_(types) {}

  Result<CallRecord> decode(std::span<const std::byte> record) const;

 private:
  const std::vector<ProbePlan>& plans_;
  const TypeTable& types_;
};

}  // namespace dynprobe

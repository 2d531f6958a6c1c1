// Renders decoded calls: an aligned table (the default, like a Pixie table),
// JSON lines (schema in docs/probe-language.md) or CSV.
#pragma once

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "backends/decode/record_decoder.h"
#include "core/result.h"

namespace dynprobe::cli {

class RecordWriter {
 public:
  virtual ~RecordWriter() = default;
  virtual void write(const CallRecord& call) = 0;
};

// `realtime_offset_ns` turns the probes' CLOCK_MONOTONIC into unix time.
Result<std::unique_ptr<RecordWriter>> make_writer(const std::string& format, FILE* out,
                                                  const std::vector<ProbePlan>& plans,
                                                  int64_t realtime_offset_ns);

// A value as one table/CSV cell: scalars plain, nested values compact JSON.
std::string compact(const llvm::json::Value& v);

}  // namespace dynprobe::cli

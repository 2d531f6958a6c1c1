#include "backends/decode/record_decoder.h"

#include <cstring>

#include "backends/decode/value_decoder.h"

namespace dynprobe {

Result<CallRecord> RecordDecoder::decode(std::span<const std::byte> record) const {
  RecordHeader h;
  if (record.size() < sizeof h)
    return fail("short record (" + std::to_string(record.size()) + " bytes)");
  memcpy(&h, record.data(), sizeof h);
  if (h.probe_id >= plans_.size())
    return fail("record for unknown probe " + std::to_string(h.probe_id));
  const ProbePlan& plan = plans_[h.probe_id];
  if (record.size() < plan.record_size) return fail("record shorter than its probe's layout");

  CallRecord out{
      .probe = &plan, .pid = h.pid, .tid = h.tid, .goid = h.goid, .entry_monotonic_ns = h.entry_ns};
  if ((h.flags & kRecordLatency) && plan.want_latency) out.latency_ns = h.latency_ns;
  if ((h.flags & kRecordInlined) && plan.inlined) out.inlined = &*plan.inlined;
  auto bytes = std::span(reinterpret_cast<const uint8_t*>(record.data()), record.size());
  DecodeContext ctx = context_;
  if (plan.entry.address != 0 && h.entry_ip >= plan.entry.address)
    ctx.bias = h.entry_ip - plan.entry.address;
  for (size_t i = 0; i < plan.values.size(); ++i) {
    const PlannedValue& v = plan.values[i];
    llvm::json::Value value = nullptr;
    if (!v.available) {
      value = unavailable_marker(v.unavailable_reason);
    } else if (i < 64 && (h.missing >> i) & 1) {
      value = unreadable_marker();
    } else {
      ctx.holes = &v.holes;
      ctx.holes_reason = v.holes_reason;
      ctx.value_offset = v.record_offset;
      ctx.value_size = v.size;
      bool path = !v.path.empty() || v.fn != ProbeExpr::Fn::None;
      value =
          path ? decode_path(ctx, v.node, v.path, v.fn, bytes) : decode_node(ctx, v.node, bytes);
    }
    (v.is_result ? out.ret : out.args)[v.key] = std::move(value);
  }
  return out;
}

}  // namespace dynprobe

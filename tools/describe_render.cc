#include <llvm/Support/FormatVariadic.h>
#include <llvm/Support/JSON.h>

#include <cinttypes>
#include <cstdio>

#include "tools/describe_report.h"

namespace dynprobe::cli {

namespace {

std::string hex(uint64_t v) {
  char buf[24];
  snprintf(buf, sizeof buf, "0x%" PRIx64, v);
  return buf;
}

std::string join_hex(const std::vector<uint64_t>& v) {
  std::string out;
  for (uint64_t a : v) out += (out.empty() ? "" : ", ") + hex(a);
  return out.empty() ? "(none)" : out;
}

llvm::json::Array values_json(const std::vector<ValueReport>& values) {
  llvm::json::Array out;
  for (const ValueReport& v : values) {
    llvm::json::Object o{{"name", v.name},         {"type", v.type},
                         {"kind", v.kind},         {"size", static_cast<int64_t>(v.size)},
                         {"location", v.location}, {"location_source", v.source}};
    o["dwarf_location"] =
        v.dwarf_location.empty() ? llvm::json::Value(nullptr) : llvm::json::Value(v.dwarf_location);
    out.push_back(std::move(o));
  }
  return out;
}

llvm::json::Array addresses_json(const std::vector<uint64_t>& v) {
  llvm::json::Array out;
  for (uint64_t a : v) out.push_back(static_cast<int64_t>(a));
  return out;
}

void append_values(std::string& out, const char* heading, const std::vector<ValueReport>& values,
                   bool results) {
  out += heading;
  out += values.empty() ? " (none)\n" : "\n";
  for (size_t i = 0; i < values.size(); ++i) {
    const ValueReport& v = values[i];
    std::string name = results ? "$" + std::to_string(i) + " " + v.name : v.name;
    out += llvm::formatv("  {0,-16} {1,-24} {2,-9} {3,4}  {4}", name, v.type, v.kind, v.size,
                         v.location)
               .str();
    if (v.source == "dwarf") out += "  (from DWARF)";
    if (!v.dwarf_location.empty() && v.dwarf_location != v.location)
      out += "  [DWARF: " + v.dwarf_location + "]";
    out += "\n";
  }
}

}  // namespace

std::string render_json(const DescribeReport& r) {
  llvm::json::Array inl;
  for (const InlineReport& s : r.inline_sites) {
    llvm::json::Array ranges;
    for (const AddressRange& a : s.ranges)
      ranges.push_back(
          llvm::json::Array{static_cast<int64_t>(a.low), static_cast<int64_t>(a.high)});
    llvm::json::Array params;
    for (const InlineParamReport& p : s.params) {
      llvm::json::Object o{{"name", p.name}, {"location", p.location}};
      if (!p.reason.empty()) o["unavailable"] = p.reason;
      params.push_back(std::move(o));
    }
    llvm::json::Object site{{"caller", s.caller},
                            {"call_file", s.call_file},
                            {"call_line", static_cast<int64_t>(s.call_line)},
                            {"entry_pc", static_cast<int64_t>(s.entry_pc)},
                            {"ranges", std::move(ranges)},
                            {"params", std::move(params)}};
    if (!s.error.empty()) site["error"] = s.error;
    inl.push_back(std::move(site));
  }
  llvm::json::Object o{
      {"binary", r.binary},
      {"build_id", r.build_id},
      {"language", r.language},
      {"abi", r.abi},
      {"context", r.context},
      {"function", r.function},
      {"signature", r.signature},
      {"decl_file", r.decl_file},
      {"decl_line", static_cast<int64_t>(r.decl_line)},
      {"address", static_cast<int64_t>(r.address)},
      {"size", static_cast<int64_t>(r.size)},
      {"pie", r.pie},
      {"prologue_end", static_cast<int64_t>(r.prologue_end)},
      {"stack_check", r.stack_check},
      {"params", values_json(r.params)},
      {"results", values_json(r.results)},
      {"return_sites", addresses_json(r.return_sites)},
      {"tail_jumps", addresses_json(r.tail_jumps)},
      {"inline_sites", std::move(inl)},
  };
  o["go_version"] =
      r.go_version.empty() ? llvm::json::Value(nullptr) : llvm::json::Value(r.go_version);
  o["debug_file"] =
      r.debug_file.empty() ? llvm::json::Value(nullptr) : llvm::json::Value(r.debug_file);
  return llvm::formatv("{0:2}", llvm::json::Value(std::move(o))).str() + "\n";
}

std::string render_text(const DescribeReport& r) {
  std::string out;
  out += "function      " + r.function + "\n";
  out += "signature     " + r.signature + "\n";
  if (!r.decl_file.empty())
    out += "declared at   " + r.decl_file + ":" + std::to_string(r.decl_line) + "\n";
  out += "address       " + hex(r.address) + " (" + std::to_string(r.size) + " bytes" +
         (r.pie ? ", PIE: add the load bias" : "") + ")\n";
  out += "binary        " + r.binary + "\n";
  if (!r.debug_file.empty()) out += "debug file    " + r.debug_file + "\n";
  out += "build id      " + (r.build_id.empty() ? std::string("(none)") : r.build_id) + "\n";
  out += "language      " + r.language + (r.go_version.empty() ? "" : " " + r.go_version) + "\n";
  out += "abi           " + r.abi + " (" + r.context + ")\n";
  append_values(out, "params at entry", r.params, false);
  append_values(out, "results at RET", r.results, true);
  out += "return sites  " + join_hex(r.return_sites) + "\n";
  if (!r.tail_jumps.empty()) out += "tail jumps    " + join_hex(r.tail_jumps) + " (no latency)\n";
  out += "prologue end  " + hex(r.prologue_end) +
         (r.stack_check ? " (after the stack-bound check)" : "") + "\n";
  out += "inline sites";
  out += r.inline_sites.empty() ? "  (none)\n"
                                : "  (trace probes each, entry only; --no-inline skips them)\n";
  for (const InlineReport& s : r.inline_sites) {
    out += "  " + hex(s.entry_pc) + " in " + s.caller + " (" + s.call_file + ":" +
           std::to_string(s.call_line) + ")\n";
    if (!s.error.empty()) out += "      not probed: " + s.error + "\n";
    for (const InlineParamReport& p : s.params) {
      out += llvm::formatv("      {0,-16} {1}", p.name, p.location).str();
      if (!p.reason.empty()) out += "  (" + p.reason + ")";
      out += "\n";
    }
  }
  return out;
}

}  // namespace dynprobe::cli

// Everything `describe` shows about one function: each pipeline stage's
// decision (DWARF facts, the ABI plugin's locations, Capstone's code sites),
// gathered once and rendered as text or JSON.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/binary.h"
#include "core/result.h"

namespace dynprobe::cli {

struct ValueReport {
  std::string name;
  std::string type;
  std::string kind;
  uint64_t size = 0;
  std::string location;        // where the probe reads it
  std::string source;          // "abi" | "dwarf"
  std::string dwarf_location;  // what DWARF says at the probed PC ("" if nothing)
};

struct InlineParamReport {
  std::string name;
  std::string location;  // where the inlined-site probe reads it (SP-relative)
  std::string reason;    // why not, when it cannot
};

struct InlineReport {
  std::string caller;
  std::string call_file;
  uint32_t call_line = 0;
  uint64_t entry_pc = 0;
  std::vector<AddressRange> ranges;
  std::vector<InlineParamReport> params;  // at entry_pc, from the instance's own DWARF
  std::string error;                      // why the site cannot be probed at all
};

struct DescribeReport {
  std::string binary;
  std::string debug_file;
  std::string build_id;
  std::string language;
  std::string go_version;
  std::string abi;
  std::string context;  // how a probe finds the goroutine or thread
  std::string function;
  std::string signature;
  std::string decl_file;
  uint32_t decl_line = 0;
  uint64_t address = 0;  // link-time
  uint64_t size = 0;
  bool pie = false;
  uint64_t prologue_end = 0;
  bool stack_check = false;
  std::vector<ValueReport> params;
  std::vector<ValueReport> results;
  std::vector<uint64_t> return_sites;
  std::vector<uint64_t> tail_jumps;
  std::vector<InlineReport> inline_sites;
};

Result<DescribeReport> describe_function(Binary& binary, const std::string& query);

std::string render_text(const DescribeReport& r);
std::string render_json(const DescribeReport& r);

}  // namespace dynprobe::cli

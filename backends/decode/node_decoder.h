// Decodes a captured value by the plan's ValueNode tree: the value's image,
// and the strings, elements, pointees and interface data followed from it.
#pragma once

#include <llvm/Support/JSON.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>

#include "core/plan/plan.h"
#include "core/types.h"

namespace dynprobe {

struct DecodeContext {
  const TypeTable* types = nullptr;
  // Link-time address of a runtime._type -> its Go type (may add to `types`).
  std::function<std::optional<TypeId>(uint64_t link_address)> dynamic_type;
  // gccgo: a dynamic type by the name its descriptor holds (read when the
  // address names none): the name as Go prints it, and its Go type when the
  // binary's DWARF has one (may add to `types`).
  std::function<NamedType(std::string_view descriptor_name)> descriptor_type;
  // Link-time code address -> function name, "" if unknown.
  std::function<std::string(uint64_t link_address)> symbolize;
  bool bytes_as_hex = false;
  // Set per record: runtime minus link-time addresses (PIE load bias).
  uint64_t bias = 0;
  // Set per value: parts of its image that were not captured.
  const std::vector<PlannedValue::Hole>* holes = nullptr;
  std::string holes_reason;
  uint32_t value_offset = 0;  // record offset of the value's image
  uint32_t value_size = 0;
};

llvm::json::Value decode_node(const DecodeContext& ctx, const ValueNode& node,
                              std::span<const uint8_t> record);

// The value at `path` below the captured root (fields look through pointers,
// as Go's selector does), or its len/cap.
llvm::json::Value decode_path(const DecodeContext& ctx, const ValueNode& root,
                              const std::vector<PathStep>& path, ProbeExpr::Fn fn,
                              std::span<const uint8_t> record);

// Go string bytes as a JSON string: valid UTF-8 kept, every other byte as
// the four characters \xNN (what docs/probe-language.md promises).
std::string escape_go_string(std::span<const uint8_t> bytes);

}  // namespace dynprobe

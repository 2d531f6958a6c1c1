// Turns the bytes a probe copied (a value's memory image, whatever registers
// or stack slots it came from) into a JSON value by its type. Scalars decode
// fully; references to other memory (string bytes, slice elements, pointees)
// are shown by address until the capture follows them.
#pragma once

#include <llvm/Support/JSON.h>

#include <cstdint>
#include <span>

#include "core/types.h"

namespace dynprobe {

// Markers a JSON consumer can detect: an object with a single "$..." key.
llvm::json::Value unavailable_marker(std::string why);  // {"$unavailable": why}, owning a copy
llvm::json::Value unreadable_marker();                  // {"$unreadable": true}

llvm::json::Value decode_value(const TypeTable& types, TypeId type, std::span<const uint8_t> bytes,
                               int depth = 0);

}  // namespace dynprobe

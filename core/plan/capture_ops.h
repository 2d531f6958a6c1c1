// The planner's capture pass: a value's location -> the copies the probe
// makes into the record (capture_ops_for in core/plan/planner.h), and the
// values that live whole in memory a register points to.
#pragma once

#include <cstdint>
#include <optional>

#include "core/location.h"

namespace dynprobe {

// A value that lives whole in memory a register points to: a MEMORY-class C
// result at RET (the callee returns the hidden pointer in RAX), or a C++
// class passed by invisible reference. The register is captured and the
// bytes are read from where it points.
std::optional<Piece> addressed_by_register(const Location& loc, uint32_t size);

}  // namespace dynprobe

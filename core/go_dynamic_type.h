// The Go type an interface value's type word names. gc's word points at a
// runtime._type that DWARF links to its type (DW_AT_go_runtime_type, an
// offset from runtime.types); gccgo's at a type descriptor that only the
// symbol table names ("main.Money..d" for main.Money, "main.Sq..p" for
// *main.Sq), so its type is found by that name.
#pragma once

#include <cstdint>
#include <optional>

#include "core/binary.h"
#include "core/types.h"

namespace dynprobe {

// `address` is link-time (the load bias already taken off). nullopt when no
// type is known there: a descriptor in a shared library (gccgo's libgo
// defines errors.errorString), or an unnamed gccgo type ("[]int").
std::optional<TypeId> go_dynamic_type(Binary& binary, uint64_t address);

}  // namespace dynprobe

// The Go type an interface value's type word names. gc's word points at a
// runtime._type that DWARF links to its type (DW_AT_go_runtime_type, an
// offset from runtime.types); gccgo's at a type descriptor that the symbol
// table names ("main.Money..d" for main.Money, "main.Sq..p" for *main.Sq)
// and that holds its own name, so gccgo's types are found by name.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/binary.h"
#include "core/types.h"

namespace dynprobe {

// `address` is link-time (the load bias already taken off). nullopt when no
// type is known there: a descriptor in a shared library (gccgo's libgo
// defines errors.errorString), or an unnamed gccgo type ("[]int").
std::optional<TypeId> go_dynamic_type(Binary& binary, uint64_t address);

// gccgo: the type a descriptor names by its own name string (libgo's form,
// see gccgo_reflection_name): the name as Go prints it, and the Go type of
// that name when the binary's DWARF has it (a pointer type made for "*T").
NamedType go_type_by_descriptor_name(Binary& binary, std::string_view descriptor_name);

}  // namespace dynprobe

// Go's strings, slices and interfaces as gccgo describes them. gccgo (GCC's
// Go front end) writes plain C-like DWARF, without gc's DW_AT_go_kind: a
// string is a typedef of struct {__data *uint8; __length int}, a slice a
// typedef "[]T" of struct {__values *T; __count int; __capacity int}, an
// interface struct {__methods *struct{__type_descriptor, methods...};
// __object *void} and interface{} struct {__type_descriptor *_type;
// __object *void}. Applied by the DWARF type builder to every struct of a Go
// unit that has no DW_AT_go_kind (gc's always do).
#pragma once

#include <string>
#include <vector>

#include "core/function.h"
#include "core/types.h"

namespace llvm {
class DWARFDie;
}

namespace dynprobe {

// Turns `t` into a String, Slice or Interface when its members are those
// above; returns whether it changed.
bool recognize_gccgo_type(Type& t, const TypeTable& types);

// gccgo writes a map as a pointer to typedef runtime.hmap, a chan as a
// pointer to the empty typedef __go_channel and a func value as a pointer
// to __go_descriptor (a struct of the code pointer). Turns the pointer `t`
// (whose DW_AT_type is `pointee`) into a Map, Chan or Func; the key, value
// and element types are not in the DWARF, so the map's entries cannot be
// decoded (its length can: libgo's hmap starts with its count, as gc's did).
bool recognize_gccgo_pointer(Type& t, const llvm::DWARFDie& pointee);

// The Go package a gccgo unit compiles ("main", "example.com/x/y"), from its
// functions' names; "" for any other unit. gccgo names a package's types by
// their bare name ("Money") where Go and gccgo's own type descriptors say
// "main.Money".
std::string gccgo_package(const llvm::DWARFDie& unit_die);

// The name Go gives the type that the gccgo typedef `die` declares: its
// package's name before a bare name declared in a source file; the DWARF
// name unchanged for gccgo's built-in typedefs (string, error, runtime.hmap)
// and qualified ones.
std::string gccgo_type_name(const llvm::DWARFDie& die, const std::string& package);

// A gccgo type descriptor's name as Go's %T prints it: libgo writes each
// package path between tabs before the qualified name
// ("*\terrors\terrors.errorString", "map[\tmain\tmain.K]int"), which
// reflect drops.
std::string gccgo_reflection_name(std::string_view descriptor_name);

// The results of a gccgo function, whose DW_AT_type (`type_die`, resolved as
// `type`) is its one result, or, for several, an unnamed struct of them
// (members named as the results, "UNNAMED" if they have no name) that gccgo
// writes just before the function: one Variable per result, without
// locations (the SysV plugin places them inside the returned struct).
// gccgo names every method "pkg.T.M"; gc (and the user) "pkg.(*T).M" when
// the receiver is a pointer. The gc spelling for a gccgo subprogram whose
// first parameter is a *T named in the source (not gccgo's "pointer", below)
// and whose name is T's followed by ".M"; empty for any other DIE.
std::string gccgo_method_name(const llvm::DWARFDie& subprogram);

// A value receiver reaches a gccgo method as a pointer parameter named
// "pointer", copied into a local variable of the receiver's name: the
// parameter takes that name (its value, the pointee, is the receiver's).
void gccgo_name_receiver(const llvm::DWARFDie& subprogram, std::vector<Variable>& params);

std::vector<Variable> gccgo_results(const llvm::DWARFDie& type_die,
                                    const llvm::DWARFDie& subprogram, TypeId type,
                                    const TypeTable& types);

}  // namespace dynprobe

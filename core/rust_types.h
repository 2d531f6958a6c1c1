// Rust's standard sequence types as the abstract model's String and Slice.
// rustc describes them in DWARF as plain structs: &str and &[T] as
// {data_ptr, length}; String as {vec: Vec<u8>}; Vec<T> as a RawVec (pointer
// and capacity, nested a few structs deep, and reordered by rustc's layout)
// plus a length. Box<T>, &T and &mut T are pointer types already. Applied by
// the DWARF type builder to every struct of a Rust unit, once its fields are
// built.
#pragma once

#include <string_view>

#include "core/types.h"

namespace dynprobe {

// True for the structs whose element type only the DIE's template parameter
// `T` gives (Vec<T> keeps a type-erased pointer since Rust 1.83 or so).
bool rust_needs_element_type(std::string_view struct_name);

// Turns `t`, a Struct of a Rust unit, into a String or Slice with its
// SeqLayout when it is one of the types above; `element` is the resolved
// template parameter T when rust_needs_element_type asked for it. Returns
// whether `t` changed. A struct whose fields do not look as expected stays
// a struct (its fields still decode).
bool recognize_rust_sequence(Type& t, const TypeTable& types, TypeId element);

}  // namespace dynprobe

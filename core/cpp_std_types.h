// C++ classes the abstract model knows more about than their fields:
// libstdc++'s std::string (std::__cxx11::basic_string<char>) as a String and
// std::vector<T> as a Slice, through a SeqLayout over their own members; and
// whether a class is non-trivial for the purposes of calls (Itanium C++ ABI
// 3.1.2), which decides how the SysV plugin passes and returns it. Applied
// by the DWARF type builder to every struct, class and union of a C or C++
// unit, once its fields are built.
#pragma once

#include <string_view>

#include "core/types.h"

namespace llvm {
class DWARFDie;
}

namespace dynprobe {

// True for the classes whose element type only the template parameter
// `_Tp` gives (std::vector<T>: its members are typedefs of T*).
bool cpp_needs_element_type(std::string_view class_name);

// Turns `t` (a Struct built from `die`) into a String or Slice when it is
// libstdc++'s std::string or std::vector<T>; `element` is the resolved `_Tp`
// when cpp_needs_element_type asked for it. Returns whether `t` changed. A
// std::string known only by its declaration (clang's -fno-standalone-debug
// leaves the definition to the CU that instantiates it, usually none) gets
// the layout the library ABI fixes: {_M_p, _M_string_length, buffer}, 32 bytes;
// a std::vector<T> known only by its declaration keeps its size (24) and
// calling convention but, without T, is Unknown (decoded as bytes).
bool recognize_cpp_std_type(const llvm::DWARFDie& die, Type& t, const TypeTable& types,
                            TypeId element);

// DW_AT_calling_convention when the compiler wrote it (clang:
// DW_CC_pass_by_reference / DW_CC_pass_by_value); otherwise (GCC writes none)
// the Itanium rule read off the class's members: a user-provided copy or
// move constructor or destructor, a virtual function or base, or a base or
// member (of array type too) that is itself passed by reference.
bool cpp_pass_by_reference(const llvm::DWARFDie& die, const Type& t, const TypeTable& types);

}  // namespace dynprobe

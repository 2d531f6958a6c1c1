#pragma once

#include <string>

#include "core/function.h"
#include "core/types.h"

namespace dynprobe {

// The function's signature as its language prints it:
// Go  "func(l main.Money, r main.Money) (main.Money, error)"
// C++ "double (int a, Pt p)"
std::string signature(const Function& fn, const TypeTable& types);

// A result's JSON key: "$0", "$1"... in declaration order, whatever DWARF calls it.
std::string result_key(size_t index);

}  // namespace dynprobe

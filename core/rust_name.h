// Rust function names as Rust spells them, from LLVM's demangling of their
// symbols: "shop::Ledger::record" for both the legacy symbol (which LLVM
// demangles as an Itanium name: "shop::Ledger::record::h0123456789abcdef",
// with rustc's $LT$-style escapes left in) and the v0 symbol
// ("<shop::Ledger>::record").
#pragma once

#include <string>
#include <string_view>

namespace dynprobe {

std::string rust_function_name(std::string_view demangled);

// Whether an Itanium-demangled name ends in the legacy scheme's hash
// ("::h" and 16 hex digits): a Rust symbol, not a C++ one.
bool has_legacy_rust_hash(std::string_view demangled);

}  // namespace dynprobe

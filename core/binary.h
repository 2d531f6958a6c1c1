// A binary opened for probing: its ELF, where its DWARF lives (itself or a
// separate debug file), its Go build info, and function lookup by the names
// users type. Everything the CLI and the planner need about "the program".
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/debug_info.h"
#include "core/elf_file.h"
#include "core/function.h"
#include "core/go_buildinfo.h"
#include "core/result.h"

namespace dynprobe {

struct OpenOptions {
  std::string debug_file;  // --debug-file: DWARF from this file instead of searching
};

class Binary {
 public:
  // Errors: those of ElfFile::open, and the DWARF error when neither the
  // binary nor any debug-file candidate has DWARF.
  static Result<Binary> open(const std::string& path, const OpenOptions& opts = {});

  Binary(Binary&&) noexcept;
  Binary& operator=(Binary&&) noexcept;
  ~Binary();

  const ElfFile& elf() const;
  // The file DWARF came from; the binary itself unless a debug file was used.
  const std::string& debug_path() const;
  DebugInfo& debug();
  const TypeTable& types() const;
  const std::optional<GoBuildInfo>& go() const;
  Language language() const;

  // Names of every function that can be named: function symbols plus, when
  // `with_inlined` is set, functions that exist only inlined (a DWARF scan).
  std::vector<std::string_view> function_names(bool with_inlined);

  // Resolves a user-typed name (exact or unambiguous suffix) to one full name.
  // Errors: "unknown function X; closest: a, b, c" and
  // "ambiguous function X: a, b, c".
  Result<std::string> resolve(std::string_view query);

  Result<Function> function(std::string_view full_name, const LoadOptions& opts = {});

  // Symbols by name or address from the binary, else from its debug file (a
  // stripped binary keeps them only there).
  const Symbol* symbol(std::string_view name) const;
  const Symbol* function_containing(uint64_t address) const;
  std::span<const Symbol> symbols_at(uint64_t address) const;

 private:
  struct State;
  explicit Binary(std::unique_ptr<State> s);
  std::unique_ptr<State> s_;
};

}  // namespace dynprobe

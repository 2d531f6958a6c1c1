#include "core/binary.h"

#include <llvm/Demangle/Demangle.h>

#include <algorithm>
#include <filesystem>
#include <unordered_map>
#include <unordered_set>

#include "core/debug_file.h"
#include "core/name_match.h"
#include "core/rust_name.h"

namespace dynprobe {

namespace {

// Itanium (C++ and Rust's legacy scheme) and Rust v0 symbols.
bool is_mangled(std::string_view name) { return name.starts_with("_Z") || name.starts_with("_R"); }

// A symbol as its language spells the function: C++ as LLVM demangles it,
// Rust without the legacy hash or v0's brackets ("shop::Ledger::record").
std::string display_name(std::string_view symbol) {
  std::string d = llvm::demangle(symbol);
  if (symbol.starts_with("_R") || has_legacy_rust_hash(d)) return rust_function_name(d);
  return d;
}

}  // namespace

struct Binary::State {
  ElfFile elf;
  std::optional<ElfFile> debug_elf;  // declared before `dwarf`, which may point into it
  std::optional<DebugInfo> dwarf;
  std::optional<GoBuildInfo> go;
  std::string debug_path;
  // Demangled C++ function symbols ("shop::add(int, int)") -> their symbol,
  // built on first use: users name C++ functions as the language spells them.
  std::optional<std::unordered_map<std::string, const Symbol*>> demangled;

  const ElfFile& symbol_file() const {
    // A stripped binary keeps its symbols only in the debug file.
    return elf.symbols().empty() && debug_elf ? *debug_elf : elf;
  }
  const std::unordered_map<std::string, const Symbol*>& demangled_symbols() {
    if (!demangled) {
      demangled.emplace();
      for (const Symbol& sym : symbol_file().symbols())
        if (sym.is_function && is_mangled(sym.name))
          demangled->try_emplace(display_name(sym.name), &sym);
    }
    return *demangled;
  }
};

namespace {

Result<std::pair<ElfFile, DebugInfo>> load_debug_file(const std::string& path) {
  auto elf = ElfFile::open(path);
  if (!elf) return std::unexpected(elf.error());
  auto dwarf = DebugInfo::load(*elf);
  if (!dwarf) return std::unexpected(dwarf.error());
  return std::pair<ElfFile, DebugInfo>(std::move(*elf), std::move(*dwarf));
}

}  // namespace

Binary::Binary(std::unique_ptr<State> s) : s_(std::move(s)) {}
Binary::Binary(Binary&&) noexcept = default;
Binary& Binary::operator=(Binary&&) noexcept = default;
Binary::~Binary() = default;

Result<Binary> Binary::open(const std::string& path, const OpenOptions& opts) {
  auto elf = ElfFile::open(path);
  if (!elf) return std::unexpected(elf.error());
  auto state = std::make_unique<State>(State{.elf = std::move(*elf)});
  if (auto go = read_go_buildinfo(state->elf)) state->go = std::move(*go);

  if (!opts.debug_file.empty()) {
    auto loaded = load_debug_file(opts.debug_file);
    if (!loaded) return std::unexpected(loaded.error());
    state->debug_elf = std::move(loaded->first);
    state->dwarf = std::move(loaded->second);
    state->debug_path = opts.debug_file;
    return Binary(std::move(state));
  }

  auto own = DebugInfo::load(state->elf);
  if (own) {
    state->dwarf = std::move(*own);
    state->debug_path = path;
    return Binary(std::move(state));
  }
  for (const std::string& candidate : debug_file_candidates(state->elf)) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(candidate, ec)) continue;
    auto loaded = load_debug_file(candidate);
    if (!loaded) continue;
    state->debug_elf = std::move(loaded->first);
    state->dwarf = std::move(loaded->second);
    state->debug_path = candidate;
    return Binary(std::move(state));
  }
  return std::unexpected(own.error());
}

const ElfFile& Binary::elf() const { return s_->elf; }
const std::string& Binary::debug_path() const { return s_->debug_path; }
DebugInfo& Binary::debug() { return *s_->dwarf; }
const TypeTable& Binary::types() const { return s_->dwarf->types(); }
const std::optional<GoBuildInfo>& Binary::go() const { return s_->go; }
Language Binary::language() const { return s_->go ? Language::Go : Language::Unknown; }

std::vector<std::string_view> Binary::function_names(bool with_inlined) {
  std::vector<std::string_view> names;
  for (const Symbol& sym : s_->symbol_file().symbols())
    if (sym.is_function && !sym.name.empty() && !is_mangled(sym.name)) names.push_back(sym.name);
  for (const auto& [name, sym] : s_->demangled_symbols()) names.push_back(name);
  if (with_inlined) {
    // A function with code is named by its symbol already (C++ DWARF names
    // lack the parameter list that tells overloads apart).
    std::unordered_set<uint64_t> named;
    for (const Symbol& sym : s_->symbol_file().symbols())
      if (sym.is_function) named.insert(sym.addr);
    // gccgo's symbol "main.T.M" is a method with a pointer receiver that
    // DWARF names as gc does, "main.(*T).M" (core/gccgo_types.h).
    for (const FunctionEntry& f : s_->dwarf->functions())
      if (f.inlined_only || !named.contains(f.low_pc) || f.name.find("(*") != std::string::npos)
        names.push_back(f.name);
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

Result<std::string> Binary::resolve(std::string_view query) {
  auto names = function_names(false);
  auto found = match_function(query, names);
  if (found.empty()) {
    names = function_names(true);
    found = match_function(query, names);
  }
  if (found.size() == 1) return found.front();
  auto join = [](const std::vector<std::string>& v, size_t limit) {
    std::string out;
    for (size_t i = 0; i < v.size() && i < limit; ++i) out += (i ? ", " : "") + v[i];
    if (v.size() > limit) out += ", ... (" + std::to_string(v.size() - limit) + " more)";
    return out;
  };
  if (found.empty()) {
    auto close = closest_names(query, names);
    std::string msg = "unknown function " + std::string(query) + " in " + s_->elf.path();
    if (!close.empty()) msg += "; closest: " + join(close, close.size());
    return fail(msg);
  }
  return fail("ambiguous function " + std::string(query) + ": " + join(found, 10) +
              " (give more of the name)");
}

namespace {

// C-like functions have one result, DW_AT_type of the subprogram; listing it
// as Function::results lets describe and the planner treat it as Go's $0.
Function with_native_result(Function fn) {
  if (fn.language != Language::Go && fn.results.empty() && fn.return_type != kNoType)
    fn.results.push_back(Variable{.type = fn.return_type, .is_result = true});
  return fn;
}

}  // namespace

Result<Function> Binary::function(std::string_view full_name, const LoadOptions& opts) {
  const Symbol* sym = symbol(full_name);
  if (sym == nullptr) {
    auto& demangled = s_->demangled_symbols();
    if (auto it = demangled.find(std::string(full_name)); it != demangled.end()) sym = it->second;
  }
  if (sym != nullptr && sym->is_function) {
    auto fn = s_->dwarf->function_at(sym->addr, opts);
    if (fn && fn->name == full_name) return with_native_result(std::move(*fn));
    // A C or C++ symbol names its function otherwise than DWARF does
    // ("shop::add(int, int)", a GCC clone "f.isra.0"): the symbol's name
    // tells overloads and clones apart, so it is the function's name.
    // Rust's DWARF names functions by their symbols; another name at the
    // address is a function inlined at the entry (Iterator::find).
    if (fn && fn->language != Language::Go && fn->language != Language::Rust &&
        fn->low_pc == sym->addr) {
      fn->name = std::string(full_name);
      return with_native_result(std::move(*fn));
    }
  }
  auto fn = s_->dwarf->function_named(full_name, opts);
  if (!fn) return fn;
  return with_native_result(std::move(*fn));
}

}  // namespace dynprobe

namespace dynprobe {

const Symbol* Binary::symbol(std::string_view name) const {
  const Symbol* s = s_->elf.symbol(name);
  if (s == nullptr && s_->debug_elf) s = s_->debug_elf->symbol(name);
  return s;
}

const Symbol* Binary::function_containing(uint64_t address) const {
  const Symbol* s = s_->elf.function_containing(address);
  if (s == nullptr && s_->debug_elf) s = s_->debug_elf->function_containing(address);
  return s;
}

std::span<const Symbol> Binary::symbols_at(uint64_t address) const {
  return s_->symbol_file().symbols_at(address);
}

}  // namespace dynprobe

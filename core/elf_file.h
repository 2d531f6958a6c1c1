// One ELF file, mapped read-only: sections, symbols, build-id, debuglink,
// PIE-ness and the virtual-address <-> file-offset mapping uprobes need.
// Parsing is LLVM's (llvm::object); this class only shapes the answers.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace llvm::object {
class ObjectFile;
}

namespace dynprobe {

struct Section {
  std::string name;
  uint64_t addr = 0;    // virtual address (0 for non-alloc sections)
  uint64_t offset = 0;  // file offset
  uint64_t size = 0;
  uint32_t type = 0;   // SHT_*
  uint64_t flags = 0;  // SHF_*
};

struct Symbol {
  std::string name;
  uint64_t addr = 0;
  uint64_t size = 0;
  bool is_function = false;
};

struct Segment {
  uint64_t vaddr = 0;
  uint64_t memsz = 0;
  uint64_t offset = 0;
  uint64_t filesz = 0;  // clamped to what the file holds (debug files, truncated copies)
  uint32_t flags = 0;   // PF_*
};

class ElfFile {
 public:
  // Errors: "PATH: no such file", "PATH: not an ELF file", "PATH: not an x86-64 ELF file",
  // "PATH: malformed ELF file: <why>", or "PATH: <strerror>" (permission, directory).
  static Result<ElfFile> open(const std::string& path);

  ElfFile(ElfFile&&) noexcept;
  ElfFile& operator=(ElfFile&&) noexcept;
  ~ElfFile();

  const std::string& path() const;
  bool is_pie() const;  // ET_DYN executable: addresses are relative to a load bias
  // Lower-case hex of NT_GNU_BUILD_ID, else the string in Go's build id note; "" if none.
  std::string build_id() const;
  std::string debuglink() const;  // file name in .gnu_debuglink, "" if none

  const std::vector<Section>& sections() const;
  const Section* section(std::string_view name) const;
  // The section's bytes as stored in the file (compressed sections stay compressed).
  std::span<const uint8_t> section_bytes(const Section& s) const;

  const std::vector<Segment>& load_segments() const;
  // Bytes at a link-time virtual address, from the file-backed part of a PT_LOAD.
  Result<std::span<const uint8_t>> read(uint64_t vaddr, size_t n) const;
  // File offset of a link-time virtual address (what a uprobe is attached at).
  std::optional<uint64_t> file_offset(uint64_t vaddr) const;

  // .symtab, else .dynsym, without undefined, section and file symbols;
  // sorted by address, then name. Names are exactly as stored (Go's are
  // fully qualified, C++'s mangled). Go's external linking adds container
  // symbols such as "net(.text)" that overlap the functions inside them.
  const std::vector<Symbol>& symbols() const;
  // By exact name (hash lookup); on duplicates, the first function symbol.
  const Symbol* symbol(std::string_view name) const;
  // Every symbol (of any kind) that starts at `addr`.
  std::span<const Symbol> symbols_at(uint64_t addr) const;
  // The function symbol whose [addr, addr+size) contains `addr`; the one
  // starting last when several do.
  const Symbol* function_containing(uint64_t addr) const;

  const llvm::object::ObjectFile& object() const;

 private:
  struct State;
  explicit ElfFile(std::unique_ptr<State> s);
  std::unique_ptr<State> s_;
};

}  // namespace dynprobe

// Go build information: the toolchain version and main module that
// `go version -m` shows, read from the .go.buildinfo section (both the
// pre-1.18 pointer format and the 1.18+ inline-string format), with
// runtime.buildVersion as a fallback for binaries that lack the section.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "core/go_version.h"
#include "core/result.h"

namespace dynprobe {

class ElfFile;

struct GoBuildInfo {
  std::string version;          // "go1.19.8" as the binary records it
  GoVersion parsed;             // version parsed into numbers
  std::string main_path;        // main module path ("example.com/app"), "" if unknown
  std::string mod_info;         // the raw module info text, "" if absent
  bool inline_strings = false;  // 1.18+ format
};

// Reads `n` bytes at a link-time virtual address; how the pointer format
// dereferences its string headers.
using VaddrReader = std::function<Result<std::span<const uint8_t>>(uint64_t vaddr, size_t n)>;

// Parses the bytes of a .go.buildinfo section. Exposed for unit tests.
Result<GoBuildInfo> parse_go_buildinfo(std::span<const uint8_t> section, const VaddrReader& read);

// Errors: "PATH: not a Go binary (no .go.buildinfo section or runtime.buildVersion)".
Result<GoBuildInfo> read_go_buildinfo(const ElfFile& elf);

}  // namespace dynprobe

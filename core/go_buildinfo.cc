#include "core/go_buildinfo.h"

#include <string_view>

#include "core/elf_file.h"

namespace dynprobe {

namespace {

// Layout of the blob Go's linker writes (cmd/link, read back by Go's
// debug/buildinfo): a 32-byte header starting with a 14-byte magic, then
// the pointer size and a flags byte.
constexpr std::string_view kMagic("\xff Go buildinf:", 14);
constexpr size_t kHeaderSize = 32;
constexpr uint8_t kFlagBigEndian = 0x1;
constexpr uint8_t kFlagInlineStrings = 0x2;  // Go >= 1.18
// Module info is framed by two 16-byte sentinels (cmd/go's infoStart and
// infoEnd); the byte before the closing one is a newline.
constexpr size_t kSentinelSize = 16;
// A string header pointing further than this is corrupt, not a long version.
constexpr uint64_t kMaxStringSize = 16 << 20;

struct Cursor {
  std::span<const uint8_t> data;

  std::optional<uint64_t> uvarint() {
    uint64_t value = 0;
    for (size_t i = 0; i < data.size() && i < 10; ++i) {
      const uint8_t b = data[i];
      if (i == 9 && b > 1) return std::nullopt;  // overflows 64 bits
      value |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
      if ((b & 0x80) == 0) {
        data = data.subspan(i + 1);
        return value;
      }
    }
    return std::nullopt;
  }

  std::optional<std::string> string() {
    auto len = uvarint();
    if (!len || *len > data.size()) return std::nullopt;
    std::string s(reinterpret_cast<const char*>(data.data()), *len);
    data = data.subspan(*len);
    return s;
  }
};

uint64_t load_uint(std::span<const uint8_t> b, size_t size, bool big_endian) {
  uint64_t v = 0;
  for (size_t i = 0; i < size; ++i) {
    const uint8_t byte = big_endian ? b[i] : b[size - 1 - i];
    v = (v << 8) | byte;
  }
  return v;
}

// Follows a Go string header {data pointer, length} at `header_addr`.
Result<std::string> read_go_string(uint64_t header_addr, size_t ptr_size, bool big_endian,
                                   const VaddrReader& read) {
  auto header = read(header_addr, 2 * ptr_size);
  if (!header) return std::unexpected(header.error());
  const uint64_t data_addr = load_uint(*header, ptr_size, big_endian);
  const uint64_t len = load_uint(header->subspan(ptr_size), ptr_size, big_endian);
  if (len == 0) return std::string();
  if (len > kMaxStringSize) return fail("string header has an implausible length");
  auto bytes = read(data_addr, len);
  if (!bytes) return std::unexpected(bytes.error());
  return std::string(reinterpret_cast<const char*>(bytes->data()), bytes->size());
}

std::string strip_sentinels(const std::string& mod) {
  if (mod.size() >= 2 * kSentinelSize + 1 && mod[mod.size() - kSentinelSize - 1] == '\n') {
    return mod.substr(kSentinelSize, mod.size() - 2 * kSentinelSize);
  }
  return "";
}

// The "path\t<pkg>" line names the main package; binaries built without it
// still name the main module on the "mod\t<path>\t<version>..." line.
std::string main_path_of(std::string_view mod_info) {
  std::string mod_path;
  while (!mod_info.empty()) {
    const size_t nl = mod_info.find('\n');
    std::string_view line = mod_info.substr(0, nl);
    mod_info = nl == std::string_view::npos ? std::string_view() : mod_info.substr(nl + 1);
    if (line.starts_with("path\t")) return std::string(line.substr(5));
    if (line.starts_with("mod\t") && mod_path.empty()) {
      std::string_view rest = line.substr(4);
      mod_path = std::string(rest.substr(0, rest.find('\t')));
    }
  }
  return mod_path;
}

Result<GoBuildInfo> finish(std::string version, std::string raw_mod, bool inline_strings) {
  GoBuildInfo info;
  auto parsed = parse_go_version(version);
  if (!parsed) return fail("unrecognized Go version \"" + version + "\"");
  info.version = std::move(version);
  info.parsed = *parsed;
  info.mod_info = strip_sentinels(raw_mod);
  info.main_path = main_path_of(info.mod_info);
  info.inline_strings = inline_strings;
  return info;
}

}  // namespace

Result<GoBuildInfo> parse_go_buildinfo(std::span<const uint8_t> section, const VaddrReader& read) {
  if (section.size() < kHeaderSize) {
    return fail(".go.buildinfo is truncated (" + std::to_string(section.size()) +
                " bytes, the header alone is 32)");
  }
  if (std::string_view(reinterpret_cast<const char*>(section.data()), kMagic.size()) != kMagic) {
    return fail(".go.buildinfo does not start with Go's build info magic");
  }
  const size_t ptr_size = section[14];
  const uint8_t flags = section[15];

  if (flags & kFlagInlineStrings) {
    Cursor c{section.subspan(kHeaderSize)};
    auto version = c.string();
    if (!version) return fail(".go.buildinfo is truncated in the version string");
    auto mod = c.string();
    if (!mod) return fail(".go.buildinfo is truncated in the module info string");
    if (version->empty()) return fail(".go.buildinfo holds no Go version");
    return finish(std::move(*version), std::move(*mod), true);
  }

  if (ptr_size != 4 && ptr_size != 8) {
    return fail(".go.buildinfo has an invalid pointer size " + std::to_string(ptr_size));
  }
  const bool big_endian = flags & kFlagBigEndian;
  const uint64_t version_addr = load_uint(section.subspan(16), ptr_size, big_endian);
  const uint64_t mod_addr = load_uint(section.subspan(16 + ptr_size), ptr_size, big_endian);
  auto version = read_go_string(version_addr, ptr_size, big_endian, read);
  if (!version) return fail(".go.buildinfo: cannot read the version: " + version.error().message);
  if (version->empty()) return fail(".go.buildinfo holds no Go version");
  // Module info is optional (GOPATH builds); an unreadable one is treated as absent.
  auto mod = read_go_string(mod_addr, ptr_size, big_endian, read);
  return finish(std::move(*version), mod ? std::move(*mod) : std::string(), false);
}

Result<GoBuildInfo> read_go_buildinfo(const ElfFile& elf) {
  // Errors here get the path once, in front; drop the one ElfFile::read adds.
  const VaddrReader reader = [&elf](uint64_t vaddr, size_t n) -> Result<std::span<const uint8_t>> {
    auto bytes = elf.read(vaddr, n);
    if (!bytes && bytes.error().message.starts_with(elf.path() + ": ")) {
      return fail(bytes.error().message.substr(elf.path().size() + 2));
    }
    return bytes;
  };

  // In a separate debug file the section is there but empty (SHT_NOBITS).
  if (const Section* s = elf.section(".go.buildinfo");
      s != nullptr && !elf.section_bytes(*s).empty()) {
    auto info = parse_go_buildinfo(elf.section_bytes(*s), reader);
    if (!info) return fail(elf.path() + ": " + info.error().message);
    return info;
  }

  // Binaries from before Go 1.13, or linked so that the section is gone,
  // still carry the linker-initialised runtime.buildVersion string.
  if (const Symbol* sym = elf.symbol("runtime.buildVersion")) {
    auto version = read_go_string(sym->addr, 8, false, reader);
    if (!version) {
      return fail(elf.path() + ": cannot read runtime.buildVersion: " + version.error().message);
    }
    std::string mod;
    if (const Symbol* m = elf.symbol("runtime.modinfo")) {
      if (auto text = read_go_string(m->addr, 8, false, reader)) mod = std::move(*text);
    }
    auto info = finish(std::move(*version), std::move(mod), false);
    if (!info) return fail(elf.path() + ": " + info.error().message);
    return info;
  }

  return fail(elf.path() + ": not a Go binary (no .go.buildinfo section or runtime.buildVersion)");
}

}  // namespace dynprobe

#include "core/elf_file.h"

#include <algorithm>
#include <cstdio>
#include <string_view>
#include <system_error>
#include <unordered_map>

#include "llvm/BinaryFormat/ELF.h"
#include "llvm/Object/ELFObjectFile.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"

namespace dynprobe {

namespace {

using ElfObject = llvm::object::ELF64LEObjectFile;
using Elf = llvm::object::ELF64LEFile;

// Go's linker tags its build id note with this type and the name "Go"
// (cmd/link: ELF_NOTE_GOBUILDID_TAG).
constexpr uint32_t kGoBuildIdNoteType = 4;

std::string hex(llvm::ArrayRef<uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xf]);
  }
  return out;
}

std::string first_line(std::string s) {
  if (auto nl = s.find('\n'); nl != std::string::npos) s.resize(nl);
  return s;
}

std::string message_of(llvm::Error err) { return first_line(llvm::toString(std::move(err))); }

}  // namespace

// Everything loaded from the file; a named namespace (not an anonymous one)
// because ElfFile::State derives from it.
namespace elf_detail {
struct Loaded {
  std::string path;
  std::unique_ptr<llvm::MemoryBuffer> buffer;
  std::unique_ptr<llvm::object::ObjectFile> object;  // views `buffer`
  bool pie = false;
  std::string build_id;
  std::string debuglink;
  std::vector<Section> sections;
  std::vector<Segment> load_segments;
  std::vector<Symbol> symbols;
  // Keys view the names inside `symbols`, which is never resized after loading.
  std::unordered_map<std::string_view, size_t> by_name;
  std::vector<size_t> functions;  // indices into `symbols`, ascending address
  uint64_t max_function_size = 0;

  const Elf& elf() const { return llvm::cast<ElfObject>(*object).getELFFile(); }
  std::span<const uint8_t> file_bytes() const {
    return {reinterpret_cast<const uint8_t*>(buffer->getBufferStart()), buffer->getBufferSize()};
  }
};
}  // namespace elf_detail

struct ElfFile::State : elf_detail::Loaded {};

namespace {

using State = elf_detail::Loaded;

Status read_sections(State& st) {
  const Elf& elf = st.elf();
  auto shdrs = elf.sections();
  if (!shdrs) return fail(st.path + ": malformed ELF file: " + message_of(shdrs.takeError()));
  for (const auto& sh : *shdrs) {
    Section s;
    if (auto name = elf.getSectionName(sh)) {
      s.name = name->str();
    } else {
      llvm::consumeError(name.takeError());
    }
    s.addr = sh.sh_addr;
    s.offset = sh.sh_offset;
    s.size = sh.sh_size;
    s.type = sh.sh_type;
    s.flags = sh.sh_flags;
    st.sections.push_back(std::move(s));
  }
  return {};
}

Status read_segments(State& st) {
  auto phdrs = st.elf().program_headers();
  if (!phdrs) return fail(st.path + ": malformed ELF file: " + message_of(phdrs.takeError()));
  const uint64_t file_size = st.buffer->getBufferSize();
  for (const auto& ph : *phdrs) {
    if (ph.p_type != llvm::ELF::PT_LOAD) continue;
    // Separate debug files and truncated copies keep program headers that
    // reach past the end of the file: keep the address mapping, but only
    // the bytes the file really has.
    const uint64_t filesz =
        ph.p_offset > file_size ? 0 : std::min<uint64_t>(ph.p_filesz, file_size - ph.p_offset);
    st.load_segments.push_back(
        Segment{ph.p_vaddr, ph.p_memsz, ph.p_offset, filesz, static_cast<uint32_t>(ph.p_flags)});
  }
  return {};
}

// A damaged note section is not worth refusing the file over: it only
// costs the build id, so errors here are swallowed.
void read_build_id(State& st) {
  const Elf& elf = st.elf();
  auto shdrs = elf.sections();
  if (!shdrs) {
    llvm::consumeError(shdrs.takeError());
    return;
  }
  std::string go_id;
  for (const auto& sh : *shdrs) {
    if (sh.sh_type != llvm::ELF::SHT_NOTE) continue;
    llvm::Error err = llvm::Error::success();
    for (const auto& note : elf.notes(sh, err)) {
      const size_t align = std::max<size_t>(sh.sh_addralign, 4);
      // Go pads its note name to "Go\0\0" and counts the padding in
      // n_namesz, so LLVM's name keeps a NUL: compare without them.
      const llvm::StringRef name = note.getName().rtrim('\0');
      if (name == "GNU" && note.getType() == llvm::ELF::NT_GNU_BUILD_ID) {
        st.build_id = hex(note.getDesc(align));
      } else if (name == "Go" && note.getType() == kGoBuildIdNoteType) {
        go_id = note.getDescAsStringRef(align).str();
      }
    }
    llvm::consumeError(std::move(err));
    if (!st.build_id.empty()) return;
  }
  st.build_id = go_id;
}

void read_debuglink(State& st) {
  for (const auto& s : st.sections) {
    if (s.name != ".gnu_debuglink") continue;
    auto bytes = st.file_bytes();
    if (s.offset > bytes.size() || s.size > bytes.size() - s.offset) return;
    std::string_view data(reinterpret_cast<const char*>(bytes.data() + s.offset), s.size);
    st.debuglink = std::string(data.substr(0, data.find('\0')));
    return;
  }
}

Status read_symbols(State& st) {
  const Elf& elf = st.elf();
  auto shdrs = elf.sections();
  if (!shdrs) return fail(st.path + ": malformed ELF file: " + message_of(shdrs.takeError()));
  const typename Elf::Elf_Shdr* table = nullptr;
  for (const auto& sh : *shdrs) {
    if (sh.sh_type == llvm::ELF::SHT_SYMTAB) table = &sh;
  }
  if (table == nullptr) {
    for (const auto& sh : *shdrs) {
      if (sh.sh_type == llvm::ELF::SHT_DYNSYM) table = &sh;
    }
  }
  if (table == nullptr) return {};

  auto strtab = elf.getStringTableForSymtab(*table, *shdrs);
  if (!strtab) return fail(st.path + ": malformed symbol table: " + message_of(strtab.takeError()));
  auto syms = elf.symbols(table);
  if (!syms) return fail(st.path + ": malformed symbol table: " + message_of(syms.takeError()));

  for (const auto& sym : *syms) {
    const unsigned type = sym.getType();
    if (sym.st_shndx == llvm::ELF::SHN_UNDEF || type == llvm::ELF::STT_SECTION ||
        type == llvm::ELF::STT_FILE) {
      continue;
    }
    auto name = sym.getName(*strtab);
    if (!name) {
      llvm::consumeError(name.takeError());
      continue;
    }
    if (name->empty()) continue;
    st.symbols.push_back(Symbol{name->str(), sym.st_value, sym.st_size,
                                type == llvm::ELF::STT_FUNC || type == llvm::ELF::STT_GNU_IFUNC});
  }
  std::sort(st.symbols.begin(), st.symbols.end(), [](const Symbol& a, const Symbol& b) {
    return a.addr != b.addr ? a.addr < b.addr : a.name < b.name;
  });

  st.by_name.reserve(st.symbols.size());
  for (size_t i = 0; i < st.symbols.size(); ++i) {
    const Symbol& s = st.symbols[i];
    // On a duplicate name (C statics in different files) prefer a function.
    auto [it, inserted] = st.by_name.try_emplace(s.name, i);
    if (!inserted && !st.symbols[it->second].is_function && s.is_function) it->second = i;
    if (s.is_function) {
      st.functions.push_back(i);
      st.max_function_size = std::max(st.max_function_size, s.size);
    }
  }
  return {};
}

}  // namespace

Result<ElfFile> ElfFile::open(const std::string& path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer) {
    const std::error_code ec = buffer.getError();
    if (ec == std::errc::no_such_file_or_directory) return fail(path + ": no such file");
    return fail(path + ": " + ec.message());
  }

  const llvm::StringRef bytes = (*buffer)->getBuffer();
  if (bytes.size() < llvm::ELF::EI_NIDENT || !bytes.starts_with(llvm::ELF::ElfMagic)) {
    return fail(path + ": not an ELF file");
  }
  const auto* ident = reinterpret_cast<const uint8_t*>(bytes.data());
  if (ident[llvm::ELF::EI_CLASS] != llvm::ELF::ELFCLASS64 ||
      ident[llvm::ELF::EI_DATA] != llvm::ELF::ELFDATA2LSB) {
    return fail(path + ": not an x86-64 ELF file");
  }

  auto object = llvm::object::ObjectFile::createELFObjectFile((*buffer)->getMemBufferRef());
  if (!object) return fail(path + ": malformed ELF file: " + message_of(object.takeError()));
  auto* elf_object = llvm::dyn_cast<ElfObject>(object->get());
  if (elf_object == nullptr ||
      elf_object->getELFFile().getHeader().e_machine != llvm::ELF::EM_X86_64) {
    return fail(path + ": not an x86-64 ELF file");
  }

  auto st = std::make_unique<ElfFile::State>();
  st->path = path;
  st->buffer = std::move(*buffer);
  st->object = std::move(*object);
  st->pie = st->elf().getHeader().e_type == llvm::ELF::ET_DYN;
  if (auto ok = read_sections(*st); !ok) return std::unexpected(ok.error());
  if (auto ok = read_segments(*st); !ok) return std::unexpected(ok.error());
  if (auto ok = read_symbols(*st); !ok) return std::unexpected(ok.error());
  read_build_id(*st);
  read_debuglink(*st);
  return ElfFile(std::move(st));
}

ElfFile::ElfFile(std::unique_ptr<State> s) : s_(std::move(s)) {}
ElfFile::ElfFile(ElfFile&&) noexcept = default;
ElfFile& ElfFile::operator=(ElfFile&&) noexcept = default;
ElfFile::~ElfFile() = default;

const std::string& ElfFile::path() const { return s_->path; }
bool ElfFile::is_pie() const { return s_->pie; }
std::string ElfFile::build_id() const { return s_->build_id; }
std::string ElfFile::debuglink() const { return s_->debuglink; }
const std::vector<Section>& ElfFile::sections() const { return s_->sections; }

const Section* ElfFile::section(std::string_view name) const {
  for (const auto& s : s_->sections) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

std::span<const uint8_t> ElfFile::section_bytes(const Section& s) const {
  auto bytes = s_->file_bytes();
  if (s.type == llvm::ELF::SHT_NOBITS || s.offset > bytes.size() ||
      s.size > bytes.size() - s.offset) {
    return {};
  }
  return bytes.subspan(s.offset, s.size);
}

const std::vector<Segment>& ElfFile::load_segments() const { return s_->load_segments; }

std::optional<uint64_t> ElfFile::file_offset(uint64_t vaddr) const {
  for (const auto& seg : s_->load_segments) {
    if (vaddr >= seg.vaddr && vaddr - seg.vaddr < seg.filesz)
      return seg.offset + (vaddr - seg.vaddr);
  }
  return std::nullopt;
}

Result<std::span<const uint8_t>> ElfFile::read(uint64_t vaddr, size_t n) const {
  for (const auto& seg : s_->load_segments) {
    if (vaddr < seg.vaddr || vaddr - seg.vaddr >= seg.filesz) continue;
    const uint64_t rel = vaddr - seg.vaddr;
    if (n > seg.filesz - rel) break;
    return s_->file_bytes().subspan(seg.offset + rel, n);
  }
  char where[64];
  std::snprintf(where, sizeof where, "0x%llx+%zu", static_cast<unsigned long long>(vaddr), n);
  return fail(s_->path + ": address " + where + " is not in the file's loaded data");
}

const std::vector<Symbol>& ElfFile::symbols() const { return s_->symbols; }

const Symbol* ElfFile::symbol(std::string_view name) const {
  auto it = s_->by_name.find(name);
  return it == s_->by_name.end() ? nullptr : &s_->symbols[it->second];
}

std::span<const Symbol> ElfFile::symbols_at(uint64_t addr) const {
  const auto& syms = s_->symbols;
  auto lo = std::lower_bound(syms.begin(), syms.end(), addr,
                             [](const Symbol& s, uint64_t a) { return s.addr < a; });
  auto hi = std::upper_bound(lo, syms.end(), addr,
                             [](uint64_t a, const Symbol& s) { return a < s.addr; });
  return {lo, hi};
}

const Symbol* ElfFile::function_containing(uint64_t addr) const {
  const auto& syms = s_->symbols;
  const auto& fns = s_->functions;
  // Last function starting at or before addr; earlier ones may still
  // contain it (a label-like symbol inside a function), so walk back while
  // a start is close enough for the largest function to reach.
  auto it = std::upper_bound(fns.begin(), fns.end(), addr,
                             [&](uint64_t a, size_t i) { return a < syms[i].addr; });
  while (it != fns.begin()) {
    --it;
    const Symbol& s = syms[*it];
    if (addr - s.addr > s_->max_function_size) break;
    if (addr - s.addr < s.size || (s.size == 0 && addr == s.addr)) return &s;
  }
  return nullptr;
}

const llvm::object::ObjectFile& ElfFile::object() const { return *s_->object; }

}  // namespace dynprobe

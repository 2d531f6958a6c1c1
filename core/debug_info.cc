#include "core/debug_info.h"

#include <elf.h>
#include <llvm/ADT/StringMap.h>
#include <llvm/BinaryFormat/Dwarf.h>
#include <llvm/DebugInfo/DIContext.h>
#include <llvm/DebugInfo/DWARF/DWARFCompileUnit.h>
#include <llvm/DebugInfo/DWARF/DWARFContext.h>
#include <llvm/DebugInfo/DWARF/DWARFDataExtractor.h>
#include <llvm/DebugInfo/DWARF/DWARFDebugLine.h>
#include <llvm/DebugInfo/DWARF/DWARFDie.h>
#include <llvm/DebugInfo/DWARF/DWARFFormValue.h>
#include <llvm/DebugInfo/DWARF/DWARFTypePrinter.h>
#include <llvm/DebugInfo/DWARF/DWARFUnit.h>
#include <llvm/Demangle/Demangle.h>
#include <llvm/Support/Compression.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/raw_ostream.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <optional>
#include <set>
#include <string>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "core/dwarf_cache.h"
#include "core/dwarf_location.h"
#include "core/dwarf_types.h"
#include "core/elf_file.h"
#include "core/gccgo_types.h"
#include "core/rust_name.h"

namespace dynprobe {

namespace {

namespace dw = llvm::dwarf;

// Sections LLVM reads for what we ask of it. Others (.debug_frame,
// .debug_pubnames, ...) are skipped: decompressing them costs time on every run.
constexpr std::string_view kWanted[] = {
    "debug_info",        "debug_abbrev",   "debug_str",    "debug_line",     "debug_line_str",
    "debug_loc",         "debug_loclists", "debug_ranges", "debug_rnglists", "debug_addr",
    "debug_str_offsets", "debug_aranges",  "debug_types",
};

std::string hex(uint64_t v) {
  char buf[24];
  snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string error_text(llvm::Error e) { return llvm::toString(std::move(e)); }

Result<std::unique_ptr<llvm::MemoryBuffer>> inflate(llvm::DebugCompressionType type,
                                                    std::span<const uint8_t> in, uint64_t size,
                                                    llvm::StringRef name) {
  // A corrupt header must not make us allocate terabytes.
  if (size > (uint64_t{1} << 34)) return fail("implausible uncompressed size " + hex(size));
  if (const char* why =
          llvm::compression::getReasonIfUnsupported(llvm::compression::formatFor(type)))
    return fail(why);
  auto buf = llvm::WritableMemoryBuffer::getNewUninitMemBuffer(size, name);
  if (!buf) return fail("out of memory");
  if (llvm::Error e =
          llvm::compression::decompress(type, llvm::ArrayRef<uint8_t>(in.data(), in.size()),
                                        reinterpret_cast<uint8_t*>(buf->getBufferStart()), size))
    return fail(error_text(std::move(e)));
  return std::unique_ptr<llvm::MemoryBuffer>(std::move(buf));
}

// SHF_COMPRESSED: an Elf64_Chdr, then the stream.
Result<std::unique_ptr<llvm::MemoryBuffer>> inflate_elf(std::span<const uint8_t> bytes,
                                                        llvm::StringRef name) {
  Elf64_Chdr hdr;
  if (bytes.size() < sizeof hdr) return fail("truncated compression header");
  std::memcpy(&hdr, bytes.data(), sizeof hdr);
  llvm::DebugCompressionType type;
  if (hdr.ch_type == ELFCOMPRESS_ZLIB) {
    type = llvm::DebugCompressionType::Zlib;
  } else if (hdr.ch_type == 2 /* ELFCOMPRESS_ZSTD */) {
    type = llvm::DebugCompressionType::Zstd;
  } else {
    return fail("unknown compression type " + std::to_string(hdr.ch_type));
  }
  return inflate(type, bytes.subspan(sizeof hdr), hdr.ch_size, name);
}

// Legacy GNU .zdebug_*: "ZLIB", the size as 8 big-endian bytes, a zlib stream.
// Go wrote these before 1.11-ish; LLVM no longer reads them.
Result<std::unique_ptr<llvm::MemoryBuffer>> inflate_gnu(std::span<const uint8_t> bytes,
                                                        llvm::StringRef name) {
  if (bytes.size() < 12 || std::memcmp(bytes.data(), "ZLIB", 4) != 0)
    return fail("missing ZLIB header");
  uint64_t size = 0;
  for (int i = 4; i < 12; ++i) size = size << 8 | bytes[i];
  return inflate(llvm::DebugCompressionType::Zlib, bytes.subspan(12), size, name);
}

Language language_of(const llvm::DWARFDie& unit_die) {
  auto lang = llvm::dwarf::toUnsigned(unit_die.find(dw::DW_AT_language));
  if (!lang) return Language::Unknown;
  switch (*lang) {
    case dw::DW_LANG_Go:
      return Language::Go;
    case dw::DW_LANG_Rust:
      return Language::Rust;
    case dw::DW_LANG_C_plus_plus:
    case dw::DW_LANG_C_plus_plus_03:
    case dw::DW_LANG_C_plus_plus_11:
    case dw::DW_LANG_C_plus_plus_14:
    case dw::DW_LANG_C_plus_plus_17:
    case dw::DW_LANG_C_plus_plus_20:
      return Language::CPlusPlus;
    case dw::DW_LANG_C89:
    case dw::DW_LANG_C:
    case dw::DW_LANG_C99:
    case dw::DW_LANG_C11:
    case dw::DW_LANG_C17:
      return Language::C;
    default:
      return Language::Unknown;
  }
}

// The DIE a concrete or out-of-line DIE stands for: the abstract origin for
// inlined/out-of-line copies, the in-class declaration for C++ definitions.
llvm::DWARFDie referenced(const llvm::DWARFDie& die) {
  if (die.find(dw::DW_AT_abstract_origin))
    return die.getAttributeValueAsReferencedDie(dw::DW_AT_abstract_origin);
  if (die.find(dw::DW_AT_specification))
    return die.getAttributeValueAsReferencedDie(dw::DW_AT_specification);
  return {};
}

// The first DIE along the origin/specification chain that has `a`, so that a
// unit-relative reference is resolved in the right unit.
llvm::DWARFDie holder_of(llvm::DWARFDie die, dw::Attribute a) {
  for (int hops = 0; die.isValid() && hops < 8; ++hops) {
    if (die.find(a)) return die;
    die = referenced(die);
  }
  return {};
}

std::optional<uint64_t> ref_offset(const llvm::DWARFFormValue& v) {
  if (auto rel = v.getAsRelativeReference()) return *rel + v.getUnit()->getOffset();
  return v.getAsDebugInfoReference();
}

std::string function_name(const llvm::DWARFDie& die, Language lang) {
  if (lang == Language::Go) {
    // Go names are fully qualified already ("main.(*ledger).Record"), but
    // gccgo spells pointer-receiver methods "main.ledger.Record".
    if (std::string gccgo = gccgo_method_name(die); !gccgo.empty()) return gccgo;
    const char* n = die.getShortName();  // follows abstract_origin
    return n ? n : "";
  }
  if (lang == Language::Rust) {
    // The DWARF scopes of a method are its impl block (`{impl#0}`); the
    // symbol names the type.
    if (const char* linkage = die.getLinkageName(); linkage && *linkage)
      return rust_function_name(llvm::demangle(linkage));
  }
  llvm::DWARFDie decl = die;
  for (llvm::DWARFDie next = referenced(decl); next.isValid(); next = referenced(decl)) decl = next;
  const char* shortname = decl.getShortName();
  if (!shortname) {
    const char* linkage = die.getLinkageName();
    return linkage ? llvm::demangle(linkage) : "";
  }
  std::string out;
  if (llvm::DWARFDie parent = decl.getParent(); parent.isValid()) {
    llvm::raw_string_ostream os(out);
    llvm::DWARFTypePrinter(os).appendScopes(parent);
  }
  return out + shortname;
}

bool has_code(const llvm::DWARFDie& die) {
  return die.find(dw::DW_AT_low_pc) || die.find(dw::DW_AT_ranges) || die.find(dw::DW_AT_entry_pc);
}

std::vector<AddressRange> ranges_of(const llvm::DWARFDie& die) {
  std::vector<AddressRange> out;
  auto r = die.getAddressRanges();
  if (!r) {
    llvm::consumeError(r.takeError());
    return out;
  }
  for (const llvm::DWARFAddressRange& a : *r)
    if (a.HighPC > a.LowPC) out.push_back({a.LowPC, a.HighPC});
  return out;
}

}  // namespace

struct DebugInfo::State {
  std::string path;
  llvm::StringMap<std::unique_ptr<llvm::MemoryBuffer>> sections;
  std::unique_ptr<llvm::DWARFContext> ctx;
  llvm::StringRef info;           // .debug_info, for the inline-instance prefilter
  bool info_refs_are_u32 = true;  // every unit is DWARF32 v3+: DW_FORM_ref_addr is 4 bytes
  TypeTable types;
  TypeBuilder builder{types, [this](const llvm::DWARFDie& d) { return definition_of(d); }};
  std::optional<std::vector<FunctionEntry>> functions;
  std::unordered_map<std::string, std::vector<uint64_t>> by_name;  // name -> DIE offsets
  std::optional<std::unordered_map<std::string, uint64_t>> types_by_name;
  std::unordered_map<uint64_t, uint64_t> types_by_runtime_address;  // filled with types_by_name
  std::unordered_map<TypeId, TypeId> pointers;                      // pointer_to: elem -> pointer
  // Line table headers by unit offset: enough to name DW_AT_call_file without
  // running every caller unit's line program.
  std::unordered_map<uint64_t, std::optional<llvm::DWARFDebugLine::Prologue>> prologues;

  Function make_function(const llvm::DWARFDie& die, const LoadOptions& opts);
  void collect_variables(const llvm::DWARFDie& concrete, const llvm::DWARFDie& abstract,
                         const FrameBase& fb, std::vector<Variable>& params,
                         std::vector<Variable>* results);
  std::vector<InlineInstance> inline_instances(const llvm::DWARFDie& abstract);
  InlineInstance make_instance(const llvm::DWARFDie& die, const llvm::DWARFDie& abstract);
  std::string file_name(const llvm::DWARFDie& die, dw::Attribute a);
  void scan_functions();
  void scan_types();
  // A class's definition by its qualified name, for a unit that only
  // declares it (the name index holds definitions only).
  llvm::DWARFDie definition_of(const llvm::DWARFDie& declaration);
};

DebugInfo::DebugInfo(std::unique_ptr<State> s) : s_(std::move(s)) {}
DebugInfo::DebugInfo(DebugInfo&&) noexcept = default;
DebugInfo& DebugInfo::operator=(DebugInfo&&) noexcept = default;
DebugInfo::~DebugInfo() = default;

Result<DebugInfo> DebugInfo::load(const ElfFile& elf) {
  auto st = std::make_unique<State>();
  st->path = elf.path();
  // Go compresses its DWARF; inflating it is most of the load time, so the
  // sections are inflated on two threads, largest first.
  struct Job {
    std::string key;
    const Section* sec;
    std::span<const uint8_t> bytes;
    bool legacy;
    Result<std::unique_ptr<llvm::MemoryBuffer>> out = fail("not run");
  };
  std::vector<Job> jobs;
  for (const Section& sec : elf.sections()) {
    std::string_view name = sec.name;
    const bool legacy = name.starts_with(".zdebug_");
    if (!legacy && !name.starts_with(".debug_")) continue;
    std::string key(name.substr(legacy ? 2 : 1));
    if (std::find(std::begin(kWanted), std::end(kWanted), key) == std::end(kWanted)) continue;
    if (sec.type == SHT_NOBITS || sec.size == 0) continue;
    jobs.push_back(Job{key, &sec, elf.section_bytes(sec), legacy});
  }
  std::sort(jobs.begin(), jobs.end(),
            [](const Job& a, const Job& b) { return a.bytes.size() > b.bytes.size(); });
  std::atomic<size_t> next{0};
  auto cache = DwarfCache::for_build_id(elf.build_id());
  auto work = [&] {
    for (size_t i = next++; i < jobs.size(); i = next++) {
      Job& j = jobs[i];
      bool compressed = (j.sec->flags & SHF_COMPRESSED) || j.legacy;
      if (compressed && cache) {
        if (auto hit = cache->load(j.key)) {
          j.out = std::move(hit);
          continue;
        }
      }
      if (j.sec->flags & SHF_COMPRESSED) {
        j.out = inflate_elf(j.bytes, j.key);
      } else if (j.legacy) {
        j.out = inflate_gnu(j.bytes, j.key);
      } else {
        llvm::StringRef data(reinterpret_cast<const char*>(j.bytes.data()), j.bytes.size());
        j.out = std::unique_ptr<llvm::MemoryBuffer>(
            llvm::MemoryBuffer::getMemBuffer(data, j.key, false));
      }
      if (compressed && cache && j.out) cache->store(j.key, **j.out);
    }
  };
  {
    std::optional<std::jthread> helper;
    if (jobs.size() > 1) {
      try {
        helper.emplace(work);
      } catch (const std::system_error&) {
        // No thread: this one does it all.
      }
    }
    work();
  }
  for (Job& j : jobs) {
    if (!j.out)
      return fail(st->path + ": cannot decompress " + j.sec->name + ": " + j.out.error().message);
    st->sections[j.key] = std::move(*j.out);
  }
  auto info = st->sections.find("debug_info");
  if (info == st->sections.end() || info->second->getBufferSize() == 0)
    return fail(st->path +
                ": no DWARF debug info (stripped?); rebuild without -ldflags=-w/-s or pass "
                "--debug-file");
  st->info = info->second->getBuffer();

  // Malformed DWARF must degrade answers, not print LLVM diagnostics.
  auto quiet = [](llvm::Error e) { llvm::consumeError(std::move(e)); };
  st->ctx = llvm::DWARFContext::create(st->sections, /*AddrSize=*/8, /*isLittleEndian=*/true, quiet,
                                       quiet);
  if (st->ctx->getNumCompileUnits() == 0)
    return fail(st->path + ": .debug_info holds no compile units");
  for (const auto& u : st->ctx->info_section_units())
    if (u->getFormParams().Format != dw::DWARF32 || u->getVersion() < 3)
      st->info_refs_are_u32 = false;
  return DebugInfo(std::move(st));
}

Result<std::vector<uint8_t>> read_debug_section(const ElfFile& elf, std::string_view name) {
  for (const Section& sec : elf.sections()) {
    const bool legacy = sec.name == ".z" + std::string(name);
    if (!legacy && sec.name != "." + std::string(name)) continue;
    if (sec.type == SHT_NOBITS || sec.size == 0) return std::vector<uint8_t>{};
    std::span<const uint8_t> bytes = elf.section_bytes(sec);
    if (!legacy && !(sec.flags & SHF_COMPRESSED))
      return std::vector<uint8_t>(bytes.begin(), bytes.end());
    auto buf = legacy ? inflate_gnu(bytes, name) : inflate_elf(bytes, name);
    if (!buf)
      return fail(elf.path() + ": cannot decompress " + sec.name + ": " + buf.error().message);
    auto* start = reinterpret_cast<const uint8_t*>((*buf)->getBufferStart());
    return std::vector<uint8_t>(start, start + (*buf)->getBufferSize());
  }
  return std::vector<uint8_t>{};
}

const TypeTable& DebugInfo::types() const { return s_->types; }

Result<Function> DebugInfo::function_at(uint64_t pc, const LoadOptions& opts) {
  llvm::DWARFCompileUnit* cu = s_->ctx->getCompileUnitForCodeAddress(pc);
  if (!cu) return fail(s_->path + ": no DWARF compile unit covers " + hex(pc));
  llvm::DWARFDie die = cu->getSubroutineForAddress(pc);
  // The innermost one may be a call inlined at the function's first
  // instruction (std::vector's begin() in g++ -O2 code): its function is
  // the subprogram around it.
  while (die.isValid() && die.getTag() != dw::DW_TAG_subprogram) die = die.getParent();
  if (!die.isValid()) return fail(s_->path + ": no DWARF function covers " + hex(pc));
  return s_->make_function(die, opts);
}

Result<Function> DebugInfo::function_named(std::string_view name, const LoadOptions& opts) {
  if (!s_->functions) s_->scan_functions();
  auto it = s_->by_name.find(std::string(name));
  if (it == s_->by_name.end()) return fail(s_->path + ": no function named " + std::string(name));
  llvm::DWARFDie die = s_->ctx->getDIEForOffset(it->second.front());
  if (!die.isValid()) return fail(s_->path + ": bad DIE for " + std::string(name));
  return s_->make_function(die, opts);
}

const std::vector<FunctionEntry>& DebugInfo::functions() {
  if (!s_->functions) s_->scan_functions();
  return *s_->functions;
}

Result<TypeId> DebugInfo::type_named(std::string_view name) {
  if (!s_->types_by_name) s_->scan_types();
  auto it = s_->types_by_name->find(std::string(name));
  if (it == s_->types_by_name->end())
    return fail(s_->path + ": no type named " + std::string(name));
  llvm::DWARFDie die = s_->ctx->getDIEForOffset(it->second);
  if (!die.isValid()) return fail(s_->path + ": bad DIE for type " + std::string(name));
  return s_->builder.resolve(die);
}

Result<TypeId> DebugInfo::type_by_runtime_address(uint64_t address) {
  if (!s_->types_by_name) s_->scan_types();
  auto it = s_->types_by_runtime_address.find(address);
  if (it == s_->types_by_runtime_address.end())
    return fail("no Go type with runtime type at this address");
  llvm::DWARFDie die = s_->ctx->getDIEForOffset(it->second);
  if (!die.isValid()) return fail("runtime type index points at an invalid DIE");
  return s_->builder.resolve(die);
}

TypeId DebugInfo::pointer_to(TypeId elem) {
  auto [it, inserted] = s_->pointers.try_emplace(elem, kNoType);
  if (inserted)
    it->second = s_->types.add(Type{.kind = TypeKind::Pointer,
                                    .name = "*" + s_->types.get(elem).name,
                                    .size = 8,
                                    .elem = elem});
  return it->second;
}

llvm::DWARFDie DebugInfo::State::definition_of(const llvm::DWARFDie& declaration) {
  if (!types_by_name) scan_types();
  std::string name;
  llvm::raw_string_ostream os(name);
  llvm::DWARFTypePrinter(os).appendQualifiedName(declaration);
  auto it = types_by_name->find(name);
  return it == types_by_name->end() ? llvm::DWARFDie() : ctx->getDIEForOffset(it->second);
}

void DebugInfo::State::scan_types() {
  types_by_name.emplace();
  // gccgo_package: "" except in gccgo's units, whose type names lack it.
  auto visit = [&](auto&& self, const llvm::DWARFDie& scope, Language lang,
                   const std::string& gccgo_package) -> void {
    if (!scope.isValid()) return;  // a unit whose header or first DIE is corrupt
    for (const llvm::DWARFDie& c : scope.children()) {
      if (!c.isValid()) break;  // a corrupt sibling chain
      switch (c.getTag()) {
        case dw::DW_TAG_namespace:
          self(self, c, lang, gccgo_package);
          break;
        case dw::DW_TAG_structure_type:
        case dw::DW_TAG_class_type:
        case dw::DW_TAG_union_type:
        case dw::DW_TAG_enumeration_type:
        case dw::DW_TAG_base_type:
        case dw::DW_TAG_typedef:
        case dw::DW_TAG_pointer_type:
        case dw::DW_TAG_array_type:
        case dw::DW_TAG_subroutine_type: {
          if (c.find(dw::DW_AT_declaration)) break;
          std::string name;
          if (lang == Language::Go) {
            name = gccgo_type_name(c, gccgo_package);
          } else {
            llvm::raw_string_ostream os(name);
            llvm::DWARFTypePrinter(os).appendQualifiedName(c);
          }
          if (!name.empty()) types_by_name->try_emplace(std::move(name), c.getOffset());
          if (auto rt = c.find(static_cast<llvm::dwarf::Attribute>(kDwAtGoRuntimeType)))
            // Go writes it as DW_FORM_addr; accept a constant form too.
            if (auto addr = rt->getAsAddress() ? rt->getAsAddress() : rt->getAsUnsignedConstant();
                addr && *addr != 0)
              types_by_runtime_address.try_emplace(*addr, c.getOffset());
          break;
        }
        default:
          break;
      }
    }
  };
  for (const auto& unit : ctx->info_section_units()) {
    llvm::DWARFDie unit_die = unit->getUnitDIE(false);
    Language lang = language_of(unit_die);
    visit(visit, unit_die, lang, lang == Language::Go ? gccgo_package(unit_die) : std::string());
  }
}

void DebugInfo::State::scan_functions() {
  std::vector<FunctionEntry> out;
  std::unordered_set<std::string> concrete;
  std::vector<std::pair<std::string, uint64_t>> abstract;
  std::unordered_set<uint64_t> has_copy;  // abstract DIEs with an out-of-line copy
  for (const auto& unit : ctx->info_section_units()) {
    if (!unit->isTypeUnit()) {
      Language lang = language_of(unit->getUnitDIE());
      for (const llvm::DWARFDebugInfoEntry& entry : unit->dies()) {
        if (entry.getTag() != dw::DW_TAG_subprogram) continue;
        llvm::DWARFDie die(unit.get(), &entry);
        if (die.find(dw::DW_AT_declaration)) continue;
        const bool code = has_code(die);
        if (!code && !die.find(dw::DW_AT_inline)) continue;
        std::string name = function_name(die, lang);
        if (name.empty()) continue;
        if (code) {
          FunctionEntry e{.name = name};
          uint64_t lo = 0, hi = 0, idx = 0;
          if (die.getLowAndHighPC(lo, hi, idx)) {
            e.low_pc = lo;
            e.high_pc = hi;
          } else if (auto r = ranges_of(die); !r.empty()) {
            e.low_pc = r.front().low;
            e.high_pc = r.front().high;
          }
          by_name[name].push_back(die.getOffset());
          concrete.insert(name);
          if (auto origin = die.find(dw::DW_AT_abstract_origin))
            if (auto off = ref_offset(*origin)) has_copy.insert(*off);
          out.push_back(std::move(e));
        } else {
          abstract.emplace_back(std::move(name), die.getOffset());
        }
      }
    }
  }
  for (auto& [name, offset] : abstract) {
    if (has_copy.contains(offset)) continue;
    if (concrete.contains(name)) {
      // An inline-only overload of a C++ function that has code elsewhere
      // ("shop::Handle::Handle(long)" beside the out-of-line copy
      // constructor): named with its parameter list, as demangled symbols are.
      const char* linkage = ctx->getDIEForOffset(offset).getLinkageName();
      if (!linkage) continue;
      name = llvm::demangle(linkage);
      if (concrete.contains(name)) continue;
    }
    if (by_name.contains(name)) continue;  // the same inline function in another unit
    by_name[name].push_back(offset);
    out.push_back(FunctionEntry{.name = name, .inlined_only = true});
  }
  functions = std::move(out);
}

std::string DebugInfo::State::file_name(const llvm::DWARFDie& die, dw::Attribute a) {
  auto index = llvm::dwarf::toUnsigned(die.find(a));
  if (!index) return "";
  llvm::DWARFUnit* u = die.getDwarfUnit();
  auto [it, inserted] = prologues.try_emplace(u->getOffset());
  if (inserted) {
    auto stmt = llvm::dwarf::toSectionOffset(u->getUnitDIE().find(dw::DW_AT_stmt_list));
    if (stmt) {
      uint64_t off = *stmt + u->getLineTableOffset();
      llvm::DWARFDataExtractor data(ctx->getDWARFObj(), u->getLineSection(), u->isLittleEndian(),
                                    u->getAddressByteSize());
      llvm::DWARFDebugLine::Prologue p;
      llvm::Error e = p.parse(
          data, &off, [](llvm::Error err) { llvm::consumeError(std::move(err)); }, *ctx, u);
      if (e)
        llvm::consumeError(std::move(e));
      else
        it->second = std::move(p);
    }
  }
  std::string out;
  if (it->second) {
    const char* dir = u->getCompilationDir();
    it->second->getFileNameByIndex(
        *index, dir ? dir : "", llvm::DILineInfoSpecifier::FileLineInfoKind::AbsoluteFilePath, out);
  }
  return out;
}

void DebugInfo::State::collect_variables(const llvm::DWARFDie& concrete,
                                         const llvm::DWARFDie& abstract, const FrameBase& fb,
                                         std::vector<Variable>& params,
                                         std::vector<Variable>* results) {
  // Names, types and order come from the abstract DIE when there is one (the
  // concrete copy may omit parameters it optimized away); locations from the
  // concrete child that names it as its origin.
  const llvm::DWARFDie shape = abstract.isValid() ? abstract : concrete;
  std::unordered_map<uint64_t, llvm::DWARFDie> by_origin;
  std::vector<llvm::DWARFDie> unnamed;  // concrete params without an origin
  if (concrete.isValid() && shape != concrete) {
    for (const llvm::DWARFDie& c : concrete.children()) {
      if (!c.isValid()) break;  // a corrupt sibling chain
      if (c.getTag() != dw::DW_TAG_formal_parameter) continue;
      auto origin = c.find(dw::DW_AT_abstract_origin);
      auto off = origin ? ref_offset(*origin) : std::nullopt;
      if (off)
        by_origin[*off] = c;
      else
        unnamed.push_back(c);
    }
  }
  size_t index = 0;
  for (const llvm::DWARFDie& p : shape.children()) {
    if (!p.isValid()) break;  // a corrupt sibling chain
    if (p.getTag() != dw::DW_TAG_formal_parameter) continue;
    Variable v;
    const char* n = p.getShortName();
    v.name = n ? n : "";
    v.type = builder.resolve(p.getAttributeValueAsReferencedDie(dw::DW_AT_type));
    v.is_result = llvm::dwarf::toUnsigned(p.find(dw::DW_AT_variable_parameter), 0) != 0;
    llvm::DWARFDie loc_die;
    if (shape == concrete) {
      loc_die = p;
    } else if (auto it = by_origin.find(p.getOffset()); it != by_origin.end()) {
      loc_die = it->second;
    } else if (by_origin.empty() && index < unnamed.size()) {
      loc_die = unnamed[index];
    }
    ++index;
    if (loc_die.isValid()) {
      auto size = static_cast<uint32_t>(types.get(v.type).size);
      v.locations = variable_locations(loc_die, size, fb, &v.has_location, &v.point_locations);
    }
    // Go 1.19 lists some functions' synthetic result (~r0) twice (seen on
    // main.Nest of fixtures/go/rich); the compiler names results uniquely,
    // so a repeated synthetic name is that bug, not a second result.
    if (v.is_result && results && v.name.starts_with("~") &&
        std::any_of(results->begin(), results->end(),
                    [&](const Variable& r) { return r.name == v.name; }))
      continue;
    if (v.is_result && results)
      results->push_back(std::move(v));
    else
      params.push_back(std::move(v));
  }
  // Go leaves results out of the abstract DIE of a function it inlines
  // somewhere: the out-of-line copy and each inlined instance list them as
  // their own children, without an origin (seen on 1.21 and 1.27).
  const size_t consumed = by_origin.empty() ? std::min(index, unnamed.size()) : 0;
  for (size_t i = consumed; i < unnamed.size(); ++i) {
    const llvm::DWARFDie& c = unnamed[i];
    const char* n = c.getShortName();
    if (!n) continue;
    Variable v;
    v.name = n;
    v.type = builder.resolve(c.getAttributeValueAsReferencedDie(dw::DW_AT_type));
    v.is_result = llvm::dwarf::toUnsigned(c.find(dw::DW_AT_variable_parameter), 0) != 0;
    auto size = static_cast<uint32_t>(types.get(v.type).size);
    v.locations = variable_locations(c, size, fb, &v.has_location, &v.point_locations);
    if (v.is_result && results)
      results->push_back(std::move(v));
    else
      params.push_back(std::move(v));
  }
}

Function DebugInfo::State::make_function(const llvm::DWARFDie& die, const LoadOptions& opts) {
  Function f;
  llvm::DWARFUnit* unit = die.getDwarfUnit();
  llvm::DWARFDie unit_die = unit->getUnitDIE();
  f.language = language_of(unit_die);
  const char* cu_name = unit_die.getShortName();
  f.cu_name = cu_name ? cu_name : "";
  f.producer = llvm::dwarf::toString(unit_die.find(dw::DW_AT_producer), "");
  f.name = function_name(die, f.language);
  if (const char* linkage = die.getLinkageName(); linkage && f.name != linkage)
    f.linkage_name = linkage;
  f.dwarf_offset = static_cast<uint32_t>(die.getOffset());

  // The abstract DIE: the origin of an out-of-line copy, or the function
  // itself when it only exists inlined.
  llvm::DWARFDie abstract;
  if (die.find(dw::DW_AT_abstract_origin))
    abstract = die.getAttributeValueAsReferencedDie(dw::DW_AT_abstract_origin);
  else if (die.find(dw::DW_AT_inline))
    abstract = die;

  f.ranges = ranges_of(die);
  uint64_t lo = 0, hi = 0, idx = 0;
  if (die.getLowAndHighPC(lo, hi, idx)) {
    f.low_pc = lo;
    f.high_pc = hi;
  } else if (!f.ranges.empty()) {
    // Hot/cold split functions: the entry is in the first listed range.
    f.low_pc = f.ranges.front().low;
    f.high_pc = f.ranges.front().high;
  }

  f.decl_file = die.getDeclFile(llvm::DILineInfoSpecifier::FileLineInfoKind::AbsoluteFilePath);
  f.decl_line = static_cast<uint32_t>(die.getDeclLine());
  if (f.decl_line == 0 && f.low_pc != 0) {
    // Go (before 1.20 or so) gives no DW_AT_decl_line on subprograms; its
    // first instruction is attributed to the func line.
    llvm::DILineInfo li = ctx->getLineInfoForAddress(
        {f.low_pc, llvm::object::SectionedAddress::UndefSection},
        llvm::DILineInfoSpecifier(llvm::DILineInfoSpecifier::FileLineInfoKind::AbsoluteFilePath,
                                  llvm::DILineInfoSpecifier::FunctionNameKind::None));
    f.decl_line = li.Line;
    if (f.decl_file.empty() && li.FileName != llvm::DILineInfo::BadString)
      f.decl_file = li.FileName;
  }

  const bool concrete = f.low_pc != 0 || !f.ranges.empty();
  collect_variables(concrete ? die : llvm::DWARFDie(), abstract.isValid() ? abstract : die,
                    concrete ? frame_base_of(die) : FrameBase{}, f.params, &f.results);
  if (f.language != Language::Go) {
    llvm::DWARFDie holder = holder_of(die, dw::DW_AT_type);
    if (holder.isValid())
      f.return_type = builder.resolve(holder.getAttributeValueAsReferencedDie(dw::DW_AT_type));
  } else if (f.producer.starts_with("GNU Go") && f.results.empty()) {
    // gccgo returns Go results the C way (core/gccgo_types.h).
    llvm::DWARFDie holder = holder_of(die, dw::DW_AT_type);
    if (holder.isValid()) {
      llvm::DWARFDie rt = holder.getAttributeValueAsReferencedDie(dw::DW_AT_type);
      f.return_type = builder.resolve(rt);
      f.results = gccgo_results(rt, holder, f.return_type, types);
    }
    gccgo_name_receiver(die, f.params);
  }
  if (opts.inline_instances && abstract.isValid()) f.inline_instances = inline_instances(abstract);
  return f;
}

InlineInstance DebugInfo::State::make_instance(const llvm::DWARFDie& die,
                                               const llvm::DWARFDie& abstract) {
  InlineInstance inst;
  inst.ranges = ranges_of(die);
  if (auto entry = die.find(dw::DW_AT_entry_pc)) {
    if (auto a = entry->getAsAddress()) {
      inst.entry_pc = *a;
    } else if (auto c = entry->getAsUnsignedConstant(); c && !inst.ranges.empty()) {
      // DWARF 5: an offset from the instance's low_pc.
      uint64_t lo = 0, hi = 0, idx = 0;
      inst.entry_pc = (die.getLowAndHighPC(lo, hi, idx) ? lo : inst.ranges.front().low) + *c;
    }
  }
  if (inst.entry_pc == 0 && !inst.ranges.empty()) {
    auto lowest = std::min_element(inst.ranges.begin(), inst.ranges.end(),
                                   [](auto& a, auto& b) { return a.low < b.low; });
    inst.entry_pc = lowest->low;
  }
  // The entry range first, as InlineInstance promises.
  auto entry_range = std::find_if(inst.ranges.begin(), inst.ranges.end(), [&](auto& r) {
    return inst.entry_pc >= r.low && inst.entry_pc < r.high;
  });
  if (entry_range != inst.ranges.end())
    std::rotate(inst.ranges.begin(), entry_range, entry_range + 1);

  llvm::DWARFDie caller = die.getParent();
  while (caller.isValid() && caller.getTag() != dw::DW_TAG_subprogram) caller = caller.getParent();
  Language lang = language_of(die.getDwarfUnit()->getUnitDIE());
  if (caller.isValid()) inst.caller = function_name(caller, lang);
  inst.call_file = file_name(die, dw::DW_AT_call_file);
  inst.call_line = static_cast<uint32_t>(llvm::dwarf::toUnsigned(die.find(dw::DW_AT_call_line), 0));
  FrameBase fb = caller.isValid() ? frame_base_of(caller) : FrameBase{};
  std::vector<Variable> vars;
  collect_variables(die, abstract, fb, vars, nullptr);
  inst.params = std::move(vars);
  return inst;
}

std::vector<InlineInstance> DebugInfo::State::inline_instances(const llvm::DWARFDie& abstract) {
  const uint64_t target = abstract.getOffset();
  // The abstract DIE's own unit may refer to it with any reference form; the
  // others only with DW_FORM_ref_addr, whose 4 bytes hold `target`. Finding
  // those bytes first avoids parsing every unit of a large binary; a hit that
  // is not such a reference costs one unit parse and is then ignored.
  std::set<uint64_t> unit_offsets = {abstract.getDwarfUnit()->getOffset()};
  if (info_refs_are_u32 && target <= UINT32_MAX) {
    char pattern[4];
    for (int i = 0; i < 4; ++i) pattern[i] = static_cast<char>(target >> (8 * i));
    const char* base = info.data();
    const char* end = base + info.size();
    for (const char* hit = base; hit < end; ++hit) {
      hit = static_cast<const char*>(memmem(hit, static_cast<size_t>(end - hit), pattern, 4));
      if (!hit) break;
      if (llvm::DWARFUnit* u = ctx->getCompileUnitForOffset(static_cast<uint64_t>(hit - base)))
        unit_offsets.insert(u->getOffset());
    }
  } else {
    for (const auto& u : ctx->info_section_units()) unit_offsets.insert(u->getOffset());
  }

  std::vector<InlineInstance> out;
  for (uint64_t uoff : unit_offsets) {
    llvm::DWARFUnit* unit = ctx->getCompileUnitForOffset(uoff);
    if (!unit) continue;
    for (const llvm::DWARFDebugInfoEntry& entry : unit->dies()) {
      if (entry.getTag() != dw::DW_TAG_inlined_subroutine) continue;
      llvm::DWARFDie die(unit, &entry);
      auto origin = die.find(dw::DW_AT_abstract_origin);
      if (!origin || ref_offset(*origin) != target) continue;
      out.push_back(make_instance(die, abstract));
    }
  }
  return out;
}

}  // namespace dynprobe

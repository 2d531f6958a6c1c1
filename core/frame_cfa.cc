#include "core/frame_cfa.h"

#include <elf.h>
#include <llvm/DebugInfo/DWARF/DWARFDataExtractor.h>
#include <llvm/DebugInfo/DWARF/DWARFDebugFrame.h>
#include <llvm/Support/Casting.h>
#include <llvm/TargetParser/Triple.h>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "core/debug_info.h"
#include "core/elf_file.h"

namespace dynprobe {

namespace {

constexpr uint32_t kDwarfRsp = 7;  // x86-64 DWARF register number of RSP

std::string hex(uint64_t v) {
  char buf[24];
  snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

const char* register_name(uint32_t dwarf_reg) {
  static constexpr const char* kNames[] = {"RAX", "RDX", "RCX", "RBX", "RSI", "RDI", "RBP", "RSP"};
  return dwarf_reg < std::size(kNames) ? kNames[dwarf_reg] : "a register";
}

}  // namespace

struct FrameTable::State {
  struct Section {
    std::vector<uint8_t> bytes;  // the parsed entries point into these
    std::unique_ptr<llvm::DWARFDebugFrame> frame;
  };
  struct Range {
    uint64_t low = 0;
    uint64_t high = 0;
    const llvm::dwarf::FDE* fde = nullptr;
  };
  std::vector<Section> sections;
  std::vector<Range> index;  // sorted by low

  Status add(std::vector<uint8_t> bytes, bool eh, uint64_t address) {
    Section s{std::move(bytes),
              std::make_unique<llvm::DWARFDebugFrame>(llvm::Triple::x86_64, eh, address)};
    llvm::DWARFDataExtractor data(llvm::ArrayRef<uint8_t>(s.bytes.data(), s.bytes.size()),
                                  /*IsLittleEndian=*/true, /*AddressSize=*/8);
    if (llvm::Error e = s.frame->parse(data))
      return fail(std::string(eh ? ".eh_frame" : ".debug_frame") +
                  " is malformed: " + llvm::toString(std::move(e)));
    for (const llvm::dwarf::FrameEntry& entry : s.frame->entries())
      if (const auto* fde = llvm::dyn_cast<llvm::dwarf::FDE>(&entry); fde && fde->getAddressRange())
        index.push_back(
            {fde->getInitialLocation(), fde->getInitialLocation() + fde->getAddressRange(), fde});
    sections.push_back(std::move(s));
    std::stable_sort(index.begin(), index.end(),
                     [](const Range& a, const Range& b) { return a.low < b.low; });
    return {};
  }
};

FrameTable::FrameTable(std::unique_ptr<State> s) : s_(std::move(s)) {}
FrameTable::FrameTable(FrameTable&&) noexcept = default;
FrameTable& FrameTable::operator=(FrameTable&&) noexcept = default;
FrameTable::~FrameTable() = default;

size_t FrameTable::fde_count() const { return s_->index.size(); }

Result<FrameTable> FrameTable::parse(std::span<const uint8_t> bytes, bool eh, uint64_t address) {
  auto st = std::make_unique<State>();
  if (!bytes.empty())
    if (auto s = st->add(std::vector<uint8_t>(bytes.begin(), bytes.end()), eh, address); !s)
      return std::unexpected(s.error());
  return FrameTable(std::move(st));
}

Result<FrameTable> FrameTable::load(const ElfFile& elf, const ElfFile* debug_elf) {
  auto st = std::make_unique<State>();
  auto debug_frame = read_debug_section(debug_elf ? *debug_elf : elf, "debug_frame");
  if (!debug_frame) return std::unexpected(debug_frame.error());
  if (debug_frame->empty() && debug_elf) debug_frame = read_debug_section(elf, "debug_frame");
  if (!debug_frame) return std::unexpected(debug_frame.error());
  if (!debug_frame->empty())
    if (auto s = st->add(std::move(*debug_frame), false, 0); !s)
      return fail(elf.path() + ": " + s.error().message);
  // .eh_frame is allocated, so it stays in the binary itself (not the debug file).
  if (const Section* eh = elf.section(".eh_frame"); eh && eh->type != SHT_NOBITS && eh->size) {
    std::span<const uint8_t> bytes = elf.section_bytes(*eh);
    if (auto s = st->add(std::vector<uint8_t>(bytes.begin(), bytes.end()), true, eh->addr); !s)
      return fail(elf.path() + ": " + s.error().message);
  }
  return FrameTable(std::move(st));
}

Result<int64_t> FrameTable::cfa_sp_offset(uint64_t pc) const {
  // The last FDE starting at or before pc; FDEs do not overlap.
  auto it = std::upper_bound(s_->index.begin(), s_->index.end(), pc,
                             [](uint64_t v, const State::Range& r) { return v < r.low; });
  if (it == s_->index.begin() || pc >= std::prev(it)->high)
    return fail("no call frame information covers " + hex(pc));
  const llvm::dwarf::FDE* fde = std::prev(it)->fde;
  auto table = llvm::dwarf::UnwindTable::create(fde);
  if (!table)
    return fail("call frame information for " + hex(pc) +
                " cannot be evaluated: " + llvm::toString(table.takeError()));
  const llvm::dwarf::UnwindRow* row = nullptr;
  for (const llvm::dwarf::UnwindRow& r : *table)
    if (r.hasAddress() && r.getAddress() <= pc) row = &r;
  if (!row) return fail("no call frame row covers " + hex(pc));
  const llvm::dwarf::UnwindLocation& cfa = row->getCFAValue();
  if (cfa.getLocation() != llvm::dwarf::UnwindLocation::RegPlusOffset)
    return fail("the CFA at " + hex(pc) + " is computed by an expression");
  if (cfa.getRegister() != kDwarfRsp)
    return fail("the CFA at " + hex(pc) + " is " + register_name(cfa.getRegister()) + "+" +
                std::to_string(cfa.getOffset()) + ", not SP-relative (a frame-pointer frame)");
  return static_cast<int64_t>(cfa.getOffset());
}

}  // namespace dynprobe

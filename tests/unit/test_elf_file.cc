#include <elf.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <link.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/elf_file.h"

// A function of this test binary whose address the tests look up both in
// the file (through ElfFile) and in memory (through the dynamic loader).
extern "C" __attribute__((noinline, used)) int dynprobe_elf_test_marker(int x) {
  asm volatile("" ::: "memory");
  return x * 7 + 3;
}

namespace dynprobe {
namespace {

struct MainProgram {
  uintptr_t bias = 0;
  std::string gnu_build_id;  // from the loaded PT_NOTE segments, in memory
};

// What the dynamic loader knows about the running executable, independent
// of the file parsing under test.
MainProgram main_program() {
  MainProgram out;
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* data) -> int {
        auto* out = static_cast<MainProgram*>(data);
        out->bias = info->dlpi_addr;
        for (int i = 0; i < info->dlpi_phnum; ++i) {
          const ElfW(Phdr)& ph = info->dlpi_phdr[i];
          if (ph.p_type != PT_NOTE) continue;
          const auto* p = reinterpret_cast<const uint8_t*>(info->dlpi_addr + ph.p_vaddr);
          const uint8_t* end = p + ph.p_memsz;
          while (p + sizeof(ElfW(Nhdr)) <= end) {
            ElfW(Nhdr) nh;
            std::memcpy(&nh, p, sizeof nh);
            const uint8_t* name = p + sizeof nh;
            const uint8_t* desc = name + ((nh.n_namesz + 3) & ~3u);
            if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
                std::memcmp(name, "GNU", 4) == 0) {
              char buf[3];
              for (uint32_t k = 0; k < nh.n_descsz; ++k) {
                std::snprintf(buf, sizeof buf, "%02x", desc[k]);
                out->gnu_build_id += buf;
              }
            }
            p = desc + ((nh.n_descsz + 3) & ~3u);
          }
        }
        return 1;  // the first object is the executable itself
      },
      &out);
  return out;
}

uint64_t marker_link_addr() {
  return reinterpret_cast<uintptr_t>(&dynprobe_elf_test_marker) - main_program().bias;
}

std::span<const uint8_t> marker_memory(size_t n) {
  return {reinterpret_cast<const uint8_t*>(&dynprobe_elf_test_marker), n};
}

bool same_bytes(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

class ElfFileSelf : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = ElfFile::open("/proc/self/exe");
    ASSERT_TRUE(opened) << opened.error().message;
    elf_.emplace(std::move(*opened));
  }
  const ElfFile& elf() const { return *elf_; }
  std::optional<ElfFile> elf_;
};

TEST_F(ElfFileSelf, MarkerSymbolHasItsRuntimeAddressMinusLoadBias) {
  const Symbol* s = elf().symbol("dynprobe_elf_test_marker");
  ASSERT_NE(s, nullptr);
  EXPECT_TRUE(s->is_function);
  EXPECT_GT(s->size, 0u);
  EXPECT_EQ(s->addr, marker_link_addr());
}

TEST_F(ElfFileSelf, UnknownSymbolIsNull) {
  EXPECT_EQ(elf().symbol("dynprobe_elf_test_marker_not_there"), nullptr);
  EXPECT_EQ(elf().symbol(""), nullptr);
}

TEST_F(ElfFileSelf, SymbolsSortedByAddressThenName) {
  const auto& syms = elf().symbols();
  ASSERT_GT(syms.size(), 100u);
  EXPECT_TRUE(std::is_sorted(syms.begin(), syms.end(), [](const Symbol& a, const Symbol& b) {
    return a.addr != b.addr ? a.addr < b.addr : a.name < b.name;
  }));
}

TEST_F(ElfFileSelf, FunctionContaining) {
  const Symbol* s = elf().symbol("dynprobe_elf_test_marker");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(elf().function_containing(s->addr), s);
  EXPECT_EQ(elf().function_containing(s->addr + s->size - 1), s);
  const Symbol* after = elf().function_containing(s->addr + s->size);
  EXPECT_NE(after, s);
  EXPECT_EQ(elf().function_containing(0), nullptr);
  // Every other function found this way really contains the address.
  const Symbol* main_sym = elf().symbol("main");
  ASSERT_NE(main_sym, nullptr);
  const Symbol* m = elf().function_containing(main_sym->addr + main_sym->size / 2);
  ASSERT_NE(m, nullptr);
  EXPECT_LE(m->addr, main_sym->addr + main_sym->size / 2);
  EXPECT_GT(m->addr + m->size, main_sym->addr + main_sym->size / 2);
}

TEST_F(ElfFileSelf, ReadReturnsTheCodeTheLoaderMapped) {
  const Symbol* s = elf().symbol("dynprobe_elf_test_marker");
  ASSERT_NE(s, nullptr);
  auto bytes = elf().read(s->addr, s->size);
  ASSERT_TRUE(bytes) << bytes.error().message;
  EXPECT_TRUE(same_bytes(*bytes, marker_memory(s->size)));
}

TEST_F(ElfFileSelf, FileOffsetPointsAtTheCodeInTheFile) {
  const Symbol* s = elf().symbol("dynprobe_elf_test_marker");
  ASSERT_NE(s, nullptr);
  auto off = elf().file_offset(s->addr);
  ASSERT_TRUE(off);
  std::vector<uint8_t> file_bytes(s->size);
  const int fd = ::open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  const ssize_t got = ::pread(fd, file_bytes.data(), file_bytes.size(), static_cast<off_t>(*off));
  ::close(fd);
  ASSERT_EQ(got, static_cast<ssize_t>(s->size));
  EXPECT_TRUE(same_bytes(file_bytes, marker_memory(s->size)));
}

TEST_F(ElfFileSelf, ReadOutsideTheFileFails) {
  uint64_t top = 0;
  for (const Segment& s : elf().load_segments()) top = std::max(top, s.vaddr + s.memsz);
  EXPECT_FALSE(elf().read(top + 0x1000, 8));
  EXPECT_FALSE(elf().file_offset(top + 0x1000));
  const Segment& last = elf().load_segments().back();
  // The last byte backed by the file reads; one byte further does not.
  EXPECT_TRUE(elf().read(last.vaddr + last.filesz - 1, 1));
  EXPECT_FALSE(elf().read(last.vaddr + last.filesz - 1, 2));
}

TEST_F(ElfFileSelf, TextSectionAndSegmentHoldTheMarker) {
  const uint64_t addr = marker_link_addr();
  const Section* text = elf().section(".text");
  ASSERT_NE(text, nullptr);
  EXPECT_EQ(text->type, static_cast<uint32_t>(SHT_PROGBITS));
  EXPECT_TRUE(text->flags & SHF_EXECINSTR);
  ASSERT_GE(addr, text->addr);
  ASSERT_LT(addr, text->addr + text->size);
  auto bytes = elf().section_bytes(*text).subspan(addr - text->addr, 16);
  EXPECT_TRUE(same_bytes(bytes, marker_memory(16)));

  auto seg =
      std::find_if(elf().load_segments().begin(), elf().load_segments().end(),
                   [&](const Segment& s) { return addr >= s.vaddr && addr < s.vaddr + s.memsz; });
  ASSERT_NE(seg, elf().load_segments().end());
  EXPECT_TRUE(seg->flags & PF_X);
  EXPECT_EQ(elf().section(".no.such.section"), nullptr);
}

TEST_F(ElfFileSelf, PieMatchesTheHeaderTypeAndTheLoadBias) {
  ElfW(Ehdr) eh;
  std::ifstream in("/proc/self/exe", std::ios::binary);
  in.read(reinterpret_cast<char*>(&eh), sizeof eh);
  ASSERT_TRUE(in);
  EXPECT_EQ(elf().is_pie(), eh.e_type == ET_DYN);
  // Under ASLR a PIE is loaded at a non-zero bias; a fixed executable is not.
  EXPECT_EQ(elf().is_pie(), main_program().bias != 0);
}

TEST_F(ElfFileSelf, BuildIdEqualsTheLoadedNote) {
  const std::string expected = main_program().gnu_build_id;
  ASSERT_FALSE(expected.empty()) << "test binary linked without --build-id";
  EXPECT_EQ(elf().build_id(), expected);
}

TEST_F(ElfFileSelf, NoDebuglinkInTheTestBinary) {
  EXPECT_EQ(elf().section(".gnu_debuglink"), nullptr);
  EXPECT_EQ(elf().debuglink(), "");
}

TEST_F(ElfFileSelf, MovedFileStaysValid) {
  ElfFile moved = std::move(*elf_);
  elf_.reset();
  const Symbol* s = moved.symbol("dynprobe_elf_test_marker");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->addr, marker_link_addr());
  auto bytes = moved.read(s->addr, 4);
  ASSERT_TRUE(bytes);
  EXPECT_TRUE(same_bytes(*bytes, marker_memory(4)));

  auto other = ElfFile::open("/proc/self/exe");
  ASSERT_TRUE(other);
  *other = std::move(moved);
  EXPECT_EQ(other->symbol("dynprobe_elf_test_marker")->addr, marker_link_addr());
  EXPECT_EQ(other->path(), "/proc/self/exe");
}

class ElfFileTemp : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("dynprobe-elf-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& bytes) {
    const auto p = dir_ / name;
    std::ofstream(p, std::ios::binary)
        .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return p.string();
  }
  // A copy of this test binary changed by objcopy.
  std::string objcopy(const std::string& args, const std::string& name) {
    const std::string out = (dir_ / name).string();
    const std::string cmd =
        "objcopy " + args + " /proc/" + std::to_string(::getpid()) + "/exe " + out + " 2>&1";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
    return out;
  }
  std::filesystem::path dir_;
};

std::string elf_header(uint8_t cls, uint16_t machine) {
  std::string h(cls == ELFCLASS64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr), '\0');
  std::memcpy(h.data(), ELFMAG, SELFMAG);
  h[EI_CLASS] = static_cast<char>(cls);
  h[EI_DATA] = ELFDATA2LSB;
  h[EI_VERSION] = EV_CURRENT;
  if (cls == ELFCLASS64) {
    Elf64_Ehdr eh;
    std::memcpy(&eh, h.data(), sizeof eh);
    eh.e_type = ET_EXEC;
    eh.e_machine = machine;
    eh.e_version = EV_CURRENT;
    eh.e_ehsize = sizeof eh;
    std::memcpy(h.data(), &eh, sizeof eh);
  } else {
    Elf32_Ehdr eh;
    std::memcpy(&eh, h.data(), sizeof eh);
    eh.e_type = ET_EXEC;
    eh.e_machine = machine;
    eh.e_version = EV_CURRENT;
    eh.e_ehsize = sizeof eh;
    std::memcpy(h.data(), &eh, sizeof eh);
  }
  return h;
}

TEST_F(ElfFileTemp, MissingFile) {
  const std::string path = (dir_ / "absent").string();
  auto elf = ElfFile::open(path);
  ASSERT_FALSE(elf);
  EXPECT_EQ(elf.error().message, path + ": no such file");
}

TEST_F(ElfFileTemp, NotAnElfFile) {
  const std::string path = write("script.sh", "#!/bin/sh\necho hello, this is not ELF\n");
  auto elf = ElfFile::open(path);
  ASSERT_FALSE(elf);
  EXPECT_EQ(elf.error().message, path + ": not an ELF file");
}

TEST_F(ElfFileTemp, EmptyFileIsNotElf) {
  const std::string path = write("empty", "");
  auto elf = ElfFile::open(path);
  ASSERT_FALSE(elf);
  EXPECT_EQ(elf.error().message, path + ": not an ELF file");
}

TEST_F(ElfFileTemp, Elf32IsNotX8664) {
  const std::string path = write("i386", elf_header(ELFCLASS32, EM_386));
  auto elf = ElfFile::open(path);
  ASSERT_FALSE(elf);
  EXPECT_EQ(elf.error().message, path + ": not an x86-64 ELF file");
}

TEST_F(ElfFileTemp, Aarch64IsNotX8664) {
  const std::string path = write("arm64", elf_header(ELFCLASS64, EM_AARCH64));
  auto elf = ElfFile::open(path);
  ASSERT_FALSE(elf);
  EXPECT_EQ(elf.error().message, path + ": not an x86-64 ELF file");
}

TEST_F(ElfFileTemp, HeaderOnlyX8664Opens) {
  // The same synthetic header with the right machine is accepted: the
  // rejection above is about the machine, not about the synthetic file.
  const std::string path = write("x86-64", elf_header(ELFCLASS64, EM_X86_64));
  auto elf = ElfFile::open(path);
  ASSERT_TRUE(elf) << elf.error().message;
  EXPECT_TRUE(elf->symbols().empty());
  EXPECT_EQ(elf->build_id(), "");
  EXPECT_FALSE(elf->is_pie());
}

TEST_F(ElfFileTemp, TruncatedElfIsOneLineError) {
  std::string h = elf_header(ELFCLASS64, EM_X86_64);
  Elf64_Ehdr eh;
  std::memcpy(&eh, h.data(), sizeof eh);
  eh.e_shoff = 4096;  // section headers beyond the end of the file
  eh.e_shnum = 10;
  eh.e_shentsize = sizeof(Elf64_Shdr);
  std::memcpy(h.data(), &eh, sizeof eh);
  const std::string path = write("truncated", h);
  auto elf = ElfFile::open(path);
  ASSERT_FALSE(elf);
  EXPECT_TRUE(elf.error().message.starts_with(path + ": ")) << elf.error().message;
  EXPECT_EQ(elf.error().message.find('\n'), std::string::npos) << elf.error().message;
}

TEST_F(ElfFileTemp, DirectoryIsAnError) {
  auto elf = ElfFile::open(dir_.string());
  ASSERT_FALSE(elf);
  EXPECT_TRUE(elf.error().message.starts_with(dir_.string() + ": ")) << elf.error().message;
  EXPECT_NE(elf.error().message, dir_.string() + ": no such file");
}

TEST_F(ElfFileTemp, DebuglinkAddedWithObjcopy) {
  const std::string debug = write("app.debug", "not really debug info");
  const std::string path = objcopy("--add-gnu-debuglink=" + debug, "with-link");
  auto elf = ElfFile::open(path);
  ASSERT_TRUE(elf) << elf.error().message;
  EXPECT_EQ(elf->debuglink(), "app.debug");
}

TEST_F(ElfFileTemp, GoBuildIdNoteWhenNoGnuBuildId) {
  // The note Go's linker writes: name "Go", type 4, the build id string as
  // the descriptor (here the id of a real go1.19.8 build).
  const std::string id =
      "cwQvlO7jVneuJO9Q_CRr/t-ym_0BT9SUNCLms1jDv/OiHBFLrufjDHlRGmjNrm/fPJ3jBJ_McMp0QMVHG3N";
  std::string note(12, '\0');
  const uint32_t words[3] = {4, static_cast<uint32_t>(id.size()), 4};
  std::memcpy(note.data(), words, sizeof words);
  note += std::string("Go\0\0", 4) + id;
  note.resize((note.size() + 3) & ~size_t{3}, '\0');
  const std::string note_file = write("go-note", note);
  const std::string path = objcopy(
      "--remove-section .note.gnu.build-id --add-section .note.go.buildid=" + note_file, "go-id");
  auto elf = ElfFile::open(path);
  ASSERT_TRUE(elf) << elf.error().message;
  const Section* s = elf->section(".note.go.buildid");
  ASSERT_NE(s, nullptr);
  ASSERT_EQ(s->type, static_cast<uint32_t>(SHT_NOTE));
  EXPECT_EQ(elf->build_id(), id);
}

}  // namespace
}  // namespace dynprobe

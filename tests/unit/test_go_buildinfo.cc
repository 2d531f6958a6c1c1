#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "core/elf_file.h"
#include "core/go_buildinfo.h"

namespace dynprobe {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes from_hex(std::string_view hex) {
  Bytes out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

void append(Bytes& b, std::string_view s) { b.insert(b.end(), s.begin(), s.end()); }

void append_uvarint(Bytes& b, uint64_t v) {
  while (v >= 0x80) {
    b.push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  b.push_back(static_cast<uint8_t>(v));
}

void append_uint(Bytes& b, uint64_t v, size_t size, bool big_endian) {
  for (size_t i = 0; i < size; ++i) {
    const size_t shift = 8 * (big_endian ? size - 1 - i : i);
    b.push_back(static_cast<uint8_t>(v >> shift));
  }
}

// cmd/go's infoStart and infoEnd sentinels (as found in the Go 1.19 blob below).
constexpr std::string_view kInfoStart(
    "\x30\x77\xaf\x0c\x92\x74\x08\x02\x41\xe1\xc1\x07\xe6\xd6\x18\xe6", 16);
constexpr std::string_view kInfoEnd(
    "\xf9\x32\x43\x31\x86\x18\x20\x72\x00\x82\x42\x10\x41\x16\xd8\xf2", 16);

std::string framed(const std::string& mod) {
  return std::string(kInfoStart) + mod + std::string(kInfoEnd);
}

Bytes header(uint8_t ptr_size, uint8_t flags) {
  Bytes b;
  append(b, std::string_view("\xff Go buildinf:", 14));
  b.push_back(ptr_size);
  b.push_back(flags);
  b.resize(32, 0);
  return b;
}

Bytes inline_blob(const std::string& version, const std::string& mod) {
  Bytes b = header(8, 0x2);
  append_uvarint(b, version.size());
  append(b, version);
  append_uvarint(b, mod.size());
  append(b, mod);
  return b;
}

// A fake address space for the pointer format: regions of bytes at addresses.
class FakeMemory {
 public:
  void put(uint64_t addr, Bytes bytes) { regions_[addr] = std::move(bytes); }
  void put(uint64_t addr, std::string_view s) { put(addr, Bytes(s.begin(), s.end())); }
  VaddrReader reader() {
    return [this](uint64_t addr, size_t n) -> Result<std::span<const uint8_t>> {
      ++reads;
      auto it = regions_.upper_bound(addr);
      if (it == regions_.begin()) return fail("unmapped");
      --it;
      const uint64_t off = addr - it->first;
      if (off > it->second.size() || n > it->second.size() - off) return fail("unmapped");
      return std::span<const uint8_t>(it->second).subspan(off, n);
    };
  }
  int reads = 0;

 private:
  std::map<uint64_t, Bytes> regions_;
};

// A string header {data, len} as a Go binary stores it.
Bytes string_header(uint64_t data, uint64_t len, size_t ptr_size, bool big_endian) {
  Bytes b;
  append_uint(b, data, ptr_size, big_endian);
  append_uint(b, len, ptr_size, big_endian);
  return b;
}

Bytes pointer_blob(uint64_t version_hdr, uint64_t mod_hdr, size_t ptr_size, bool big_endian) {
  Bytes b = header(static_cast<uint8_t>(ptr_size), big_endian ? 1 : 0);
  b.resize(16);
  append_uint(b, version_hdr, ptr_size, big_endian);
  append_uint(b, mod_hdr, ptr_size, big_endian);
  b.resize(32, 0);
  return b;
}

const VaddrReader kNoMemory = [](uint64_t, size_t) -> Result<std::span<const uint8_t>> {
  ADD_FAILURE() << "the inline format must not dereference pointers";
  return fail("no memory");
};

// The .go.buildinfo section of a program built by Debian's golang-1.19-go
// (go1.19.8) as module example.com/gop; `go version -m` printed
// "path example.com/gop" and "mod example.com/gop (devel)". Its module info
// is 251 bytes, so the length is a two-byte uvarint (fb 01).
const Bytes kGo119Blob = from_hex(
    "ff20476f206275696c64696e663a080200000000000000000000000000000000"
    "08676f312e31392e38fb013077af0c9274080241e1c107e6d618e67061746809"
    "6578616d706c652e636f6d2f676f700a6d6f64096578616d706c652e636f6d2f"
    "676f700928646576656c29090a6275696c64092d636f6d70696c65723d67630a"
    "6275696c640943474f5f454e41424c45443d310a6275696c640943474f5f4346"
    "4c4147533d0a6275696c640943474f5f435050464c4147533d0a6275696c6409"
    "43474f5f435858464c4147533d0a6275696c640943474f5f4c44464c4147533d"
    "0a6275696c6409474f415243483d616d6436340a6275696c6409474f4f533d6c"
    "696e75780a6275696c6409474f414d4436343d76310af9324331861820720082"
    "42104116d8f200000000000000000000");

TEST(GoBuildInfoInline, RealGo119Section) {
  auto info = parse_go_buildinfo(kGo119Blob, kNoMemory);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->version, "go1.19.8");
  EXPECT_EQ(info->parsed, (GoVersion{1, 19, 8}));
  EXPECT_EQ(info->main_path, "example.com/gop");
  EXPECT_TRUE(info->inline_strings);
  EXPECT_TRUE(
      info->mod_info.starts_with("path\texample.com/gop\nmod\texample.com/gop\t(devel)\t\n"))
      << info->mod_info;
  EXPECT_TRUE(info->mod_info.ends_with("build\tGOAMD64=v1\n")) << info->mod_info;
  EXPECT_EQ(info->mod_info.size(), 251u - 32u);
}

TEST(GoBuildInfoInline, ModLineWhenPathMissing) {
  auto info = parse_go_buildinfo(
      inline_blob("go1.22.2", framed("mod\tgithub.com/a/b\tv1.2.3\th1:xyz=\n")), kNoMemory);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->main_path, "github.com/a/b");
  EXPECT_EQ(info->parsed, (GoVersion{1, 22, 2}));
}

TEST(GoBuildInfoInline, NoModuleInfo) {
  auto info = parse_go_buildinfo(inline_blob("go1.21.0", ""), kNoMemory);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->version, "go1.21.0");
  EXPECT_EQ(info->mod_info, "");
  EXPECT_EQ(info->main_path, "");
}

TEST(GoBuildInfoInline, UnframedModuleInfoIsIgnored) {
  // Go's own reader drops module info without the sentinel framing.
  auto info = parse_go_buildinfo(inline_blob("go1.21.0", "path\tx/y\n"), kNoMemory);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->mod_info, "");
  EXPECT_EQ(info->main_path, "");
}

TEST(GoBuildInfoErrors, BadMagic) {
  Bytes b = kGo119Blob;
  b[3] = 'X';
  auto info = parse_go_buildinfo(b, kNoMemory);
  ASSERT_FALSE(info);
  EXPECT_NE(info.error().message.find("magic"), std::string::npos) << info.error().message;
}

TEST(GoBuildInfoErrors, ShorterThanHeader) {
  auto info = parse_go_buildinfo(std::span(kGo119Blob).first(20), kNoMemory);
  ASSERT_FALSE(info);
  EXPECT_NE(info.error().message.find("truncated"), std::string::npos) << info.error().message;
}

TEST(GoBuildInfoErrors, TruncatedInsideVersion) {
  auto info = parse_go_buildinfo(std::span(kGo119Blob).first(32 + 5), kNoMemory);
  ASSERT_FALSE(info);
  EXPECT_NE(info.error().message.find("version"), std::string::npos) << info.error().message;
}

TEST(GoBuildInfoErrors, TruncatedInsideModuleInfo) {
  // Cut in the middle of the 251-byte module info string.
  auto info = parse_go_buildinfo(std::span(kGo119Blob).first(100), kNoMemory);
  ASSERT_FALSE(info);
  EXPECT_NE(info.error().message.find("module info"), std::string::npos) << info.error().message;
}

TEST(GoBuildInfoErrors, UnterminatedVarint) {
  Bytes b = header(8, 0x2);
  b.insert(b.end(), {0x80, 0x80});
  EXPECT_FALSE(parse_go_buildinfo(b, kNoMemory));
}

TEST(GoBuildInfoErrors, EmptyVersion) {
  auto info = parse_go_buildinfo(inline_blob("", framed("path\tx\n")), kNoMemory);
  ASSERT_FALSE(info);
}

TEST(GoBuildInfoErrors, UnparseableVersion) {
  auto info = parse_go_buildinfo(inline_blob("devel +abc", ""), kNoMemory);
  ASSERT_FALSE(info);
  EXPECT_NE(info.error().message.find("devel +abc"), std::string::npos) << info.error().message;
}

TEST(GoBuildInfoPointer, LittleEndian64) {
  const std::string mod = framed("path\texample.com/old\nmod\texample.com/old\t(devel)\t\n");
  FakeMemory mem;
  mem.put(0x5a0000, string_header(0x4c1000, 9, 8, false));
  mem.put(0x5a0010, string_header(0x4c2000, mod.size(), 8, false));
  mem.put(0x4c1000, "go1.15.15 and more bytes that are not part of the string");
  mem.put(0x4c2000, mod);
  auto info = parse_go_buildinfo(pointer_blob(0x5a0000, 0x5a0010, 8, false), mem.reader());
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->version, "go1.15.15");
  EXPECT_EQ(info->parsed, (GoVersion{1, 15, 15}));
  EXPECT_EQ(info->main_path, "example.com/old");
  EXPECT_FALSE(info->inline_strings);
  EXPECT_EQ(mem.reads, 4);  // two headers, two strings
}

TEST(GoBuildInfoPointer, BigEndian32) {
  FakeMemory mem;
  mem.put(0x1000, string_header(0x2000, 6, 4, true));
  mem.put(0x1008, string_header(0x3000, 0, 4, true));
  mem.put(0x2000, "go1.13");
  auto info = parse_go_buildinfo(pointer_blob(0x1000, 0x1008, 4, true), mem.reader());
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->version, "go1.13");
  EXPECT_EQ(info->main_path, "");
}

TEST(GoBuildInfoPointer, UnreadableVersionPointer) {
  FakeMemory mem;
  mem.put(0x1000, string_header(0x2000, 6, 8, false));  // header fine, data unmapped
  auto info = parse_go_buildinfo(pointer_blob(0x1000, 0x1010, 8, false), mem.reader());
  ASSERT_FALSE(info);
  EXPECT_NE(info.error().message.find("version"), std::string::npos) << info.error().message;
}

TEST(GoBuildInfoPointer, UnreadableModuleInfoMeansNone) {
  FakeMemory mem;
  mem.put(0x1000, string_header(0x2000, 8, 8, false));
  mem.put(0x2000, "go1.16.3");
  auto info = parse_go_buildinfo(pointer_blob(0x1000, 0x9000, 8, false), mem.reader());
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->parsed, (GoVersion{1, 16, 3}));
  EXPECT_EQ(info->mod_info, "");
}

TEST(GoBuildInfoPointer, BadPointerSize) {
  FakeMemory mem;
  Bytes b = pointer_blob(0x1000, 0x1010, 8, false);
  b[14] = 3;
  EXPECT_FALSE(parse_go_buildinfo(b, mem.reader()));
  EXPECT_EQ(mem.reads, 0);
}

TEST(GoBuildInfoPointer, ImplausibleLengthIsRejected) {
  FakeMemory mem;
  mem.put(0x1000, string_header(0x2000, uint64_t{1} << 40, 8, false));
  EXPECT_FALSE(parse_go_buildinfo(pointer_blob(0x1000, 0x1010, 8, false), mem.reader()));
}

// read_go_buildinfo on real ELF files: this test binary (not Go) and a copy
// of it given a .go.buildinfo section by objcopy.
class GoBuildInfoElf : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("dynprobe-buildinfo-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(GoBuildInfoElf, NonGoBinaryIsReported) {
  auto elf = ElfFile::open("/proc/self/exe");
  ASSERT_TRUE(elf) << elf.error().message;
  auto info = read_go_buildinfo(*elf);
  ASSERT_FALSE(info);
  EXPECT_EQ(info.error().message,
            "/proc/self/exe: not a Go binary (no .go.buildinfo section or runtime.buildVersion)");
}

TEST_F(GoBuildInfoElf, SectionAddedWithObjcopy) {
  const auto blob = dir_ / "blob";
  const auto exe = dir_ / "with-buildinfo";
  {
    std::ofstream out(blob, std::ios::binary);
    out.write(reinterpret_cast<const char*>(kGo119Blob.data()),
              static_cast<std::streamsize>(kGo119Blob.size()));
  }
  const std::string cmd = "objcopy --add-section .go.buildinfo=" + blob.string() + " /proc/" +
                          std::to_string(::getpid()) + "/exe " + exe.string();
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  auto elf = ElfFile::open(exe.string());
  ASSERT_TRUE(elf) << elf.error().message;
  auto info = read_go_buildinfo(*elf);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->version, "go1.19.8");
  EXPECT_EQ(info->main_path, "example.com/gop");
}

}  // namespace
}  // namespace dynprobe

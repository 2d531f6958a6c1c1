#include <gtest/gtest.h>
#include <llvm/Support/MemoryBuffer.h>
#include <stdlib.h>

#include <filesystem>

#include "core/dwarf_cache.h"

namespace dynprobe {
namespace {

class DwarfCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("dynprobe-cache-test-" + std::to_string(getpid()));
    old_ = getenv("DYNPROBE_CACHE") ? getenv("DYNPROBE_CACHE") : "";
    setenv("DYNPROBE_CACHE", dir_.c_str(), 1);
    unsetenv("DYNPROBE_DWARF_CACHE");
  }
  void TearDown() override {
    std::filesystem::remove_all(dir_);
    if (old_.empty())
      unsetenv("DYNPROBE_CACHE");
    else
      setenv("DYNPROBE_CACHE", old_.c_str(), 1);
  }
  std::filesystem::path dir_;
  std::string old_;
};

TEST_F(DwarfCacheTest, StoredSectionComesBackByteForByte) {
  auto cache = DwarfCache::for_build_id("abc/def/ghi");
  ASSERT_TRUE(cache);
  EXPECT_EQ(cache->load("debug_info"), nullptr);
  std::string bytes("\x00\x01\x02inflated\xff", 12);
  auto buf =
      llvm::MemoryBuffer::getMemBuffer(llvm::StringRef(bytes.data(), bytes.size()), "", false);
  cache->store("debug_info", *buf);
  auto back = cache->load("debug_info");
  ASSERT_NE(back, nullptr);
  EXPECT_EQ(back->getBuffer().str(), bytes);
  // Another binary's id sees nothing.
  EXPECT_EQ(DwarfCache::for_build_id("other")->load("debug_info"), nullptr);
}

TEST_F(DwarfCacheTest, NoBuildIdOrDisabledMeansNoCache) {
  EXPECT_FALSE(DwarfCache::for_build_id(""));
  setenv("DYNPROBE_DWARF_CACHE", "0", 1);
  EXPECT_FALSE(DwarfCache::for_build_id("abc"));
  unsetenv("DYNPROBE_DWARF_CACHE");
}

}  // namespace
}  // namespace dynprobe

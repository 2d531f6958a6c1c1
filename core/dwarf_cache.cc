#include "core/dwarf_cache.h"

#include <llvm/Support/MemoryBuffer.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace dynprobe {

namespace fs = std::filesystem;

std::optional<DwarfCache> DwarfCache::for_build_id(const std::string& build_id) {
  if (build_id.empty()) return std::nullopt;
  if (const char* off = getenv("DYNPROBE_DWARF_CACHE"); off && std::string(off) == "0")
    return std::nullopt;
  std::string root;
  if (const char* c = getenv("DYNPROBE_CACHE"); c && *c)
    root = c;
  else if (const char* h = getenv("HOME"); h && *h)
    root = std::string(h) + "/.cache/dynprobe";
  else
    return std::nullopt;
  // Go's build id has slashes; GNU's is hex.
  std::string key = build_id;
  for (char& ch : key)
    if (ch == '/' || ch == '.') ch = '_';
  return DwarfCache(root + "/dwarf/" + key);
}

std::unique_ptr<llvm::MemoryBuffer> DwarfCache::load(std::string_view section) const {
  auto buf = llvm::MemoryBuffer::getFile(dir_ + "/" + std::string(section), /*IsText=*/false,
                                         /*RequiresNullTerminator=*/false);
  if (!buf) return nullptr;
  return std::move(*buf);
}

void DwarfCache::store(std::string_view section, const llvm::MemoryBuffer& data) const {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) return;
  // Written aside and renamed: a reader never maps a half-written section.
  std::string final_path = dir_ + "/" + std::string(section);
  std::string tmp = final_path + ".tmp." + std::to_string(getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(data.getBufferStart(), static_cast<std::streamsize>(data.getBufferSize()));
    if (!out) {
      fs::remove(tmp, ec);
      return;
    }
  }
  fs::rename(tmp, final_path, ec);
  if (ec) fs::remove(tmp, ec);
}

}  // namespace dynprobe

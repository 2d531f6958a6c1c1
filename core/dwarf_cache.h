// Decompressed DWARF sections kept on disk, keyed by the binary's build id,
// so that only the first run on a binary pays for inflating them (about
// 20 ms of a 30 ms start on an 8 MB Go binary; docs/benchmarks.md).
// $DYNPROBE_CACHE/dwarf/<build id>/<section>; DYNPROBE_DWARF_CACHE=0 turns it off.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace llvm {
class MemoryBuffer;
}

namespace dynprobe {

class DwarfCache {
 public:
  // Nothing to key on (no build id) or caching disabled: nullopt.
  static std::optional<DwarfCache> for_build_id(const std::string& build_id);

  // The cached section, mapped; null on a miss.
  std::unique_ptr<llvm::MemoryBuffer> load(std::string_view section) const;
  // Best effort: a failure to write only costs the next run the inflating.
  void store(std::string_view section, const llvm::MemoryBuffer& data) const;

 private:
  explicit DwarfCache(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
};

}  // namespace dynprobe

#include "core/debug_file.h"

#include <filesystem>

#include "core/elf_file.h"

namespace dynprobe {

namespace fs = std::filesystem;

std::vector<std::string> debug_file_candidates(const ElfFile& elf, const std::string& root) {
  std::vector<std::string> out;
  std::string id = elf.build_id();
  // Only a GNU build-id (hex) names a file under .build-id; Go's own build id
  // has slashes and is not used there.
  bool hex = id.size() > 2 && id.find_first_not_of("0123456789abcdef") == std::string::npos;
  if (hex)
    out.push_back(root + "/usr/lib/debug/.build-id/" + id.substr(0, 2) + "/" + id.substr(2) +
                  ".debug");
  std::string link = elf.debuglink();
  if (!link.empty()) {
    fs::path dir = fs::path(elf.path()).parent_path();
    if (dir.empty()) dir = ".";
    out.push_back((dir / link).string());
    out.push_back((dir / ".debug" / link).string());
    fs::path abs = fs::absolute(dir);
    out.push_back(root + "/usr/lib/debug" + abs.string() + "/" + link);
  }
  return out;
}

}  // namespace dynprobe

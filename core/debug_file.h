// Finding DWARF for a stripped binary, in the order gdb uses: an explicit
// --debug-file, /usr/lib/debug/.build-id/xx/rest.debug, then the
// .gnu_debuglink name next to the binary, in its .debug/ folder and under
// /usr/lib/debug/<dir>/.
#pragma once

#include <string>
#include <vector>

namespace dynprobe {

class ElfFile;

// Candidate paths, most specific first; `root` prefixes absolute paths
// (a container's /proc/PID/root).
std::vector<std::string> debug_file_candidates(const ElfFile& elf, const std::string& root = "");

}  // namespace dynprobe

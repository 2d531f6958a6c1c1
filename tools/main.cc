#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "tools/commands.h"

namespace {

constexpr const char* kUsage =
    "usage: dynprobe <command> [options]\n"
    "\n"
    "commands:\n"
    "  list BINARY [GLOB]          traceable functions with their signatures\n"
    "  describe BINARY FUNC        parameters, results, types, locations, RET and inline sites\n"
    "  trace -p FUNC TARGET        live arguments, results and latency of every call\n"
    "\n"
    "Run 'dynprobe <command> --help' for a command's options.\n";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
      !strcmp(argv[1], "help")) {
    fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  std::string command = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  if (command == "list") return dynprobe::cli::run_list(args);
  if (command == "describe") return dynprobe::cli::run_describe(args);
  if (command == "trace") return dynprobe::cli::run_trace(args);
  if (command == "--version" || command == "version") {
    puts("dynprobe 0.1.0");
    return 0;
  }
  return dynprobe::cli::print_error("unknown command '" + command + "'; run 'dynprobe --help'");
}

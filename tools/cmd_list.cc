#include <llvm/Support/FormatVariadic.h>
#include <llvm/Support/JSON.h>

#include <cstdio>

#include "core/binary.h"
#include "core/name_match.h"
#include "core/signature.h"
#include "tools/cli_args.h"
#include "tools/commands.h"

namespace po = boost::program_options;

namespace dynprobe::cli {

int run_list(const std::vector<std::string>& args) {
  po::options_description opts("dynprobe list BINARY [GLOB] [options]");
  std::string format = "text";
  std::string debug_file;
  opts.add_options()("help,h", "show this help")("format", po::value(&format), "text | json")(
      "debug-file", po::value(&debug_file), "read DWARF from this file (for stripped binaries)");
  std::vector<std::string> positional;
  po::variables_map vm;
  auto parsed = parse_args(args, opts, positional, vm);
  if (!parsed) return print_error("list: " + parsed.error().message);
  if (!*parsed) return 0;
  if (positional.empty() || positional.size() > 2)
    return print_error("list: expected BINARY [GLOB] (see --help)");
  if (format != "text" && format != "json")
    return print_error("list: --format must be text or json, not '" + format + "'");
  std::string glob = positional.size() == 2 ? positional[1] : "*";

  auto binary = Binary::open(positional[0], OpenOptions{.debug_file = debug_file});
  if (!binary) return print_error(binary.error().message);

  std::vector<std::string> names;
  for (std::string_view n : binary->function_names(/*with_inlined=*/true))
    if (glob_match(glob, n)) names.emplace_back(n);
  if (names.empty()) return print_error("list: no function matches '" + glob + "'");

  for (const std::string& name : names) {
    auto fn = binary->function(name, LoadOptions{.inline_instances = false});
    std::string sig = fn ? signature(*fn, binary->types()) : "";
    bool inlined_only = fn && fn->low_pc == 0;
    if (format == "json") {
      llvm::json::Object o{{"function", name}, {"inlined_only", inlined_only}};
      o["signature"] = fn ? llvm::json::Value(sig) : llvm::json::Value(nullptr);
      o["address"] = fn ? llvm::json::Value(static_cast<int64_t>(fn->low_pc)) : nullptr;
      printf("%s\n", llvm::formatv("{0}", llvm::json::Value(std::move(o))).str().c_str());
    } else {
      printf("%-50s %s%s\n", name.c_str(), fn ? sig.c_str() : "(no DWARF)",
             inlined_only ? "  [inlined only]" : "");
    }
  }
  return 0;
}

}  // namespace dynprobe::cli

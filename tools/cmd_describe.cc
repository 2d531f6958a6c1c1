#include <boost/program_options.hpp>
#include <cstdio>

#include "tools/cli_args.h"
#include "tools/commands.h"
#include "tools/describe_report.h"

namespace po = boost::program_options;

namespace dynprobe::cli {

int print_error(const std::string& message) {
  fprintf(stderr, "dynprobe: %s\n", message.c_str());
  return 1;
}

int run_describe(const std::vector<std::string>& args) {
  po::options_description opts("dynprobe describe BINARY FUNC [options]");
  std::string format = "text";
  std::string debug_file;
  opts.add_options()("help,h", "show this help")("format", po::value(&format), "text | json")(
      "debug-file", po::value(&debug_file), "read DWARF from this file (for stripped binaries)");
  std::vector<std::string> positional;
  po::variables_map vm;
  auto parsed = parse_args(args, opts, positional, vm);
  if (!parsed) return print_error("describe: " + parsed.error().message);
  if (!*parsed) return 0;
  if (positional.size() != 2) return print_error("describe: expected BINARY FUNC (see --help)");
  if (format != "text" && format != "json")
    return print_error("describe: --format must be text or json, not '" + format + "'");

  auto binary = Binary::open(positional[0], OpenOptions{.debug_file = debug_file});
  if (!binary) return print_error(binary.error().message);
  auto report = describe_function(*binary, positional[1]);
  if (!report) return print_error(report.error().message);
  fputs((format == "json" ? render_json(*report) : render_text(*report)).c_str(), stdout);
  return 0;
}

}  // namespace dynprobe::cli

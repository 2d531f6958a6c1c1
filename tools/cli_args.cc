#include "tools/cli_args.h"

#include <iostream>

namespace po = boost::program_options;

namespace dynprobe::cli {

Result<bool> parse_args(const std::vector<std::string>& args, const po::options_description& opts,
                        std::vector<std::string>& positional, po::variables_map& vm) {
  po::options_description hidden;
  hidden.add_options()("positional-args", po::value(&positional));
  po::options_description all;
  all.add(opts).add(hidden);
  po::positional_options_description pos;
  pos.add("positional-args", -1);
  try {
    po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return fail(e.what());
  }
  if (vm.count("help")) {
    std::cout << opts;
    return false;
  }
  return true;
}

}  // namespace dynprobe::cli

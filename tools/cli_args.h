#pragma once

#include <boost/program_options.hpp>
#include <string>
#include <vector>

#include "core/result.h"

namespace dynprobe::cli {

// Parses `args` against `opts` plus any number of positional arguments.
// Returns false and prints help when --help was given (exit 0), an error for
// bad options.
Result<bool> parse_args(const std::vector<std::string>& args,
                        const boost::program_options::options_description& opts,
                        std::vector<std::string>& positional,
                        boost::program_options::variables_map& vm);

}  // namespace dynprobe::cli

#pragma once

#include <string>
#include <vector>

namespace dynprobe::cli {

// Each subcommand parses its own arguments (argv without the subcommand) and
// returns the process exit code. Errors are printed as one line on stderr.
int run_list(const std::vector<std::string>& args);
int run_describe(const std::vector<std::string>& args);
int run_trace(const std::vector<std::string>& args);

int print_error(const std::string& message);

}  // namespace dynprobe::cli

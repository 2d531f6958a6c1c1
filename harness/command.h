// Running a helper program (build-fixture, dynprobe) and collecting its
// output, with a time limit and, for the build-id lookup, a private view of
// /usr/lib/debug.
#pragma once

#include <string>
#include <vector>

namespace dynprobe::harness {

struct CommandResult {
  int exit_code = -1;  // -1 when killed by a signal or not started
  int signal = 0;
  bool timed_out = false;
  std::string out;
  std::string err;
  double seconds = 0;
};

struct CommandOptions {
  // When set, the command runs in its own mount namespace where this
  // directory is bind-mounted over /usr/lib/debug: dynprobe then looks up
  // /usr/lib/debug/.build-id/xx/rest.debug in a tree the runner owns, and the
  // system's directory is never written (the mount vanishes with the process).
  std::string debug_root;
  double timeout_seconds = 300;  // then SIGTERM, and SIGKILL 5 s later
};

// Runs argv (no shell, PATH searched).
CommandResult run_command(const std::vector<std::string>& argv, const CommandOptions& opts = {});

// Trailing newlines and spaces removed.
std::string trim(std::string s);

}  // namespace dynprobe::harness

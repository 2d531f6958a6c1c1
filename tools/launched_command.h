// `dynprobe trace ... -- COMMAND ARGS`: the command is forked and held at a
// gate until the probes are attached, then exec'd, so not one call is missed.
// Its stdin/stdout/stderr are ours, untouched.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace dynprobe::cli {

class LaunchedCommand {
 public:
  // Resolves argv[0] through PATH (the binary to plan probes for) and forks.
  static Result<LaunchedCommand> prepare(const std::vector<std::string>& argv);

  LaunchedCommand(LaunchedCommand&&) noexcept;
  LaunchedCommand& operator=(LaunchedCommand&&) = delete;
  // Kills a child that was never released or is still running unreaped.
  ~LaunchedCommand();

  pid_t pid() const { return pid_; }
  const std::string& path() const { return path_; }

  // Lets the child exec.
  void release();
  // The exit status (128 + signal for a signal) once it has exited; nullopt while running.
  std::optional<int> poll_exit();
  int wait_exit();

 private:
  LaunchedCommand(pid_t pid, int gate, std::string path)
      : pid_(pid), gate_(gate), path_(std::move(path)) {}
  pid_t pid_ = -1;
  int gate_ = -1;  // write end; closing it releases the child
  std::string path_;
  std::optional<int> status_;
};

}  // namespace dynprobe::cli

#include "tools/launched_command.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>

namespace dynprobe::cli {

namespace {

std::optional<std::string> find_in_path(const std::string& name) {
  auto executable = [](const std::string& p) {
    struct stat st;
    return stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(p.c_str(), X_OK) == 0;
  };
  if (name.find('/') != std::string::npos)
    return executable(name) ? std::optional(name) : std::nullopt;
  const char* path = getenv("PATH");
  std::istringstream dirs(path ? path : "/usr/local/bin:/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (executable(candidate)) return candidate;
  }
  return std::nullopt;
}

int exit_code(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

}  // namespace

Result<LaunchedCommand> LaunchedCommand::prepare(const std::vector<std::string>& argv) {
  if (argv.empty()) return fail("no command after --");
  auto path = find_in_path(argv[0]);
  if (!path) return fail(argv[0] + ": command not found or not executable");
  int gate[2];
  if (pipe2(gate, O_CLOEXEC) != 0) return fail(std::string("pipe: ") + strerror(errno));
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  pid_t pid = fork();
  if (pid < 0) return fail(std::string("fork: ") + strerror(errno));
  if (pid == 0) {
    close(gate[1]);
    char c;
    // EOF means go; the parent kills us instead if attaching failed.
    while (read(gate[0], &c, 1) < 0 && errno == EINTR) {
    }
    execv(path->c_str(), cargv.data());
    fprintf(stderr, "dynprobe: exec %s: %s\n", path->c_str(), strerror(errno));
    _exit(127);
  }
  close(gate[0]);
  return LaunchedCommand(pid, gate[1], *path);
}

LaunchedCommand::LaunchedCommand(LaunchedCommand&& o) noexcept
    : pid_(o.pid_), gate_(o.gate_), path_(std::move(o.path_)), status_(o.status_) {
  o.pid_ = -1;
  o.gate_ = -1;
}

LaunchedCommand::~LaunchedCommand() {
  if (pid_ > 0 && !status_) {
    if (gate_ >= 0)
      kill(pid_, SIGKILL);  // never released: it has not run a single instruction of its own
    int st;
    if (gate_ >= 0) waitpid(pid_, &st, 0);
  }
  if (gate_ >= 0) close(gate_);
}

void LaunchedCommand::release() {
  if (gate_ >= 0) close(gate_);
  gate_ = -1;
}

std::optional<int> LaunchedCommand::poll_exit() {
  if (status_) return status_;
  int st;
  pid_t r = waitpid(pid_, &st, WNOHANG);
  if (r == pid_) status_ = exit_code(st);
  return status_;
}

int LaunchedCommand::wait_exit() {
  if (status_) return *status_;
  int st;
  while (waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
  }
  status_ = exit_code(st);
  return *status_;
}

}  // namespace dynprobe::cli

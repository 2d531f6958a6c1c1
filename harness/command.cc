#include "harness/command.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

namespace dynprobe::harness {

namespace {

// An fd closed on scope exit.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  int get() const { return fd_; }
  void reset() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

// Only async-signal-safe calls between fork and exec: a failure is reported
// as one line on the child's stderr and exit status 127.
[[noreturn]] void child_fail(const char* what) {
  const char* why = strerror(errno);
  (void)!write(2, "conformance: ", 13);
  (void)!write(2, what, strlen(what));
  (void)!write(2, ": ", 2);
  (void)!write(2, why, strlen(why));
  (void)!write(2, "\n", 1);
  _exit(127);
}

[[noreturn]] void exec_child(char* const* argv, int out, int err, const char* debug_root) {
  if (dup2(out, 1) < 0 || dup2(err, 2) < 0) child_fail("dup2");
  int devnull = open("/dev/null", O_RDONLY);
  if (devnull >= 0) dup2(devnull, 0);
  // Its own process group, so a timeout can end the command and whatever it started.
  setpgid(0, 0);
  if (debug_root != nullptr) {
    if (unshare(CLONE_NEWNS) != 0) child_fail("unshare(CLONE_NEWNS)");
    // Private propagation first, or the bind mount would appear in the
    // machine's namespace too.
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
      child_fail("making / private");
    if (mount(debug_root, "/usr/lib/debug", nullptr, MS_BIND, nullptr) != 0)
      child_fail("bind-mounting the debug root over /usr/lib/debug");
  }
  execvp(argv[0], argv);
  child_fail(argv[0]);
}

}  // namespace

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

CommandResult run_command(const std::vector<std::string>& argv, const CommandOptions& opts) {
  CommandResult r;
  auto start = std::chrono::steady_clock::now();
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) {
    r.err = "cannot create a pipe";
    return r;
  }
  Fd out_r(out_pipe[0]), out_w(out_pipe[1]);
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    r.err = "cannot create a pipe";
    return r;
  }
  Fd err_r(err_pipe[0]), err_w(err_pipe[1]);

  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  const char* debug_root = opts.debug_root.empty() ? nullptr : opts.debug_root.c_str();

  pid_t pid = fork();
  if (pid < 0) {
    r.err = "cannot fork";
    return r;
  }
  if (pid == 0) exec_child(cargv.data(), out_w.get(), err_w.get(), debug_root);
  setpgid(pid, pid);  // also here, so the group exists before any kill below
  out_w.reset();
  err_w.reset();

  auto deadline = start + std::chrono::duration<double>(opts.timeout_seconds);
  pollfd fds[2] = {{out_r.get(), POLLIN, 0}, {err_r.get(), POLLIN, 0}};
  std::string* sinks[2] = {&r.out, &r.err};
  int open_fds = 2;
  bool termed = false;
  char buf[65536];
  while (open_fds > 0) {
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      // SIGTERM first: dynprobe detaches its probes and flushes on it.
      kill(-pid, termed ? SIGKILL : SIGTERM);
      r.timed_out = true;
      deadline = now + std::chrono::seconds(5);
      termed = true;
    }
    int wait_ms = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count() + 1);
    if (poll(fds, 2, wait_ms) < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        sinks[i]->append(buf, n);
      } else if (n == 0 || errno != EINTR) {
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

}  // namespace dynprobe::harness

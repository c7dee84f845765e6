// fork() for background saves: the child's set-up, its report pipe, reaping.
#include "node/persistence/fork_child.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "node/base/clock.h"
#include "node/base/log.h"

namespace cairn::persist {

namespace {

// In the child: close inherited sockets (keeping `keep`), reset signals.
void PrepareChild(int keep) {
  std::vector<int> fds;
  if (DIR* d = opendir("/proc/self/fd")) {
    int self = dirfd(d);
    while (dirent* ent = readdir(d)) {
      int fd = atoi(ent->d_name);
      if (fd <= 2 || fd == keep || fd == self) continue;
      struct stat st;
      if (fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode)) fds.push_back(fd);
    }
    closedir(d);
  }
  for (int fd : fds) close(fd);
  signal(SIGTERM, SIG_DFL);
  signal(SIGINT, SIG_DFL);
  signal(SIGUSR1, SIG_DFL);
  signal(SIGPIPE, SIG_IGN);
  log::SetRole('C');
}

}  // namespace

uint64_t PrivateDirtyBytes() {
  FILE* f = fopen("/proc/self/smaps_rollup", "r");
  if (f == nullptr) return 0;
  char line[256];
  uint64_t kb = 0;
  while (fgets(line, sizeof(line), f)) {
    if (strncmp(line, "Private_Dirty:", 14) == 0) {
      kb = strtoull(line + 14, nullptr, 10);
      break;
    }
  }
  fclose(f);
  return kb * 1024;
}

Result<std::unique_ptr<ForkedChild>> ForkedChild::Start(
    const std::function<int(ChildReport*)>& body, int64_t* fork_usec) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return Status::IOError(std::string("pipe: ") + strerror(errno));
  int64_t start = base::MonotonicUs();
  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    close(p[0]);
    close(p[1]);
    return Status::IOError(std::string("fork: ") + strerror(e));
  }
  if (pid == 0) {
    close(p[0]);
    PrepareChild(p[1]);
    ChildReport report;
    int code = body(&report);
    ssize_t n = write(p[1], &report, sizeof(report));
    (void)n;
    _exit(code);
  }
  if (fork_usec) *fork_usec = base::MonotonicUs() - start;
  close(p[1]);
  fcntl(p[0], F_SETFL, O_NONBLOCK);
  return std::unique_ptr<ForkedChild>(new ForkedChild(pid, p[0]));
}

ForkedChild::~ForkedChild() {
  if (!done_) Kill();
  if (report_fd_ >= 0) close(report_fd_);
}

void ForkedChild::Reaped(int wstatus, ChildExit* out) {
  done_ = true;
  ChildExit e;
  if (WIFSIGNALED(wstatus)) {
    e.signal = WTERMSIG(wstatus);
  } else {
    e.exit_code = WEXITSTATUS(wstatus);
  }
  ChildReport r;
  if (read(report_fd_, &r, sizeof(r)) == static_cast<ssize_t>(sizeof(r))) e.report = r;
  if (out) *out = e;
}

bool ForkedChild::Poll(ChildExit* out) {
  if (done_) return true;
  int wstatus = 0;
  pid_t r = waitpid(pid_, &wstatus, WNOHANG);
  if (r == 0) return false;
  if (r < 0) {
    // Reaped elsewhere or gone: treat as an error exit.
    done_ = true;
    if (out) *out = ChildExit{};
    return true;
  }
  Reaped(wstatus, out);
  return true;
}

ChildExit ForkedChild::Wait() {
  ChildExit e;
  if (done_) return e;
  int wstatus = 0;
  pid_t r;
  do {
    r = waitpid(pid_, &wstatus, 0);
  } while (r < 0 && errno == EINTR);
  if (r < 0) {
    done_ = true;
    return e;
  }
  Reaped(wstatus, &e);
  return e;
}

void ForkedChild::Kill() {
  if (done_) return;
  kill(pid_, SIGUSR1);
  Wait();
}

}  // namespace cairn::persist

// ForkedChild: runs work in a fork()ed child — a copy-on-write snapshot of the
// parent's memory, as Redis's BGSAVE and AOF rewrite — while the parent keeps
// serving and polls for the child's end from its cron.
//
// DESIGN
// - The child closes every socket it inherited (listeners and clients), so a
//   restarted node can bind its port and a closed client really closes even
//   while a child lives, and resets SIGTERM/SIGINT to their defaults (the
//   parent's handlers would wake the parent's loop through a shared pipe).
// - A child outlives a node killed with -9 and finishes its file, as Redis's
//   does (tests/integration/test_persistence.py pins it); whoever cleans up
//   temp files after a restart spares those of live processes.
// - The child reports through a pipe before it exits: the copy-on-write bytes
//   it ended with (Private_Dirty of /proc/self/smaps_rollup) and a count.
// - The body's return value is the exit code; the child leaves with _exit so
//   no destructor or atexit handler of the parent's state runs twice.
#pragma once

#include <sys/types.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <string>

#include "node/base/status.h"

namespace cairn::persist {

struct ChildReport {
  uint64_t cow_bytes = 0;
  uint64_t items = 0;    // keys written, for the parent's log
  char error[256] = {};  // why the child failed (NUL-terminated; may be empty)

  void SetError(const std::string& msg) {
    size_t n = std::min(msg.size(), sizeof(error) - 1);
    std::memcpy(error, msg.data(), n);
    error[n] = '\0';
  }
};

struct ChildExit {
  int exit_code = -1;  // when !signal
  int signal = 0;      // the signal that ended the child, 0 if it exited
  ChildReport report;  // zero unless the child sent one
  bool ok() const { return signal == 0 && exit_code == 0; }
};

class ForkedChild {
 public:
  // Forks; the child runs body(report) and exits with its return value. Fails
  // (in the parent) when fork() does. *fork_usec gets the time fork() took.
  static Result<std::unique_ptr<ForkedChild>> Start(const std::function<int(ChildReport*)>& body,
                                                    int64_t* fork_usec = nullptr);
  ~ForkedChild();
  ForkedChild(const ForkedChild&) = delete;
  ForkedChild& operator=(const ForkedChild&) = delete;

  pid_t pid() const { return pid_; }
  // Non-blocking: true once the child ended, with *out filled.
  bool Poll(ChildExit* out);
  // Blocks until the child ends.
  ChildExit Wait();
  // Ends the child with SIGUSR1 (Redis's "killed on purpose" signal) and reaps it.
  void Kill();

 private:
  ForkedChild(pid_t pid, int report_fd) : pid_(pid), report_fd_(report_fd) {}
  void Reaped(int wstatus, ChildExit* out);

  pid_t pid_;
  int report_fd_;
  bool done_ = false;
};

// Private_Dirty of this process in bytes (0 if unknown): the copy-on-write
// cost of a forked child.
uint64_t PrivateDirtyBytes();

}  // namespace cairn::persist

// Poller: the client sockets' readiness, in one level-triggered epoll set that
// the Asio loop waits on as a single descriptor.
//
// DESIGN
// - Why: Asio re-arms a descriptor (an epoll_ctl or a speculative read that
//   fails) for every asynchronous operation, one extra system call per request.
//   Redis pays two per request (read, write); with this set Cairn pays the same
//   plus one epoll_wait/epoll_ctl pair per *batch* of ready clients.
// - The event loop thread owns it. A handler is a raw pointer stored in the
//   epoll entry; Remove() must run before the handler dies, and handlers that
//   close during a batch are kept alive until the batch ends (the connection
//   defers its own destruction), so a later event in the same batch is safe.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "node/base/status.h"
#include "node/net/asio.h"

namespace cairn::net {

class Poller {
 public:
  class Handler {
   public:
    virtual void OnReadable() = 0;
    virtual void OnWritable() = 0;
    // Called once after the batch in which QueueFlush(this) was called.
    virtual void OnFlush() = 0;

   protected:
    ~Handler() = default;
  };

  explicit Poller(boost::asio::io_context& io);
  ~Poller();
  Poller(const Poller&) = delete;
  Poller& operator=(const Poller&) = delete;

  Status Init();
  // Watches fd for input (and output when `want_write`), calling h.
  bool Add(int fd, Handler* h);
  void WantWrite(int fd, Handler* h, bool on);
  void Remove(int fd);
  // True while ready events are being handled. Replies produced meanwhile are
  // written after the batch (QueueFlush), as Redis writes in beforeSleep: the
  // peer then wakes once to many replies instead of once per reply.
  bool dispatching() const { return dispatching_; }
  void QueueFlush(Handler* h) { flush_.push_back(h); }
  // Runs after each batch's commands, before their replies are written (the
  // AOF is written here, as Redis's beforeSleep writes it before replying).
  std::function<void()> before_flush;

 private:
  void Arm();
  void Dispatch();

  boost::asio::io_context& io_;
  std::unique_ptr<boost::asio::posix::stream_descriptor> desc_;
  int epfd_ = -1;
  bool dispatching_ = false;
  std::vector<Handler*> flush_;
};

}  // namespace cairn::net

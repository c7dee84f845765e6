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

#include "node/base/status.h"
#include "node/net/asio.h"

namespace cairn::net {

class Poller {
 public:
  class Handler {
   public:
    virtual void OnReadable() = 0;
    virtual void OnWritable() = 0;

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

 private:
  void Arm();
  void Dispatch();

  boost::asio::io_context& io_;
  std::unique_ptr<boost::asio::posix::stream_descriptor> desc_;
  int epfd_ = -1;
};

}  // namespace cairn::net

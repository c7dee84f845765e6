// Connection: one client socket — reads requests, parses RESP, hands commands to
// the dispatcher and writes replies back.
//
// DESIGN
// - Runs on the event-loop thread only; callbacks, not threads. The object owns
//   itself (self_) while open; Teardown() unregisters the client at once and
//   releases the object from a posted task, after the current event batch.
// - Read path: bytes land in `qbuf_` after `qlen_`; every complete command is
//   parsed (zero-copy views into qbuf_) and executed in order (pipelining); a
//   blocked client stops consuming its buffer until it is woken.
// - The socket is non-blocking and driven like Redis's event loop through the
//   Poller (level-triggered epoll): one read per readiness event; replies are
//   written directly, and only what the kernel does not take waits in
//   `writing_` for writability (what arrives meanwhile waits in `out`).
// - Limits: client-query-buffer-limit and client-output-buffer-limit close the
//   client as Redis does; a protocol error replies Redis's message and closes
//   after the reply is written.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "node/commands/client_state.h"
#include "node/commands/dispatcher.h"
#include "node/commands/server_state.h"
#include "node/net/asio.h"
#include "node/net/poller.h"

namespace cairn::net {

class Connection : public cmd::ClientIo,
                   public Poller::Handler,
                   public std::enable_shared_from_this<Connection> {
 public:
  // Takes ownership of the connected, accepted socket `fd`.
  Connection(int fd, std::string addr, std::string laddr, boost::asio::io_context& io,
             Poller& poller, cmd::ServerState& server, cmd::Dispatcher& dispatcher);
  ~Connection();

  // Registers the client and starts reading; the connection keeps itself alive
  // until it closes.
  void Start();

  // cmd::ClientIo
  void RequestFlush() override;
  void Close(bool after_reply) override;
  size_t PendingOutput() const override {
    return writing_.size() - write_pos_ + client_.out.size();
  }
  size_t QueryBufferLength() const override { return qlen_ - qpos_; }
  size_t QueryBufferFree() const override { return qbuf_.size() - qlen_; }
  int Fd() const override { return fd_; }

  // Poller::Handler
  void OnReadable() override;
  void OnWritable() override;
  void OnFlush() override;

  cmd::ClientState& client() { return client_; }

 private:
  void SetKeepAlive(int seconds);
  void OnRead(size_t n);
  // Parses and executes every complete command in the buffer.
  void ProcessInput();
  void MaybeWrite();
  bool CheckOutputLimits();
  void Teardown();
  // Gives the socket to client_.handoff (PSYNC): no longer a client.
  void HandOff();

  int fd_;
  boost::asio::io_context& io_;
  Poller& poller_;
  cmd::ServerState& server_;
  cmd::Dispatcher& dispatcher_;
  cmd::ClientState client_;
  std::shared_ptr<Connection> self_;  // alive until Teardown (then released later)
  std::string qbuf_;
  size_t qlen_ = 0;  // bytes of qbuf_ holding data
  size_t qpos_ = 0;  // bytes already consumed
  std::vector<std::string_view> argv_;
  std::string inline_scratch_;
  std::string writing_;   // output the kernel did not take yet
  size_t write_pos_ = 0;  // bytes of writing_ already sent
  bool closing_ = false;  // no more input is processed
  bool closed_ = false;   // unregistered, socket closed
  bool flush_posted_ = false;
  bool flush_queued_ = false;  // waiting for the end of the poller's batch
};

}  // namespace cairn::net

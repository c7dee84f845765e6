// Connection: one client socket — reads requests, parses RESP, hands commands to
// the dispatcher and writes replies back.
//
// DESIGN
// - Runs on the event-loop thread only; callbacks, not threads. The object is
//   owned by shared_ptr held by its pending Asio operations; Close() unregisters
//   the client at once and the object dies when the last operation returns.
// - Read path: bytes land in `qbuf_` after `qlen_`; every complete command is
//   parsed (zero-copy views into qbuf_) and executed in order (pipelining); a
//   blocked client stops consuming its buffer until it is woken.
// - The socket is non-blocking and driven like Redis's event loop: wait for
//   readability, then one read; replies are written directly, and only what
//   the kernel does not take goes to an async_write (`writing_`, one in flight;
//   what arrives meanwhile waits in `out`). This saves the speculative read
//   and the completion hop per request that plain async_read/async_write cost.
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

namespace cairn::net {

class Connection : public std::enable_shared_from_this<Connection>, public cmd::ClientIo {
 public:
  Connection(boost::asio::ip::tcp::socket socket, cmd::ServerState& server,
             cmd::Dispatcher& dispatcher);
  ~Connection() override;

  // Registers the client and starts reading. `reject` (if non-empty) is written
  // and the connection closed instead (maxclients, protected mode).
  void Start(const std::string& reject = {});

  // cmd::ClientIo
  void RequestFlush() override;
  void Close(bool after_reply) override;
  size_t PendingOutput() const override { return writing_.size() + client_.out.size(); }
  size_t QueryBufferLength() const override { return qlen_ - qpos_; }
  size_t QueryBufferFree() const override { return qbuf_.size() - qlen_; }
  int Fd() const override;

  cmd::ClientState& client() { return client_; }
  // Applies tcp-keepalive to the socket (seconds; 0 = off).
  void SetKeepAlive(int seconds);

 private:
  void DoRead();
  void OnReadable(const boost::system::error_code& ec);
  void OnRead(const boost::system::error_code& ec, size_t n);
  // Parses and executes every complete command in the buffer.
  void ProcessInput();
  void MaybeWrite();
  void OnWrite(const boost::system::error_code& ec, size_t n);
  bool CheckOutputLimits();
  void Teardown();

  boost::asio::ip::tcp::socket socket_;
  cmd::ServerState& server_;
  cmd::Dispatcher& dispatcher_;
  cmd::ClientState client_;
  std::string qbuf_;
  size_t qlen_ = 0;  // bytes of qbuf_ holding data
  size_t qpos_ = 0;  // bytes already consumed
  std::vector<std::string_view> argv_;
  std::string inline_scratch_;
  std::string writing_;
  bool write_in_flight_ = false;
  bool read_in_flight_ = false;
  bool closing_ = false;  // no more input is processed
  bool closed_ = false;   // unregistered, socket closed
  bool flush_posted_ = false;
};

}  // namespace cairn::net

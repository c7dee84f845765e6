// Listener: accepts TCP clients on every `bind` address, and local clients on
// the `unixsocket` path, and applies admission rules (maxclients, protected mode
// for TCP) before a client exists.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "node/base/status.h"
#include "node/commands/dispatcher.h"
#include "node/commands/server_state.h"
#include "node/net/asio.h"
#include "node/net/poller.h"

namespace cairn::net {

// Opens a listening socket on every address of `bind` (a leading '-' marks an
// address whose failure is tolerated, "*" is every IPv4 address, "::*" every
// IPv6 one), as Redis's bind directive.
Result<std::vector<std::unique_ptr<boost::asio::ip::tcp::acceptor>>> BindAll(
    boost::asio::io_context& io, const std::vector<std::string>& bind, int port, int backlog);

class Listener {
 public:
  Listener(boost::asio::io_context& io, Poller& poller, cmd::ServerState& server,
           cmd::Dispatcher& dispatcher);

  // Binds every address of `bind` on `port` (BindAll) and starts accepting.
  Status Listen(const std::vector<std::string>& bind, int port);
  // Also accepts on a unix socket at `path` with permissions `perm` (0: the
  // umask's), replacing a stale socket file; the file goes at Stop().
  Status ListenUnix(const std::string& path, int perm);
  // The port actually bound (useful with port 0).
  int port() const { return port_; }
  void Stop();

 private:
  void Accept(size_t i);
  void AcceptUnix();
  // An accept failed (out of descriptors, memory): log and call `again` 100 ms later.
  void AcceptLater(const boost::system::error_code& ec, std::function<void()> again);
  // Why a new client is refused ("" = admitted); `peer` is null for a unix socket
  // (maxclients only: protected mode is for TCP).
  std::string AdmissionError(const boost::asio::ip::tcp::endpoint* peer) const;
  // Starts a client on an accepted socket, or refuses it with `reject`.
  template <typename Socket>
  void Admit(Socket& sock, const std::string& reject, std::string peer, std::string local);

  boost::asio::io_context& io_;
  Poller& poller_;
  cmd::ServerState& server_;
  cmd::Dispatcher& dispatcher_;
  std::vector<std::unique_ptr<boost::asio::ip::tcp::acceptor>> acceptors_;
  std::unique_ptr<boost::asio::local::stream_protocol::acceptor> unix_acceptor_;
  std::string unix_path_;
  int port_ = 0;
};

}  // namespace cairn::net

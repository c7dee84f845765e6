// SecureService: the node's side of the secure channel — the secure port where
// replicas (and tunnels) connect, the connector replication uses when
// secure-master-public-key is set, the shared bandwidth cap and INFO secure.
//
// DESIGN
// - A connection accepted on the secure port becomes an ordinary client: the
//   channel's relay copies between the SecureStream and one end of a socketpair,
//   and a net::Connection serves the other end with the peer's real address. The
//   commands (AUTH, REPLCONF, PSYNC ...), limits and the PSYNC hand-off work as on
//   the plain port; requirepass still applies; protected-mode does not (the peer
//   proved its key).
// - On a replica, replication's Connector is a ChannelConnector: with
//   secure-master-public-key set it connects over TCP, runs the handshake and hands
//   the SecureStream to the engine; without it, plain TCP.
// - Keys are read at startup (a key file open to group or others stops startup);
//   secure-allow, secure-master-public-key, the compression switch and level, the
//   timers and the bandwidth cap follow CONFIG SET (new channels, except the cap,
//   which applies at once).
#pragma once

#include <list>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "crypto/channel_endpoints.h"
#include "node/commands/dispatcher.h"
#include "node/commands/server_state.h"
#include "node/config/config.h"
#include "node/net/asio.h"
#include "node/net/poller.h"

namespace cairn::server {

class SecureService {
 public:
  SecureService(boost::asio::io_context& io, net::Poller& poller, cmd::ServerState& state,
                cmd::Dispatcher& dispatcher, config::Config& config);
  ~SecureService();

  // Reads keys; binds the secure port when secure-port is set.
  Status Init();
  void Stop();
  int port() const { return acceptor_ ? acceptor_->port() : 0; }

  // What replication connects with: the channel or plain TCP, per config.
  std::unique_ptr<net::Connector> MakeConnector();
  // CONFIG SET of a secure-* directive.
  Status ApplyConfig();
  // INFO secure fields.
  std::vector<std::pair<std::string, std::string>> InfoFields();

 private:
  friend class ChannelConnector;
  crypto::ChannelOptions Options() const;
  // The initiator settings for a replica's link, when the channel is configured.
  Result<std::optional<crypto::InitiatorConfig>> InitiatorFor(const std::string& host, int port);
  void OnAccept(std::unique_ptr<crypto::SecureStream> stream, const crypto::AllowedPeer& peer,
                std::shared_ptr<crypto::LinkStats> stats);
  void Track(std::shared_ptr<crypto::LinkStats> stats);
  Result<std::vector<crypto::AllowedPeer>> Peers() const;

  boost::asio::io_context& io_;
  net::Poller& poller_;
  cmd::ServerState& state_;
  cmd::Dispatcher& dispatcher_;
  config::Config& config_;
  std::optional<crypto::KeyPair> local_;
  bool locked_ = false;  // local_'s private key is mlock()ed
  crypto::Key psk_{};
  std::shared_ptr<crypto::TokenBucket> bucket_ = std::make_shared<crypto::TokenBucket>();
  std::shared_ptr<crypto::HandshakeCounters> counters_ =
      std::make_shared<crypto::HandshakeCounters>();
  std::unique_ptr<crypto::SecureAcceptor> acceptor_;
  std::list<std::shared_ptr<crypto::LinkStats>> links_;
  // Counters of links that closed.
  crypto::LinkStats closed_;
};

}  // namespace cairn::server

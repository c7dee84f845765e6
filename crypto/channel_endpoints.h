// The two ends of a secure channel over TCP: Initiate() runs the replica's side of
// the handshake on a connected socket; SecureAcceptor is the master's port, with
// the handshake's bounds (docs/secure-channel.md): at most max_pending
// unauthenticated connections (per_ip of them from one address), a fixed
// 128-byte buffer each, handshake_timeout, mac1 checked before any Diffie-Hellman
// and a cap on Diffie-Hellman work per second.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include "crypto/handshake.h"
#include "crypto/secure_stream.h"
#include "node/base/status.h"
#include "node/net/asio.h"

namespace cairn::crypto {

// Process-wide handshake counters (INFO secure).
struct HandshakeCounters {
  uint64_t done = 0;
  uint64_t failed = 0;    // broken, stalled or unauthenticated attempts
  uint64_t rejected = 0;  // refused by policy: mac1, unknown key, replay, limits
};

struct InitiatorConfig {
  Key local_private{};
  Key remote_public{};
  Key psk{};
  ChannelOptions options;
  std::shared_ptr<TokenBucket> bucket;
  std::shared_ptr<HandshakeCounters> counters;
  std::string label;  // for the link's stats ("master" ...)
  ~InitiatorConfig() {
    Wipe(local_private.data(), local_private.size());
    Wipe(psk.data(), psk.size());
  }
};

using InitiateHandler =
    std::function<void(const boost::system::error_code&, std::unique_ptr<SecureStream>,
                       const std::string& why, std::shared_ptr<LinkStats>)>;
// Exactly one call of `h`. On failure `why` says what to check.
void Initiate(boost::asio::ip::tcp::socket socket, const InitiatorConfig& config,
              InitiateHandler h);

struct ResponderConfig {
  KeyPair local;
  Key psk{};
  std::vector<AllowedPeer> peers;
  ChannelOptions options;
  size_t max_pending = 64;
  size_t per_ip = 4;
  int handshake_rate = 100;  // Diffie-Hellman operations per second
  ~ResponderConfig() { Wipe(psk.data(), psk.size()); }
};

class SecureAcceptor {
 public:
  using OnAccept = std::function<void(std::unique_ptr<SecureStream>, const AllowedPeer& peer,
                                      std::shared_ptr<LinkStats>)>;

  SecureAcceptor(boost::asio::io_context& io, const ResponderConfig& config,
                 std::shared_ptr<TokenBucket> bucket, std::shared_ptr<HandshakeCounters> counters,
                 OnAccept on_accept);
  ~SecureAcceptor();

  // Takes listening acceptors (net::BindAll) and starts accepting.
  void Start(std::vector<std::unique_ptr<boost::asio::ip::tcp::acceptor>> acceptors);
  void Stop();
  // New peers and options for later handshakes; peers that stay keep their
  // replay state. The key and psk stay as they were at construction.
  void SetPeers(std::vector<AllowedPeer> peers);
  void SetOptions(const ChannelOptions& options) { options_ = options; }
  int port() const;
  size_t pending() const { return pending_.size(); }

 private:
  struct Pending;
  void Accept(size_t i);
  void Begin(boost::asio::ip::tcp::socket socket);
  void Finish(const std::shared_ptr<Pending>& p);

  boost::asio::io_context& io_;
  Responder responder_;
  ChannelOptions options_;
  size_t max_pending_, per_ip_;
  TokenBucket dh_budget_;  // handshake_rate "bytes" = DH operations per second
  std::shared_ptr<TokenBucket> bucket_;
  std::shared_ptr<HandshakeCounters> counters_;
  OnAccept on_accept_;
  std::vector<std::unique_ptr<boost::asio::ip::tcp::acceptor>> acceptors_;
  std::list<std::shared_ptr<Pending>> pending_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  int64_t last_log_ms_ = 0;
};

}  // namespace cairn::crypto

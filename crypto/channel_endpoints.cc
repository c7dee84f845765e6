// Handshake drivers of the secure channel over TCP; see channel_endpoints.h.
#include "crypto/channel_endpoints.h"

#include <array>
#include <chrono>

#include "node/base/clock.h"
#include "node/base/log.h"

namespace cairn::crypto {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

namespace {

std::string AddressOf(const tcp::socket& s) {
  error_code ec;
  auto ep = s.remote_endpoint(ec);
  if (ec) return "?";
  auto a = ep.address();
  if (a.is_v6() && a.to_v6().is_v4_mapped()) {
    ep = tcp::endpoint(asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6()), ep.port());
  }
  return net::EndpointText(ep);
}

std::string IpOf(const std::string& address) { return address.substr(0, address.rfind(':')); }

}  // namespace

// ---- initiator ----

void Initiate(tcp::socket socket, const InitiatorConfig& config, InitiateHandler h) {
  struct State {
    tcp::socket socket;
    asio::steady_timer timer;
    std::unique_ptr<Initiator> initiator;
    Bytes out;
    std::array<uint8_t, kResponseLen> in{};
    InitiateHandler done;
    InitiatorConfig config;
    bool finished = false;
    bool timed_out = false;
    State(tcp::socket s, InitiateHandler h)
        : socket(std::move(s)), timer(socket.get_executor()), done(std::move(h)) {}
    void Finish(const error_code& ec, std::unique_ptr<SecureStream> st, const std::string& why,
                std::shared_ptr<LinkStats> stats) {
      if (finished) return;
      finished = true;
      timer.cancel();
      if (config.counters) (ec ? config.counters->failed : config.counters->done)++;
      done(ec, std::move(st), why, std::move(stats));
    }
  };
  auto s = std::make_shared<State>(std::move(socket), std::move(h));
  s->config = config;
  auto init = Initiator::Create(config.local_private, config.remote_public, config.psk);
  Result<Bytes> msg = init.ok() ? (*init)->WriteInitiation(Tai64nNow()) : init.status();
  if (!msg.ok()) {
    asio::post(s->socket.get_executor(), [s, why = msg.status().message()] {
      s->Finish(asio::error::invalid_argument, nullptr, why, nullptr);
    });
    return;
  }
  s->initiator = std::move(*init);
  s->out = std::move(*msg);
  s->timer.expires_after(std::chrono::milliseconds(config.options.handshake_timeout_ms));
  s->timer.async_wait([s](const error_code& ec) {
    if (ec || s->finished) return;
    s->timed_out = true;
    error_code ignore;
    s->socket.close(ignore);
  });
  asio::async_write(s->socket, asio::buffer(s->out), [s](const error_code& ec, size_t) {
    if (ec) {
      s->Finish(ec, nullptr, "sending the handshake: " + ec.message(), nullptr);
      return;
    }
    asio::async_read(s->socket, asio::buffer(s->in), [s](const error_code& rec, size_t) {
      if (s->timed_out) {
        s->Finish(asio::error::timed_out, nullptr,
                  "no handshake response within " +
                      std::to_string(s->config.options.handshake_timeout_ms) +
                      " ms (secure-handshake-timeout)",
                  nullptr);
        return;
      }
      if (rec) {
        std::string pub = "?";
        if (auto p = PublicFromPrivate(s->config.local_private); p.ok()) pub = KeyToBase64(*p);
        s->Finish(rec, nullptr,
                  "the peer closed the connection during the handshake (" + rec.message() +
                      "): check that this node's public key " + pub +
                      " is in its secure-allow list, that secure-master-public-key is its key, "
                      "and that this clock is not behind the last handshake",
                  nullptr);
        return;
      }
      auto keys = s->initiator->ReadResponse(ByteView(s->in.data(), s->in.size()));
      if (!keys.ok()) {
        s->Finish(asio::error::access_denied, nullptr, keys.status().message(), nullptr);
        return;
      }
      auto stats = std::make_shared<LinkStats>();
      stats->label = s->config.label;
      stats->address = AddressOf(s->socket);
      stats->handshake_unix_ms = base::NowMs();
      auto stream = std::make_unique<SecureStream>(std::move(s->socket), std::move(*keys),
                                                   s->config.options, s->config.bucket, stats);
      s->Finish(error_code(), std::move(stream), {}, stats);
    });
  });
}

// ---- responder ----

struct SecureAcceptor::Pending {
  tcp::socket socket;
  asio::steady_timer timer;
  std::array<uint8_t, kInitiationLen> buf{};
  std::string address;
  bool done = false;
  Pending(tcp::socket s) : socket(std::move(s)), timer(socket.get_executor()) {}
};

SecureAcceptor::SecureAcceptor(asio::io_context& io, const ResponderConfig& config,
                               std::shared_ptr<TokenBucket> bucket,
                               std::shared_ptr<HandshakeCounters> counters, OnAccept on_accept)
    : io_(io),
      responder_(config.local, config.psk),
      options_(config.options),
      max_pending_(config.max_pending),
      per_ip_(config.per_ip),
      bucket_(std::move(bucket)),
      counters_(counters ? std::move(counters) : std::make_shared<HandshakeCounters>()),
      on_accept_(std::move(on_accept)) {
  responder_.SetPeers(config.peers);
  dh_budget_.SetRate(static_cast<uint64_t>(std::max(1, config.handshake_rate)),
                     std::max(1, config.handshake_rate));
}

SecureAcceptor::~SecureAcceptor() { Stop(); }

void SecureAcceptor::SetPeers(std::vector<AllowedPeer> peers) {
  responder_.SetPeers(std::move(peers));
}

int SecureAcceptor::port() const {
  if (acceptors_.empty()) return 0;
  error_code ec;
  return acceptors_[0]->local_endpoint(ec).port();
}

void SecureAcceptor::Start(std::vector<std::unique_ptr<tcp::acceptor>> acceptors) {
  acceptors_ = std::move(acceptors);
  for (size_t i = 0; i < acceptors_.size(); ++i) Accept(i);
}

void SecureAcceptor::Stop() {
  *alive_ = false;
  alive_ = std::make_shared<bool>(true);
  for (auto& a : acceptors_) {
    error_code ec;
    a->close(ec);
  }
  acceptors_.clear();
  for (auto& p : pending_) {
    error_code ec;
    p->done = true;
    p->timer.cancel();
    p->socket.close(ec);
  }
  pending_.clear();
}

void SecureAcceptor::Accept(size_t i) {
  acceptors_[i]->async_accept([this, i, alive = alive_](const error_code& ec, tcp::socket sock) {
    if (!*alive || ec == asio::error::operation_aborted) return;
    if (ec) {
      log::Crypto().warn("Accepting secure channel connection: {}", ec.message());
      auto t = std::make_shared<asio::steady_timer>(io_, std::chrono::milliseconds(100));
      t->async_wait([this, i, t, alive](const error_code& te) {
        if (!te && *alive && i < acceptors_.size()) Accept(i);
      });
      return;
    }
    Begin(std::move(sock));
    if (i < acceptors_.size()) Accept(i);
  });
}

void SecureAcceptor::Begin(tcp::socket sock) {
  std::string address = AddressOf(sock);
  std::string ip = IpOf(address);
  size_t from_ip = 0;
  for (const auto& q : pending_) from_ip += IpOf(q->address) == ip;
  if (pending_.size() >= max_pending_ || from_ip >= per_ip_) {
    counters_->rejected++;
    log::Crypto().debug("Secure channel: too many pending handshakes, dropping {}", address);
    error_code ignore;
    sock.close(ignore);
    return;
  }
  auto p = std::make_shared<Pending>(std::move(sock));
  pending_.push_back(p);
  p->address = address;
  auto alive = alive_;
  p->timer.expires_after(std::chrono::milliseconds(options_.handshake_timeout_ms));
  p->timer.async_wait([this, p, alive](const error_code& ec) {
    if (ec || !*alive || p->done) return;
    counters_->failed++;
    log::Crypto().debug("Secure channel: {} sent no complete handshake within {} ms", p->address,
                        options_.handshake_timeout_ms);
    Finish(p);
  });
  asio::async_read(p->socket, asio::buffer(p->buf), [this, p, alive](const error_code& ec, size_t) {
    if (!*alive || p->done) return;
    if (ec) {
      counters_->failed++;
      log::Crypto().debug("Secure channel: {} left during the handshake: {}", p->address,
                          ec.message());
      Finish(p);
      return;
    }
    ByteView msg(p->buf.data(), p->buf.size());
    if (!responder_.CheckMac1(msg)) {
      // A scanner, or a client of another protocol: no reply, no DH.
      counters_->rejected++;
      log::Crypto().debug("Secure channel: {} is not a peer (bad mac1)", p->address);
      Finish(p);
      return;
    }
    if (dh_budget_.Take(1, base::MonotonicUs()) == 0) {
      counters_->rejected++;
      int64_t now = base::NowMs();
      if (now - last_log_ms_ > 10000) {
        last_log_ms_ = now;
        log::Crypto().warn(
            "Secure channel: handshake rate limit reached, refusing {} "
            "(secure-handshake-rate)",
            p->address);
      }
      Finish(p);
      return;
    }
    Refusal why = Refusal::kNone;
    Key who{};
    auto acc = responder_.Accept(msg, &why, &who);
    if (!acc.ok()) {
      (why == Refusal::kAuthFailed || why == Refusal::kMalformed ? counters_->failed
                                                                 : counters_->rejected)++;
      if (why == Refusal::kUnknownKey) {
        log::Crypto().warn(
            "Secure handshake from {} refused: public key {} is not in "
            "secure-allow",
            p->address, KeyToBase64(who));
      } else {
        log::Crypto().warn("Secure handshake from {} refused: {}", p->address,
                           acc.status().message());
      }
      Finish(p);
      return;
    }
    p->done = true;
    p->timer.cancel();
    auto response = std::make_shared<Bytes>(std::move(acc->response));
    auto keys = std::make_shared<TransportKeys>(std::move(acc->keys));
    AllowedPeer peer = responder_.peers()[acc->peer];
    asio::async_write(p->socket, asio::buffer(*response),
                      [this, p, alive, response, keys, peer](const error_code& wec, size_t) {
                        if (!*alive) return;
                        if (wec) {
                          counters_->failed++;
                          Finish(p);
                          return;
                        }
                        auto stats = std::make_shared<LinkStats>();
                        stats->label = peer.label;
                        stats->address = p->address;
                        stats->handshake_unix_ms = base::NowMs();
                        auto stream = std::make_unique<SecureStream>(
                            std::move(p->socket), std::move(*keys), options_, bucket_, stats);
                        // Done once the peer's first record opens: a replica with another
                        // PSK fails on our response and never sends one.
                        std::string who =
                            (peer.label.empty() ? "peer" : peer.label) + " (" + p->address + ")";
                        auto counters = counters_;
                        stream->OnConfirmation(
                            [counters, who] {
                              counters->done++;
                              log::Crypto().info("Secure channel established with {}", who);
                            },
                            [counters, who] {
                              counters->failed++;
                              log::Crypto().warn(
                                  "Secure channel with {} ended before its first record: the "
                                  "peer refused our response (different secure-psk-file?)",
                                  who);
                            });
                        pending_.remove(p);
                        on_accept_(std::move(stream), peer, stats);
                      });
  });
}

void SecureAcceptor::Finish(const std::shared_ptr<Pending>& p) {
  p->done = true;
  error_code ignore;
  p->timer.cancel();
  p->socket.close(ignore);
  pending_.remove(p);  // queued handlers hold their own reference
}

}  // namespace cairn::crypto

// The node's secure port and channel connector; see secure_service.h.
#include "node/server/secure_service.h"

#include <sodium.h>
#include <sys/socket.h>

#include <cstdio>

#include "crypto/relay.h"
#include "node/base/clock.h"
#include "node/base/log.h"
#include "node/commands/info.h"
#include "node/net/byte_stream.h"
#include "node/net/connection.h"
#include "node/net/listener.h"

namespace cairn::server {

namespace asio = boost::asio;
using boost::system::error_code;

// Replication's connector: the channel when secure-master-public-key is set.
class ChannelConnector : public net::Connector {
 public:
  ChannelConnector(SecureService& svc, asio::io_context& io) : svc_(svc), tcp_(io) {}

  void Connect(const std::string& host, int port, int timeout_ms, Handler h) override {
    auto initiator = svc_.InitiatorFor(host, port);
    if (!initiator.ok()) {
      log::Repl().warn("Secure channel to MASTER {}:{}: {}", host, port,
                       initiator.status().message());
      asio::post(svc_.io_, [h = std::move(h)] { h(asio::error::access_denied, nullptr); });
      return;
    }
    if (!initiator->has_value()) {
      tcp_.Connect(host, port, timeout_ms, std::move(h));
      return;
    }
    auto cfg = std::make_shared<crypto::InitiatorConfig>();
    *cfg = std::move(**initiator);
    SecureService* svc = &svc_;
    tcp_.Connect(host, port, timeout_ms,
                 [svc, cfg, host, port, h = std::move(h)](
                     const error_code& ec, std::unique_ptr<net::ByteStream> stream) mutable {
                   if (ec) {
                     h(ec, nullptr);
                     return;
                   }
                   auto* tcp = static_cast<net::TcpStream*>(stream.get());
                   crypto::Initiate(
                       tcp->Release(), *cfg,
                       [svc, host, port, h = std::move(h)](
                           const error_code& hec, std::unique_ptr<crypto::SecureStream> secure,
                           const std::string& why, std::shared_ptr<crypto::LinkStats> stats) {
                         if (hec) {
                           log::Repl().warn("Secure handshake with MASTER {}:{} failed: {}", host,
                                            port, why);
                           h(hec, nullptr);
                           return;
                         }
                         log::Repl().info("Secure channel to MASTER {}:{} established", host, port);
                         svc->Track(std::move(stats));
                         h(hec, std::move(secure));
                       });
                 });
  }

 private:
  SecureService& svc_;
  net::TcpConnector tcp_;
};

SecureService::SecureService(asio::io_context& io, net::Poller& poller, cmd::ServerState& state,
                             cmd::Dispatcher& dispatcher, config::Config& config)
    : io_(io), poller_(poller), state_(state), dispatcher_(dispatcher), config_(config) {
  closed_.open = false;
}

SecureService::~SecureService() {
  Stop();
  if (local_ && locked_) sodium_munlock(local_->private_key.data(), local_->private_key.size());
  crypto::Wipe(psk_.data(), psk_.size());
}

crypto::ChannelOptions SecureService::Options() const {
  const auto& v = config_.v();
  crypto::ChannelOptions o;
  o.compress = v.secure_compression;
  o.compression_level = v.secure_compression_level;
  o.keepalive_s = v.secure_keepalive;
  o.timeout_s = v.secure_timeout;
  o.rekey_interval_s = v.secure_rekey_interval;
  o.handshake_timeout_ms = v.secure_handshake_timeout * 1000;
  return o;
}

Result<std::vector<crypto::AllowedPeer>> SecureService::Peers() const {
  std::vector<crypto::AllowedPeer> peers;
  for (const auto& [key, label] : config_.v().secure_allow) {
    auto k = crypto::KeyFromBase64(key);
    if (!k.ok())
      return Status::InvalidArgument("secure-allow " + key + ": " + k.status().message());
    peers.push_back({*k, label});
  }
  return peers;
}

Status SecureService::Init() {
  const auto& v = config_.v();
  if (Status st = crypto::InitSodium(); !st.ok()) return st;
  bucket_->SetRate(static_cast<uint64_t>(v.secure_max_bandwidth));
  if (!v.secure_private_key.empty()) {
    auto key = crypto::ReadKeyFile(v.secure_private_key);
    if (!key.ok()) return Status::InvalidArgument("secure-private-key: " + key.status().message());
    auto pair = crypto::KeyPairFromPrivate(*key);
    crypto::Wipe(key->data(), key->size());
    if (!pair.ok()) return pair.status();
    local_ = *pair;
    // Keep the long-lived private key out of swap (best effort: RLIMIT_MEMLOCK).
    locked_ = sodium_mlock(local_->private_key.data(), local_->private_key.size()) == 0;
  }
  if (!v.secure_psk_file.empty()) {
    auto psk = crypto::ReadKeyFile(v.secure_psk_file);
    if (!psk.ok()) return Status::InvalidArgument("secure-psk-file: " + psk.status().message());
    psk_ = *psk;
    crypto::Wipe(psk->data(), psk->size());
  }
  if (!v.secure_master_public_key.empty()) {
    if (!local_) {
      return Status::InvalidArgument(
          "secure-master-public-key is set but secure-private-key is not: a replica needs its "
          "own key (cairn genkey > node.key) to reach its master through the channel");
    }
    if (auto k = crypto::KeyFromBase64(v.secure_master_public_key); !k.ok()) {
      return Status::InvalidArgument("secure-master-public-key: " + k.status().message());
    }
  }
  if (v.secure_port == 0) return Status::Ok();
  if (!local_) {
    return Status::InvalidArgument(
        "secure-port is set but secure-private-key is not: create one with "
        "`cairn genkey > /etc/cairn/node.key && chmod 600 /etc/cairn/node.key`");
  }
  auto peers = Peers();
  if (!peers.ok()) return peers.status();
  if (peers->empty()) {
    log::Crypto().warn(
        "secure-port {} is open but no secure-allow line lists a peer: every handshake will be "
        "refused",
        v.secure_port);
  }
  crypto::ResponderConfig rc;
  rc.local = *local_;
  rc.psk = psk_;
  rc.peers = std::move(*peers);
  rc.options = Options();
  rc.max_pending = static_cast<size_t>(v.secure_max_pending_handshakes);
  rc.handshake_rate = v.secure_handshake_rate;
  acceptor_ = std::make_unique<crypto::SecureAcceptor>(
      io_, rc, bucket_, counters_,
      [this](std::unique_ptr<crypto::SecureStream> s, const crypto::AllowedPeer& p,
             std::shared_ptr<crypto::LinkStats> st) { OnAccept(std::move(s), p, std::move(st)); });
  auto acceptors = net::BindAll(io_, v.secure_bind, v.secure_port, v.tcp_backlog);
  if (!acceptors.ok()) return Status::IOError("secure-port: " + acceptors.status().message());
  acceptor_->Start(std::move(*acceptors));
  log::Crypto().info("Secure channel listening on port {} (public key {})", acceptor_->port(),
                     crypto::KeyToBase64(local_->public_key));
  return Status::Ok();
}

void SecureService::Stop() {
  if (acceptor_) acceptor_->Stop();
}

Status SecureService::ApplyConfig() {
  bucket_->SetRate(static_cast<uint64_t>(config_.v().secure_max_bandwidth));
  if (acceptor_) {
    auto peers = Peers();
    if (!peers.ok()) return peers.status();
    acceptor_->SetPeers(std::move(*peers));
    acceptor_->SetOptions(Options());
  }
  if (!config_.v().secure_master_public_key.empty()) {
    if (auto k = crypto::KeyFromBase64(config_.v().secure_master_public_key); !k.ok()) {
      return Status::InvalidArgument("secure-master-public-key: " + k.status().message());
    }
  }
  return Status::Ok();
}

Result<std::optional<crypto::InitiatorConfig>> SecureService::InitiatorFor(const std::string& host,
                                                                           int port) {
  const auto& v = config_.v();
  if (v.secure_master_public_key.empty()) return std::optional<crypto::InitiatorConfig>();
  if (!local_) return Status::InvalidArgument("secure-private-key is not set");
  auto master = crypto::KeyFromBase64(v.secure_master_public_key);
  if (!master.ok())
    return Status::InvalidArgument("secure-master-public-key: " + master.status().message());
  std::optional<crypto::InitiatorConfig> c(std::in_place);
  c->local_private = local_->private_key;
  c->remote_public = *master;
  c->psk = psk_;
  c->options = Options();
  c->bucket = bucket_;
  c->counters = counters_;
  c->label = "master " + host + ":" + std::to_string(port);
  return c;
}

void SecureService::OnAccept(std::unique_ptr<crypto::SecureStream> stream,
                             const crypto::AllowedPeer& /*peer: its label is in stats*/,
                             std::shared_ptr<crypto::LinkStats> stats) {
  const auto& v = config_.v();
  if (state_.clients.size() >= static_cast<size_t>(v.maxclients)) {
    stream->CloseWithReason("max number of clients reached");
    state_.stats.rejected_connections++;
    return;
  }
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) {
    log::Crypto().warn("Secure channel: socketpair: {}", std::strerror(errno));
    stream->CloseWithReason("server error");
    return;
  }
  std::string laddr = stream->LocalAddress();
  auto conn = std::make_shared<net::Connection>(sv[0], stats->address, laddr, io_, poller_, state_,
                                                dispatcher_);
  conn->client().secure_compressed = v.secure_compression;
  conn->Start();
  asio::local::stream_protocol::socket relay_end(io_);
  error_code ec;
  relay_end.assign(asio::local::stream_protocol(), sv[1], ec);
  if (ec) {
    ::close(sv[1]);
    stream->CloseWithReason("server error");
    return;
  }
  auto local = std::make_unique<net::LocalStream>(std::move(relay_end), stats->address, laddr);
  Track(std::move(stats));
  crypto::StartRelay(std::move(stream), std::move(local));
}

std::unique_ptr<net::Connector> SecureService::MakeConnector() {
  return std::make_unique<ChannelConnector>(*this, io_);
}

void SecureService::Track(std::shared_ptr<crypto::LinkStats> stats) {
  links_.push_back(std::move(stats));
}

std::vector<std::pair<std::string, std::string>> SecureService::InfoFields() {
  // Fold closed links into the totals.
  for (auto it = links_.begin(); it != links_.end();) {
    if ((*it)->open) {
      ++it;
      continue;
    }
    closed_.app_in += (*it)->app_in;
    closed_.app_out += (*it)->app_out;
    closed_.wire_in += (*it)->wire_in;
    closed_.wire_out += (*it)->wire_out;
    closed_.rekeys += (*it)->rekeys;
    it = links_.erase(it);
  }
  crypto::LinkStats total = closed_;
  for (const auto& l : links_) {
    total.app_in += l->app_in;
    total.app_out += l->app_out;
    total.wire_in += l->wire_in;
    total.wire_out += l->wire_out;
    total.rekeys += l->rekeys;
  }
  const auto& v = config_.v();
  std::vector<std::pair<std::string, std::string>> f;
  auto add = [&f](std::string k, const auto& val) { cmd::AddInfoField(f, std::move(k), val); };
  add("secure_port", port());
  add("secure_public_key", local_ ? crypto::KeyToBase64(local_->public_key) : std::string());
  add("secure_master_link", v.secure_master_public_key.empty() ? "plain" : "channel");
  add("secure_allowed_peers", v.secure_allow.size());
  add("secure_connected_peers", links_.size());
  add("secure_pending_handshakes", acceptor_ ? acceptor_->pending() : 0);
  add("secure_handshakes_done", counters_->done);
  add("secure_handshakes_failed", counters_->failed);
  add("secure_handshakes_rejected", counters_->rejected);
  add("secure_rekeys", total.rekeys);
  add("secure_compression", v.secure_compression ? "yes" : "no");
  add("secure_bytes_sent_before_compression", total.app_out);
  add("secure_bytes_sent_on_wire", total.wire_out);
  add("secure_bytes_received_on_wire", total.wire_in);
  add("secure_bytes_received_after_decompression", total.app_in);
  char ratio[32];
  std::snprintf(ratio, sizeof ratio, "%.2f",
                total.wire_out > 0
                    ? static_cast<double>(total.app_out) / static_cast<double>(total.wire_out)
                    : 0.0);
  add("secure_compression_ratio", std::string(ratio));
  add("secure_max_bandwidth_bytes", v.secure_max_bandwidth);
  int64_t now = base::NowMs();
  int i = 0;
  for (const auto& l : links_) {
    std::string label = l->label;
    for (char& c : label) {
      if (c == ',' || c == ':' || c == ' ' || c == '\r' || c == '\n') c = '_';
    }
    add("peer" + std::to_string(i++),
        "label=" + label + ",addr=" + l->address +
            ",handshake_age=" + std::to_string((now - l->handshake_unix_ms) / 1000) +
            ",bytes_in=" + std::to_string(l->wire_in) +
            ",bytes_out=" + std::to_string(l->wire_out) + ",app_in=" + std::to_string(l->app_in) +
            ",app_out=" + std::to_string(l->app_out) + ",rekeys=" + std::to_string(l->rekeys));
  }
  return f;
}

}  // namespace cairn::server

// `cairn tunnel`; see tunnel.h.
#include "node/server/tunnel.h"

#include <cxxopts.hpp>
#include <iostream>
#include <memory>

#include "crypto/channel_endpoints.h"
#include "crypto/relay.h"
#include "node/base/log.h"
#include "node/config/config.h"
#include "node/net/asio.h"
#include "node/net/byte_stream.h"
#include "node/net/listener.h"

namespace cairn::server {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr const char* kTunnelHelp =
    "Usage:\n"
    "  cairn tunnel --listen ADDR:PORT --connect HOST:PORT --private-key FILE --peer-key KEY\n"
    "  cairn tunnel --secure-listen ADDR:PORT --forward HOST:PORT --private-key FILE\n"
    "               --allow KEY[:LABEL] [--allow ...]\n"
    "\n"
    "Carries TCP connections through Cairn's secure channel (Noise IKpsk2, zstd), as\n"
    "spiped does: the client side accepts plain connections on --listen and sends each\n"
    "through the channel to the server side, which forwards it as plain TCP to\n"
    "--forward. Keys come from `cairn genkey` / `cairn pubkey`.\n"
    "\n"
    "Example, a stock Redis replica of a stock Redis master across the internet:\n"
    "  master host:  cairn tunnel --secure-listen 0.0.0.0:16379 --forward 127.0.0.1:6379 \\\n"
    "                  --private-key master.key --allow <replica pubkey>:offsite\n"
    "  replica host: cairn tunnel --listen 127.0.0.1:6380 --connect master.example.org:16379 \\\n"
    "                  --private-key replica.key --peer-key <master pubkey>\n"
    "                redis-server --replicaof 127.0.0.1 6380\n"
    "\n";

bool SplitHostPort(const std::string& s, std::string* host, int* port) {
  size_t colon = s.rfind(':');
  if (colon == std::string::npos || colon + 1 == s.size()) return false;
  *host = s.substr(0, colon);
  if (host->size() >= 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);
  }
  char* end = nullptr;
  long p = std::strtol(s.c_str() + colon + 1, &end, 10);
  if (*end != '\0' || p < 0 || p > 65535) return false;
  *port = static_cast<int>(p);
  return !host->empty();
}

int Fail(const std::string& msg) {
  std::cerr << "cairn tunnel: " << msg << "\n";
  return 1;
}

}  // namespace

int RunTunnel(const std::vector<std::string>& args) {
  cxxopts::Options opts("cairn tunnel", "Carry TCP connections through Cairn's secure channel");
  // clang-format off
  opts.add_options()
      ("h,help", "Show this help")
      ("listen", "client side: accept plain TCP on ADDR:PORT", cxxopts::value<std::string>())
      ("connect", "client side: the server side's HOST:PORT", cxxopts::value<std::string>())
      ("peer-key", "client side: the server side's public key", cxxopts::value<std::string>())
      ("secure-listen", "server side: accept the channel on ADDR:PORT", cxxopts::value<std::string>())
      ("forward", "server side: forward each connection to HOST:PORT", cxxopts::value<std::string>())
      ("allow", "server side: a client public key, optionally :LABEL (repeat for more)",
       cxxopts::value<std::vector<std::string>>())
      ("private-key", "this side's private key file (mode 0600)", cxxopts::value<std::string>())
      ("psk-file", "optional pre-shared key file (base64 of 32 bytes, mode 0600)",
       cxxopts::value<std::string>())
      ("compression", "yes|no: compress what this side sends", cxxopts::value<std::string>()->default_value("yes"))
      ("compression-level", "zstd level 1..19", cxxopts::value<int>()->default_value("3"))
      ("max-bandwidth", "cap on what this side sends (8mbit, 2mbps, 0 = none)",
       cxxopts::value<std::string>()->default_value("0"))
      ("keepalive", "seconds of silence before a keepalive", cxxopts::value<int>()->default_value("10"))
      ("timeout", "seconds without hearing from the peer before closing", cxxopts::value<int>()->default_value("60"))
      ("loglevel", "debug|verbose|notice|warning", cxxopts::value<std::string>()->default_value("notice"));
  // clang-format on
  std::vector<const char*> argv{"cairn tunnel"};
  for (const auto& a : args) argv.push_back(a.c_str());
  cxxopts::ParseResult r;
  try {
    r = opts.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const std::exception& e) {
    return Fail(std::string(e.what()) + " (see cairn tunnel --help)");
  }
  if (r.count("help")) {
    std::cout << kTunnelHelp << opts.help();
    return 0;
  }
  bool client = r.count("listen") || r.count("connect");
  bool server = r.count("secure-listen") || r.count("forward");
  if (client == server) {
    return Fail(
        "give either --listen and --connect (client side) or --secure-listen and "
        "--forward (server side); see cairn tunnel --help");
  }
  if (Status s = log::Setup(r["loglevel"].as<std::string>(), ""); !s.ok()) return Fail(s.message());
  if (!r.count("private-key")) return Fail("--private-key is required");
  auto key = crypto::ReadKeyFile(r["private-key"].as<std::string>());
  if (!key.ok()) return Fail(key.status().message());
  auto pair = crypto::KeyPairFromPrivate(*key);
  crypto::Wipe(key->data(), key->size());
  if (!pair.ok()) return Fail(pair.status().message());
  crypto::Key psk{};
  if (r.count("psk-file")) {
    auto p = crypto::ReadKeyFile(r["psk-file"].as<std::string>());
    if (!p.ok()) return Fail(p.status().message());
    psk = *p;
  }
  crypto::ChannelOptions options;
  std::string comp = r["compression"].as<std::string>();
  if (comp != "yes" && comp != "no") return Fail("--compression takes yes or no");
  options.compress = comp == "yes";
  options.compression_level = r["compression-level"].as<int>();
  if (options.compression_level < 1 || options.compression_level > 19) {
    return Fail("--compression-level must be 1..19");
  }
  options.keepalive_s = r["keepalive"].as<int>();
  options.timeout_s = r["timeout"].as<int>();
  int64_t rate = 0;
  if (!config::ParseRate(r["max-bandwidth"].as<std::string>(), &rate)) {
    return Fail("--max-bandwidth takes a rate such as 8mbit, 2mbps or 0");
  }
  auto bucket = std::make_shared<crypto::TokenBucket>();
  bucket->SetRate(static_cast<uint64_t>(rate));
  auto counters = std::make_shared<crypto::HandshakeCounters>();

  asio::io_context io;
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&io](const error_code&, int) { io.stop(); });
  std::string listen_host, target_host;
  int listen_port = 0, target_port = 0;
  const char* listen_opt = client ? "listen" : "secure-listen";
  const char* target_opt = client ? "connect" : "forward";
  if (!r.count(listen_opt) || !r.count(target_opt)) {
    return Fail(std::string("--") + listen_opt + " and --" + target_opt + " go together");
  }
  if (!SplitHostPort(r[listen_opt].as<std::string>(), &listen_host, &listen_port)) {
    return Fail(std::string("--") + listen_opt + " takes ADDR:PORT");
  }
  if (!SplitHostPort(r[target_opt].as<std::string>(), &target_host, &target_port)) {
    return Fail(std::string("--") + target_opt + " takes HOST:PORT");
  }
  auto acceptors = net::BindAll(io, {listen_host}, listen_port, 511);
  if (!acceptors.ok()) return Fail(acceptors.status().message());
  net::TcpConnector connector(io);
  std::unique_ptr<crypto::SecureAcceptor> secure;
  std::vector<std::unique_ptr<tcp::acceptor>> plain;

  if (server) {
    crypto::ResponderConfig rc;
    rc.local = *pair;
    rc.psk = psk;
    rc.options = options;
    if (r.count("allow")) {
      for (const auto& a : r["allow"].as<std::vector<std::string>>()) {
        size_t colon = a.find(':');
        auto k = crypto::KeyFromBase64(a.substr(0, colon));
        if (!k.ok()) return Fail("--allow " + a + ": " + k.status().message());
        rc.peers.push_back({*k, colon == std::string::npos ? "" : a.substr(colon + 1)});
      }
    }
    if (rc.peers.empty()) return Fail("--allow: list at least one client public key");
    secure = std::make_unique<crypto::SecureAcceptor>(
        io, rc, bucket, counters,
        [&connector, target_host, target_port](std::unique_ptr<crypto::SecureStream> s,
                                               const crypto::AllowedPeer& peer,
                                               std::shared_ptr<crypto::LinkStats>) {
          auto held = std::make_shared<std::unique_ptr<crypto::SecureStream>>(std::move(s));
          std::string label = peer.label;
          connector.Connect(
              target_host, target_port, 10000,
              [held, label](const error_code& ec, std::unique_ptr<net::ByteStream> target) {
                if (ec) {
                  log::Crypto().warn("Tunnel: forwarding for {} failed: {}", label, ec.message());
                  (*held)->CloseWithReason("forward target unreachable");
                  return;
                }
                crypto::StartRelay(std::move(*held), std::move(target));
              });
        });
    secure->Start(std::move(*acceptors));
    log::Crypto().info("Tunnel server: channel on {}:{} -> plain {}:{} (public key {})",
                       listen_host, secure->port(), target_host, target_port,
                       crypto::KeyToBase64(pair->public_key));
  }
  // Both live until io.run() returns: the accept loop's handlers refer to them.
  crypto::InitiatorConfig ic;
  std::function<void(size_t)> accept;
  if (client) {
    if (!r.count("peer-key")) return Fail("--peer-key (the server side's public key) is required");
    auto peer = crypto::KeyFromBase64(r["peer-key"].as<std::string>());
    if (!peer.ok()) return Fail("--peer-key: " + peer.status().message());
    ic.local_private = pair->private_key;
    ic.remote_public = *peer;
    ic.psk = psk;
    ic.options = options;
    ic.bucket = bucket;
    ic.counters = counters;
    ic.label = target_host + ":" + std::to_string(target_port);
    plain = std::move(*acceptors);
    accept = [&](size_t i) {
      plain[i]->async_accept([&, i](const error_code& ec, tcp::socket sock) {
        if (ec == asio::error::operation_aborted) return;
        if (!ec) {
          auto local = std::make_shared<std::unique_ptr<net::ByteStream>>(
              std::make_unique<net::TcpStream>(std::move(sock)));
          connector.Connect(
              target_host, target_port, 10000,
              [&ic, local, &target_host, &target_port](const error_code& cec,
                                                       std::unique_ptr<net::ByteStream> remote) {
                if (cec) {
                  log::Crypto().warn("Tunnel: connecting to {}:{}: {}", target_host, target_port,
                                     cec.message());
                  (*local)->Close();
                  return;
                }
                auto* tcp_remote = static_cast<net::TcpStream*>(remote.get());
                crypto::Initiate(
                    tcp_remote->Release(), ic,
                    [local, &target_host, &target_port](
                        const error_code& hec, std::unique_ptr<crypto::SecureStream> secure,
                        const std::string& why, std::shared_ptr<crypto::LinkStats>) {
                      if (hec) {
                        log::Crypto().warn("Tunnel: handshake with {}:{} failed: {}", target_host,
                                           target_port, why);
                        (*local)->Close();
                        return;
                      }
                      crypto::StartRelay(std::move(*local), std::move(secure));
                    });
              });
        } else {
          log::Crypto().warn("Tunnel: accept: {}", ec.message());
        }
        accept(i);
      });
    };
    for (size_t i = 0; i < plain.size(); ++i) accept(i);
    log::Crypto().info("Tunnel client: plain {}:{} -> channel {}:{} (public key {})", listen_host,
                       plain[0]->local_endpoint().port(), target_host, target_port,
                       crypto::KeyToBase64(pair->public_key));
  }
  io.run();
  crypto::SecureStream::CloseAll("tunnel stopping");
  if (secure) secure->Stop();
  for (auto& a : plain) {
    error_code ignore;
    a->close(ignore);
  }
  io.restart();
  io.poll();  // the failed operations' handlers release what they hold
  return 0;
}

}  // namespace cairn::server

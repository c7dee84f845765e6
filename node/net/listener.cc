// TCP listener with Redis's admission rules.
#include "node/net/listener.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "node/base/log.h"
#include "node/net/connection.h"

namespace cairn::net {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {
constexpr const char* kProtectedModeError =
    "-DENIED Redis is running in protected mode because protected mode is enabled and no "
    "password is set for the default user. In this mode connections are only accepted from the "
    "loopback interface. If you want to connect from external computers to Redis you may adopt "
    "one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG "
    "SET protected-mode no' from the loopback interface by connecting to Redis from the same "
    "host the server is running, however MAKE SURE Redis is not publicly accessible from "
    "internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively "
    "you can just disable the protected mode by editing the Redis configuration file, and "
    "setting the protected mode option to 'no', and then restarting the server. 3) If you "
    "started the server manually just for testing, restart it with the '--protected-mode no' "
    "option. 4) Setup a an authentication password for the default user. NOTE: You only need to "
    "do one of the above things in order for the server to start accepting connections from the "
    "outside.\r\n";
}  // namespace

Listener::Listener(asio::io_context& io, Poller& poller, cmd::ServerState& server,
                   cmd::Dispatcher& dispatcher)
    : io_(io), poller_(poller), server_(server), dispatcher_(dispatcher) {}

namespace {

std::string EndpointString(const asio::ip::tcp::endpoint& ep) {
  auto addr = ep.address();
  if (addr.is_v6() && addr.to_v6().is_v4_mapped())
    addr = asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6());
  return addr.to_string() + ":" + std::to_string(ep.port());
}

}  // namespace

Result<std::vector<std::unique_ptr<asio::ip::tcp::acceptor>>> BindAll(
    asio::io_context& io, const std::vector<std::string>& bind, int port, int backlog) {
  std::vector<std::unique_ptr<asio::ip::tcp::acceptor>> out;
  for (std::string addr : bind) {
    bool optional = !addr.empty() && addr[0] == '-';
    if (optional) addr.erase(0, 1);
    if (addr == "*") addr = "0.0.0.0";
    if (addr == "::*") addr = "::";
    error_code ec;
    auto ip = asio::ip::make_address(addr, ec);
    if (ec) {
      if (optional) continue;
      return Status::InvalidArgument("Invalid bind address '" + addr + "'");
    }
    auto acc = std::make_unique<asio::ip::tcp::acceptor>(io);
    asio::ip::tcp::endpoint ep(ip, static_cast<unsigned short>(port));
    acc->open(ep.protocol(), ec);
    if (!ec) acc->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec && ip.is_v6()) acc->set_option(asio::ip::v6_only(true), ec);
    if (!ec) acc->bind(ep, ec);
    if (!ec) acc->listen(backlog, ec);
    if (ec) {
      if (optional) {
        log::Net().debug("Skipping optional bind address {}: {}", addr, ec.message());
        continue;
      }
      return Status::IOError("Could not create server TCP listening socket " + addr + ":" +
                             std::to_string(port) + ": " + ec.message());
    }
    // Port 0: every later address takes the port the first one got.
    if (port == 0) port = acc->local_endpoint().port();
    out.push_back(std::move(acc));
  }
  if (out.empty()) return Status::IOError("Failed listening on port " + std::to_string(port));
  return out;
}

Status Listener::Listen(const std::vector<std::string>& bind, int port) {
  auto acceptors = BindAll(io_, bind, port, server_.config->v().tcp_backlog);
  if (!acceptors.ok()) return acceptors.status();
  acceptors_ = std::move(*acceptors);
  port_ = acceptors_[0]->local_endpoint().port();
  for (size_t i = 0; i < acceptors_.size(); i++) Accept(i);
  return Status::Ok();
}

std::string Listener::AdmissionError(const asio::ip::tcp::endpoint* peer) const {
  const auto& cfg = server_.config->v();
  if (server_.clients.size() >= static_cast<size_t>(cfg.maxclients))
    return "-ERR max number of clients reached\r\n";
  if (peer != nullptr && cfg.protected_mode && cfg.requirepass.empty()) {
    auto a = peer->address();
    if (a.is_v6() && a.to_v6().is_v4_mapped())
      a = asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
    // Exactly as Redis: only 127.0.0.1 and ::1 count as local.
    std::string s = a.to_string();
    if (s != "127.0.0.1" && s != "::1") return kProtectedModeError;
  }
  return {};
}

template <typename Socket>
void Listener::Admit(Socket& sock, const std::string& reject, std::string peer, std::string local) {
  error_code ignored;
  sock.non_blocking(true, ignored);
  if (!reject.empty()) {
    // Best effort, as Redis: one write attempt, then close.
    server_.stats.rejected_connections++;
    asio::write(sock, asio::buffer(reject), ignored);
    sock.close(ignored);
    return;
  }
  auto conn = std::make_shared<Connection>(sock.release(), std::move(peer), std::move(local), io_,
                                           poller_, server_, dispatcher_);
  conn->Start();
}

void Listener::AcceptLater(const error_code& ec, std::function<void()> again) {
  // Out of descriptors or memory: say so, and retry a little later rather than
  // spinning on an accept that keeps failing.
  log::Net().warn("Accepting client connection: {}", ec.message());
  auto timer = std::make_shared<asio::steady_timer>(io_, std::chrono::milliseconds(100));
  timer->async_wait([timer, again = std::move(again)](const error_code& te) {
    if (!te) again();
  });
}

void Listener::Accept(size_t i) {
  acceptors_[i]->async_accept([this, i](const error_code& ec, asio::ip::tcp::socket sock) {
    if (ec == asio::error::operation_aborted) return;
    if (ec) {
      AcceptLater(ec, [this, i] {
        if (i < acceptors_.size()) Accept(i);
      });
      return;
    }
    error_code pe, le;
    auto peer = sock.remote_endpoint(pe);
    auto local = sock.local_endpoint(le);
    if (pe || le) {
      sock.close(pe);
    } else {
      Admit(sock, AdmissionError(&peer), EndpointString(peer), EndpointString(local));
    }
    if (i < acceptors_.size()) Accept(i);
  });
}

Status Listener::ListenUnix(const std::string& path, int perm) {
  using local = asio::local::stream_protocol;
  // A socket file left by a previous run would fail the bind (as Redis, replace it).
  struct stat st;
  if (lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) unlink(path.c_str());
  error_code ec;
  auto acceptor = std::make_unique<local::acceptor>(io_);
  acceptor->open(local(), ec);
  if (!ec) acceptor->bind(local::endpoint(path), ec);
  if (!ec && perm != 0 && chmod(path.c_str(), static_cast<mode_t>(perm)) != 0)
    ec = error_code(errno, boost::system::system_category());
  if (!ec) acceptor->listen(server_.config->v().tcp_backlog, ec);
  if (ec) return Status::IOError("Failed opening Unix socket " + path + ": " + ec.message());
  unix_acceptor_ = std::move(acceptor);
  unix_path_ = path;
  log::Net().info("The server is now ready to accept connections at {}", path);
  AcceptUnix();
  return Status::Ok();
}

void Listener::AcceptUnix() {
  unix_acceptor_->async_accept(
      [this](const error_code& ec, asio::local::stream_protocol::socket sock) {
        if (ec == asio::error::operation_aborted || !unix_acceptor_) return;
        if (ec) {
          AcceptLater(ec, [this] {
            if (unix_acceptor_) AcceptUnix();
          });
          return;
        }
        // Redis names both ends of a unix-socket client "<path>:0"; protected mode
        // does not apply (the socket is local by construction).
        Admit(sock, AdmissionError(nullptr), unix_path_ + ":0", unix_path_ + ":0");
        AcceptUnix();
      });
}

void Listener::Stop() {
  for (auto& a : acceptors_) {
    error_code ec;
    a->close(ec);
  }
  acceptors_.clear();
  if (unix_acceptor_) {
    error_code ec;
    unix_acceptor_->close(ec);
    unix_acceptor_.reset();
    unlink(unix_path_.c_str());
  }
}

}  // namespace cairn::net

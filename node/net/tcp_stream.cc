// Plain TCP ByteStream and Connector (see byte_stream.h).
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "node/net/byte_stream.h"

namespace cairn::net {

namespace asio = boost::asio;
using asio::ip::tcp;

std::string EndpointText(const tcp::endpoint& ep) {
  std::string ip = ep.address().to_string();
  if (ep.address().is_v6()) ip = "[" + ip + "]";
  return ip + ":" + std::to_string(ep.port());
}

TcpStream::TcpStream(tcp::socket socket) : socket_(std::move(socket)) {
  boost::system::error_code ec;
  auto peer = socket_.remote_endpoint(ec);
  if (!ec) peer_ = EndpointText(peer);
  auto local = socket_.local_endpoint(ec);
  if (!ec) local_ = EndpointText(local);
  socket_.set_option(tcp::no_delay(true), ec);
}

std::unique_ptr<ByteStream> TcpStream::Adopt(asio::io_context& io, int fd, std::string peer,
                                             std::string local) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  boost::system::error_code ec;
  if (ss.ss_family == AF_UNIX) {
    asio::local::stream_protocol::socket sock(io);
    sock.assign(asio::local::stream_protocol(), fd, ec);
    if (ec) return nullptr;
    sock.non_blocking(true, ec);
    return std::make_unique<LocalStream>(std::move(sock), std::move(peer), std::move(local));
  }
  tcp::socket sock(io);
  sock.assign(ss.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), fd, ec);
  if (ec) return nullptr;
  sock.non_blocking(true, ec);
  auto stream = std::make_unique<TcpStream>(std::move(sock));
  stream->peer_ = std::move(peer);
  stream->local_ = std::move(local);
  return stream;
}

void LocalStream::AsyncReadSome(void* buf, size_t len, Handler h) {
  socket_.async_read_some(asio::buffer(buf, len), std::move(h));
}

void LocalStream::AsyncWrite(const void* data, size_t len, Handler h) {
  asio::async_write(socket_, asio::buffer(data, len), std::move(h));
}

void LocalStream::Close() {
  boost::system::error_code ec;
  if (!socket_.is_open()) return;
  socket_.shutdown(asio::local::stream_protocol::socket::shutdown_both, ec);
  socket_.close(ec);
}

void TcpStream::AsyncReadSome(void* buf, size_t len, Handler h) {
  socket_.async_read_some(asio::buffer(buf, len), std::move(h));
}

void TcpStream::AsyncWrite(const void* data, size_t len, Handler h) {
  asio::async_write(socket_, asio::buffer(data, len), std::move(h));
}

void TcpStream::Close() {
  boost::system::error_code ec;
  if (!socket_.is_open()) return;
  socket_.shutdown(tcp::socket::shutdown_both, ec);
  socket_.close(ec);
}

void TcpConnector::Connect(const std::string& host, int port, int timeout_ms, Handler h) {
  // Resolution is synchronous: replication hosts are names from the config and
  // the lookup happens once per (re)connect attempt, as Redis's anetResolve.
  boost::system::error_code ec;
  tcp::resolver resolver(io_);
  auto results = resolver.resolve(host, std::to_string(port), ec);
  if (ec) {
    asio::post(io_, [h = std::move(h), ec] { h(ec, nullptr); });
    return;
  }
  struct Attempt {
    tcp::socket socket;
    asio::steady_timer timer;
    Handler done;
    bool finished = false;
    Attempt(asio::io_context& io, Handler h) : socket(io), timer(io), done(std::move(h)) {}
  };
  auto a = std::make_shared<Attempt>(io_, std::move(h));
  if (!bind_source_.empty()) {
    tcp::endpoint src(asio::ip::make_address(bind_source_, ec), 0);
    if (!ec) {
      a->socket.open(src.protocol(), ec);
      if (!ec) a->socket.bind(src, ec);
    }
  }
  a->timer.expires_after(std::chrono::milliseconds(timeout_ms));
  a->timer.async_wait([a](const boost::system::error_code& tec) {
    if (tec || a->finished) return;
    boost::system::error_code ignore;
    a->socket.close(ignore);
  });
  asio::async_connect(a->socket, results,
                      [a](const boost::system::error_code& cec, const tcp::endpoint&) {
                        a->finished = true;
                        a->timer.cancel();
                        if (cec) {
                          a->done(cec, nullptr);
                          return;
                        }
                        a->done(cec, std::make_unique<TcpStream>(std::move(a->socket)));
                      });
}

}  // namespace cairn::net

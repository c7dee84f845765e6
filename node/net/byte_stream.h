// ByteStream: the transport under replication — an ordered, reliable byte
// stream with asynchronous reads and writes, whatever carries it (plain TCP
// here, the Noise secure channel in crypto/). The replication engine talks only
// to this interface, as Redis's replication did to a WireGuard tunnel it could
// not see.
//
// DESIGN
// - Callbacks run on the event-loop thread. At most one read and one write are
//   outstanding at a time; the buffer passed to a call must stay valid until
//   its handler runs.
// - AsyncWrite completes only when every byte was handed to the transport, so
//   a caller that waits for it before queueing more gets the transport's
//   backpressure (a slow link, a bandwidth cap) for free.
// - Close() cancels pending operations (their handlers see an error) and may be
//   called more than once; handlers must keep their owner alive themselves.
// - A Connector opens streams to "host port" (the replica's side); which kind
//   of stream it makes is the server's choice, not the replication code's.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "node/net/asio.h"

namespace cairn::net {

// "ip:port", "[ip6]:port": how streams name their ends (CLIENT LIST, logs).
std::string EndpointText(const boost::asio::ip::tcp::endpoint& ep);

class ByteStream {
 public:
  using Handler = std::function<void(const boost::system::error_code&, size_t)>;
  virtual ~ByteStream() = default;

  virtual void AsyncReadSome(void* buf, size_t len, Handler h) = 0;
  virtual void AsyncWrite(const void* data, size_t len, Handler h) = 0;
  virtual void Close() = 0;
  // "ip:port" of the peer and of our end (CLIENT LIST addr/laddr).
  virtual std::string PeerAddress() const = 0;
  virtual std::string LocalAddress() const = 0;
};

class Connector {
 public:
  using Handler =
      std::function<void(const boost::system::error_code&, std::unique_ptr<ByteStream>)>;
  virtual ~Connector() = default;
  // Connects to host:port within timeout_ms; exactly one call of h.
  virtual void Connect(const std::string& host, int port, int timeout_ms, Handler h) = 0;
};

// Plain TCP.
class TcpStream : public ByteStream {
 public:
  explicit TcpStream(boost::asio::ip::tcp::socket socket);
  // Adopts an open, connected TCP or AF_UNIX socket descriptor (a client connection
  // handed over to replication; AF_UNIX when the client came through the secure
  // port). `peer`/`local` are the addresses the client was known by.
  static std::unique_ptr<ByteStream> Adopt(boost::asio::io_context& io, int fd, std::string peer,
                                           std::string local);
  // The socket, for a layer that continues on it (the secure channel's handshake).
  boost::asio::ip::tcp::socket Release() { return std::move(socket_); }

  void AsyncReadSome(void* buf, size_t len, Handler h) override;
  void AsyncWrite(const void* data, size_t len, Handler h) override;
  void Close() override;
  std::string PeerAddress() const override { return peer_; }
  std::string LocalAddress() const override { return local_; }

 private:
  boost::asio::ip::tcp::socket socket_;
  std::string peer_, local_;
};

// A connected AF_UNIX stream socket: the node's end of a connection that arrived
// through the secure port (the channel's relay holds the other end).
class LocalStream : public ByteStream {
 public:
  LocalStream(boost::asio::local::stream_protocol::socket socket, std::string peer,
              std::string local)
      : socket_(std::move(socket)), peer_(std::move(peer)), local_(std::move(local)) {}
  void AsyncReadSome(void* buf, size_t len, Handler h) override;
  void AsyncWrite(const void* data, size_t len, Handler h) override;
  void Close() override;
  std::string PeerAddress() const override { return peer_; }
  std::string LocalAddress() const override { return local_; }

 private:
  boost::asio::local::stream_protocol::socket socket_;
  std::string peer_, local_;
};

class TcpConnector : public Connector {
 public:
  // `bind_source`: the local address to connect from ("" = any).
  TcpConnector(boost::asio::io_context& io, std::string bind_source = {})
      : io_(io), bind_source_(std::move(bind_source)) {}
  void Connect(const std::string& host, int port, int timeout_ms, Handler h) override;

 private:
  boost::asio::io_context& io_;
  std::string bind_source_;
};

}  // namespace cairn::net

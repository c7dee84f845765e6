// Client connection: read/parse/execute/write; see connection.h.
#include "node/net/connection.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "node/base/clock.h"
#include "node/base/log.h"
#include "node/net/byte_stream.h"
#include "node/protocol/resp_parser.h"

namespace cairn::net {

namespace asio = boost::asio;

namespace {
constexpr size_t kReadChunk = 16 * 1024;  // PROTO_IOBUF_LEN
constexpr size_t kShrinkAbove = 64 * 1024;
}  // namespace

Connection::Connection(int fd, std::string addr, std::string laddr, asio::io_context& io,
                       Poller& poller, cmd::ServerState& server, cmd::Dispatcher& dispatcher)
    : fd_(fd), io_(io), poller_(poller), server_(server), dispatcher_(dispatcher) {
  client_.addr = std::move(addr);
  client_.laddr = std::move(laddr);
}

Connection::~Connection() {
  if (fd_ >= 0) ::close(fd_);
}

void Connection::SetKeepAlive(int seconds) {
  if (seconds <= 0) return;
  int yes = 1;
  setsockopt(fd_, SOL_SOCKET, SO_KEEPALIVE, &yes, sizeof(yes));
  // As Redis's anetKeepAlive: first probe after `seconds`, then every third
  // of it, three probes before giving up.
  int idle = seconds, intvl = seconds / 3 > 0 ? seconds / 3 : 1, cnt = 3;
  setsockopt(fd_, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
  setsockopt(fd_, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
  setsockopt(fd_, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
}

void Connection::Start() {
  const auto& cfg = server_.config->v();
  int yes = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));
  SetKeepAlive(cfg.tcp_keepalive);
  self_ = shared_from_this();
  if (!poller_.Add(fd_, this)) {
    log::Net().warn("Registering client socket: {}", std::strerror(errno));
    closed_ = true;
    self_.reset();
    return;
  }
  client_.id = server_.next_client_id++;
  client_.ctime_ms = base::NowMs();
  client_.last_interaction_ms = client_.ctime_ms;
  client_.authenticated = cfg.requirepass.empty();
  client_.io = this;
  server_.clients[client_.id] = &client_;
  server_.stats.total_connections_received++;
}

void Connection::OnReadable() {
  if (closed_) return;
  // Compact consumed bytes, then make room: one chunk, or double the pending
  // command when it already fills a chunk (a large argument). Pipelined input
  // never grows the buffer: it is consumed as it arrives.
  if (qpos_ > 0) {
    if (qpos_ < qlen_) qbuf_.replace(0, qlen_ - qpos_, qbuf_, qpos_, qlen_ - qpos_);
    qlen_ -= qpos_;
    qpos_ = 0;
  }
  size_t want = qlen_ >= kReadChunk ? qlen_ : kReadChunk;
  if (qbuf_.size() - qlen_ < want) qbuf_.resize(qlen_ + want);
  ssize_t n = ::recv(fd_, qbuf_.data() + qlen_, qbuf_.size() - qlen_, 0);
  if (n > 0) {
    OnRead(static_cast<size_t>(n));
    return;
  }
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
  if (n == 0)
    log::Net().debug("Client closed connection id={} addr={}", client_.id, client_.addr);
  else
    log::Net().debug("Error reading from client: {}", std::strerror(errno));
  Teardown();
}

void Connection::OnRead(size_t n) {
  qlen_ += n;
  server_.stats.net_input_bytes += n;
  ProcessInput();
  if (closed_) return;
  const auto& cfg = server_.config->v();
  if (static_cast<int64_t>(qlen_ - qpos_) > cfg.client_query_buffer_limit) {
    log::Net().warn("Closing client that reached max query buffer length: id={} addr={}",
                    client_.id, client_.addr);
    server_.stats.client_qbuf_limit_disconnections++;
    Teardown();
  }
}

void Connection::ProcessInput() {
  const auto& cfg = server_.config->v();
  protocol::ParseLimits limits;
  limits.max_bulk_len = cfg.proto_max_bulk_len;
  while (!closing_ && !closed_ && !client_.has(cmd::kBlocked) && qpos_ < qlen_) {
    limits.authenticated = client_.authenticated;
    limits.from_master = client_.has(cmd::kMaster);
    auto r = protocol::ParseCommand(qbuf_.data() + qpos_, qlen_ - qpos_, limits, &argv_,
                                    &inline_scratch_);
    if (r.status == protocol::ParseStatus::kNeedMore) break;
    if (r.status == protocol::ParseStatus::kEmpty) {
      qpos_ += r.consumed;
      continue;
    }
    if (r.status == protocol::ParseStatus::kError) {
      client_.reply.Error(r.error);
      log::Net().debug("Protocol error ({}) from client: id={} addr={}", r.error, client_.id,
                       client_.addr);
      qpos_ = qlen_;
      Close(true);
      break;
    }
    client_.last_interaction_ms = base::NowMs();
    dispatcher_.Execute(client_, argv_);
    qpos_ += r.consumed;
    if (client_.handoff) {
      HandOff();
      return;
    }
    if (client_.has(cmd::kCloseAfterReply)) {
      Close(true);
      break;
    }
  }
  if (qpos_ == qlen_) {
    qpos_ = qlen_ = 0;
    if (qbuf_.size() > kShrinkAbove) {
      std::string().swap(qbuf_);
    }
  }
  MaybeWrite();
}

bool Connection::CheckOutputLimits() {
  const auto& cfg = server_.config->v();
  const config::OutputBufferLimit& lim =
      client_.subscriptions() > 0 ? cfg.obuf_pubsub : cfg.obuf_normal;
  size_t size = PendingOutput();
  bool hard = lim.hard > 0 && size >= static_cast<size_t>(lim.hard);
  bool soft = false;
  if (lim.soft > 0 && size >= static_cast<size_t>(lim.soft)) {
    int64_t now = base::NowMs();
    if (client_.obuf_soft_since_ms == 0)
      client_.obuf_soft_since_ms = now;
    else if (now - client_.obuf_soft_since_ms >= lim.soft_seconds * 1000)
      soft = true;
  } else {
    client_.obuf_soft_since_ms = 0;
  }
  if (!hard && !soft) return true;
  log::Net().warn(
      "Client id={} addr={} scheduled to be closed ASAP for overcoming of output buffer limits.",
      client_.id, client_.addr);
  server_.stats.client_outbuf_limit_disconnections++;
  Teardown();
  return false;
}

void Connection::OnFlush() {
  flush_queued_ = false;
  MaybeWrite();
}

void Connection::MaybeWrite() {
  if (closed_) return;
  if (poller_.dispatching()) {
    if (!flush_queued_) {
      flush_queued_ = true;
      poller_.QueueFlush(this);
    }
    return;
  }
  // Limits apply to everything pending, including a backlog the kernel has
  // not taken yet (a subscriber that stopped reading).
  if (!client_.out.empty() && !CheckOutputLimits()) return;
  if (write_pos_ < writing_.size()) return;  // the poller drives the backlog
  if (client_.out.empty()) {
    if (closing_) Teardown();
    return;
  }
  ssize_t n = ::send(fd_, client_.out.data(), client_.out.size(), MSG_NOSIGNAL);
  if (n < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      Teardown();
      return;
    }
    n = 0;
  }
  server_.stats.net_output_bytes += static_cast<uint64_t>(n);
  if (static_cast<size_t>(n) == client_.out.size()) {
    if (client_.out.capacity() > kShrinkAbove)
      std::string().swap(client_.out);
    else
      client_.out.clear();
    if (closing_) Teardown();
    return;
  }
  // The kernel took part of it: keep the rest and wait for writability.
  writing_.swap(client_.out);
  client_.out.clear();
  write_pos_ = static_cast<size_t>(n);
  poller_.WantWrite(fd_, this, true);
}

void Connection::OnWritable() {
  if (closed_ || write_pos_ >= writing_.size()) return;
  ssize_t n = ::send(fd_, writing_.data() + write_pos_, writing_.size() - write_pos_, MSG_NOSIGNAL);
  if (n < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) Teardown();
    return;
  }
  server_.stats.net_output_bytes += static_cast<uint64_t>(n);
  write_pos_ += static_cast<size_t>(n);
  if (write_pos_ < writing_.size()) return;
  if (writing_.capacity() > kShrinkAbove)
    std::string().swap(writing_);
  else
    writing_.clear();
  write_pos_ = 0;
  poller_.WantWrite(fd_, this, false);
  MaybeWrite();
}

void Connection::RequestFlush() {
  if (closed_ || flush_posted_) return;
  flush_posted_ = true;
  asio::post(io_, [self = shared_from_this()] {
    self->flush_posted_ = false;
    if (self->closed_) return;
    // A woken client may have pipelined commands waiting behind the blocking one.
    if (!self->client_.has(cmd::kBlocked) && self->qpos_ < self->qlen_)
      self->ProcessInput();
    else
      self->MaybeWrite();
  });
}

void Connection::Close(bool after_reply) {
  if (closed_) return;
  if (after_reply) {
    closing_ = true;
    MaybeWrite();
    return;
  }
  Teardown();
}

void Connection::HandOff() {
  auto handoff = std::move(client_.handoff);
  client_.handoff = nullptr;
  std::string unread = qbuf_.substr(qpos_, qlen_ - qpos_);
  std::string unsent = writing_.substr(write_pos_) + client_.out;
  closed_ = closing_ = true;
  dispatcher_.ClientGone(client_);
  client_.io = nullptr;
  poller_.Remove(fd_);
  std::unique_ptr<ByteStream> stream = TcpStream::Adopt(io_, fd_, client_.addr, client_.laddr);
  if (!stream) ::close(fd_);
  fd_ = -1;
  asio::post(io_, [self = std::move(self_)] {});
  if (stream) handoff(std::move(stream), std::move(unread), std::move(unsent));
}

void Connection::Teardown() {
  if (closed_) return;
  closed_ = true;
  closing_ = true;
  dispatcher_.ClientGone(client_);
  client_.io = nullptr;
  poller_.Remove(fd_);
  ::shutdown(fd_, SHUT_RDWR);
  ::close(fd_);
  fd_ = -1;
  // Die after the current event batch: the poller may still hold this pointer.
  asio::post(io_, [self = std::move(self_)] {});
}

}  // namespace cairn::net

// Client connection: read/parse/execute/write; see connection.h.
#include "node/net/connection.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "node/base/clock.h"
#include "node/base/log.h"
#include "node/protocol/resp_parser.h"

namespace cairn::net {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {
constexpr size_t kReadChunk = 16 * 1024;  // PROTO_IOBUF_LEN
constexpr size_t kShrinkAbove = 64 * 1024;

std::string EndpointString(const asio::ip::tcp::endpoint& ep) {
  const auto addr = ep.address();
  std::string ip = addr.is_v6() && addr.to_v6().is_v4_mapped()
                       ? asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6()).to_string()
                       : addr.to_string();
  return ip + ":" + std::to_string(ep.port());
}
}  // namespace

Connection::Connection(asio::ip::tcp::socket socket, cmd::ServerState& server,
                       cmd::Dispatcher& dispatcher)
    : socket_(std::move(socket)), server_(server), dispatcher_(dispatcher) {}

Connection::~Connection() = default;

int Connection::Fd() const { return const_cast<asio::ip::tcp::socket&>(socket_).native_handle(); }

void Connection::SetKeepAlive(int seconds) {
  if (seconds <= 0) return;
  int fd = Fd();
  int yes = 1;
  setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &yes, sizeof(yes));
  // As Redis's anetKeepAlive: first probe after `seconds`, then every third
  // of it, three probes before giving up.
  int idle = seconds, intvl = seconds / 3 > 0 ? seconds / 3 : 1, cnt = 3;
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
}

void Connection::Start(const std::string& reject) {
  error_code ec;
  auto peer = socket_.remote_endpoint(ec);
  if (!ec) client_.addr = EndpointString(peer);
  auto local = socket_.local_endpoint(ec);
  if (!ec) client_.laddr = EndpointString(local);
  if (!reject.empty()) {
    server_.stats.rejected_connections++;
    // Best effort, as Redis: one write attempt, then close.
    socket_.non_blocking(true, ec);
    asio::write(socket_, asio::buffer(reject), ec);
    socket_.close(ec);
    closed_ = true;
    return;
  }
  const auto& cfg = server_.config->v();
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  socket_.non_blocking(true, ec);
  SetKeepAlive(cfg.tcp_keepalive);
  client_.id = server_.next_client_id++;
  client_.ctime_ms = base::NowMs();
  client_.last_interaction_ms = client_.ctime_ms;
  client_.authenticated = cfg.requirepass.empty();
  client_.io = this;
  server_.clients[client_.id] = &client_;
  server_.stats.total_connections_received++;
  DoRead();
}

void Connection::DoRead() {
  if (closed_ || read_in_flight_) return;
  // Compact consumed bytes, then make room: at least one chunk, more when a
  // large argument is known to be coming (geometric, so a hostile length
  // header cannot make us allocate everything at once).
  if (qpos_ > 0) {
    if (qpos_ < qlen_) qbuf_.replace(0, qlen_ - qpos_, qbuf_, qpos_, qlen_ - qpos_);
    qlen_ -= qpos_;
    qpos_ = 0;
  }
  // A pending command that already fills a chunk (a large argument) doubles
  // the room; otherwise one chunk is enough. Growth is never driven by
  // pipelined input, which is consumed as it arrives.
  size_t want = qlen_ >= kReadChunk ? qlen_ : kReadChunk;
  if (qbuf_.size() - qlen_ < want) qbuf_.resize(qlen_ + want);
  read_in_flight_ = true;
  auto self = shared_from_this();
  socket_.async_wait(asio::ip::tcp::socket::wait_read,
                     [self](const error_code& ec) { self->OnReadable(ec); });
}

void Connection::OnReadable(const error_code& ec) {
  read_in_flight_ = false;
  if (closed_) return;
  if (ec) {
    OnRead(ec, 0);
    return;
  }
  error_code rec;
  size_t n = socket_.read_some(asio::buffer(qbuf_.data() + qlen_, qbuf_.size() - qlen_), rec);
  if (rec == asio::error::would_block || rec == asio::error::try_again) {
    DoRead();
    return;
  }
  OnRead(rec, n);
}

void Connection::OnRead(const error_code& ec, size_t n) {
  read_in_flight_ = false;
  if (closed_) return;
  if (ec) {
    if (ec != asio::error::eof && ec != asio::error::connection_reset &&
        ec != asio::error::operation_aborted) {
      log::Net().debug("Error reading from client: {}", ec.message());
    } else {
      log::Net().debug("Client closed connection id={} addr={}", client_.id, client_.addr);
    }
    Teardown();
    return;
  }
  qlen_ += n;
  server_.stats.net_input_bytes += n;
  ProcessInput();
  if (closed_) return;
  const auto& cfg = server_.config->v();
  if (static_cast<int64_t>(qlen_ - qpos_) > cfg.client_query_buffer_limit) {
    log::Net().warn(
        "Closing client that reached max query buffer length: id={} addr={} (qbuf initial bytes: "
        "...)",
        client_.id, client_.addr);
    server_.stats.client_qbuf_limit_disconnections++;
    Teardown();
    return;
  }
  if (!closing_) DoRead();
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
    if (client_.has(cmd::kCloseAfterReply)) {
      Close(true);
      break;
    }
  }
  if (qpos_ == qlen_) {
    qpos_ = qlen_ = 0;
    if (qbuf_.size() > kShrinkAbove && !read_in_flight_) {
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

void Connection::MaybeWrite() {
  if (closed_ || write_in_flight_) return;
  if (client_.out.empty()) {
    if (closing_) Teardown();
    return;
  }
  if (!CheckOutputLimits()) return;
  // Write directly; the common case (a reply that fits the socket buffer)
  // ends here without a completion handler.
  error_code ec;
  size_t n = socket_.write_some(asio::buffer(client_.out), ec);
  if (ec && ec != asio::error::would_block && ec != asio::error::try_again) {
    Teardown();
    return;
  }
  server_.stats.net_output_bytes += n;
  if (n == client_.out.size()) {
    if (client_.out.capacity() > kShrinkAbove)
      std::string().swap(client_.out);
    else
      client_.out.clear();
    if (closing_) Teardown();
    return;
  }
  writing_.swap(client_.out);
  client_.out.clear();
  write_in_flight_ = true;
  auto self = shared_from_this();
  asio::async_write(socket_, asio::buffer(writing_.data() + n, writing_.size() - n),
                    [self](const error_code& ec, size_t m) { self->OnWrite(ec, m); });
}

void Connection::OnWrite(const error_code& ec, size_t n) {
  write_in_flight_ = false;
  if (closed_) return;
  server_.stats.net_output_bytes += n;
  if (ec) {
    Teardown();
    return;
  }
  if (writing_.capacity() > kShrinkAbove)
    std::string().swap(writing_);
  else
    writing_.clear();
  MaybeWrite();
}

void Connection::RequestFlush() {
  if (closed_ || flush_posted_) return;
  flush_posted_ = true;
  auto self = shared_from_this();
  asio::post(socket_.get_executor(), [self] {
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
    if (!write_in_flight_) MaybeWrite();
    return;
  }
  Teardown();
}

void Connection::Teardown() {
  if (closed_) return;
  closed_ = true;
  closing_ = true;
  dispatcher_.ClientGone(client_);
  client_.io = nullptr;
  error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
}

}  // namespace cairn::net

// The secure channel over TCP as a ByteStream; see secure_stream.h.
#include "crypto/secure_stream.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <set>
#include <vector>

#include "node/base/clock.h"
#include "node/base/log.h"

namespace cairn::crypto {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr size_t kMaxPlain = 256 * 1024;          // opened, waiting for the user
constexpr size_t kSealAhead = 256 * 1024;         // sealed, waiting for the socket
constexpr size_t kSealStep = 4 * kMaxRecordBody;  // user bytes sealed per step: whole records
constexpr size_t kReadBuf = kRecordHeaderLen + kMaxRecordLen + 64 * 1024;

class ChannelCategoryImpl : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "cairn.channel"; }
  std::string message(int ev) const override {
    switch (static_cast<ChannelError>(ev)) {
      case ChannelError::kBadRecord:
        return "secure channel record failed authentication or framing";
      case ChannelError::kPeerTimeout:
        return "secure channel peer timed out";
      case ChannelError::kPeerClosed:
        return "secure channel closed by the peer";
    }
    return "secure channel error";
  }
};

}  // namespace

const boost::system::error_category& ChannelCategory() {
  static ChannelCategoryImpl cat;
  return cat;
}

error_code MakeError(ChannelError e) { return error_code(static_cast<int>(e), ChannelCategory()); }

// ---- TokenBucket ----

void TokenBucket::SetRate(uint64_t bytes_per_second) {
  SetRate(bytes_per_second, std::max<double>(static_cast<double>(bytes_per_second) / 20, 1460));
}

void TokenBucket::SetRate(uint64_t per_second, double burst) {
  rate_ = per_second;
  burst_ = burst;
  tokens_ = std::min(tokens_, burst_);
}

void TokenBucket::Refill(int64_t now_us) {
  if (last_us_ == 0) {
    last_us_ = now_us;
    tokens_ = burst_;
    return;
  }
  double add = static_cast<double>(now_us - last_us_) * static_cast<double>(rate_) / 1e6;
  tokens_ = std::min(burst_, tokens_ + add);
  last_us_ = now_us;
}

size_t TokenBucket::Take(size_t want, int64_t now_us) {
  if (rate_ == 0) return want;
  Refill(now_us);
  if (tokens_ < 1) return 0;
  size_t n = std::min(want, static_cast<size_t>(tokens_));
  tokens_ -= static_cast<double>(n);
  return n;
}

int64_t TokenBucket::WaitUs(size_t n, int64_t now_us) {
  if (rate_ == 0) return 0;
  Refill(now_us);
  double need = std::min(static_cast<double>(n), burst_) - tokens_;
  if (need <= 0) return 0;
  return std::max<int64_t>(1000, static_cast<int64_t>(need * 1e6 / static_cast<double>(rate_)));
}

// ---- Core ----

namespace {
// Every live Core, so that a process that stops can end them all: a relay's stream is
// owned by its own pending handlers (that is how a relay stays alive), a cycle that only
// ending the stream breaks.
std::set<SecureStream::Core*>& LiveCores() {
  static std::set<SecureStream::Core*> live;
  return live;
}
}  // namespace

struct SecureStream::Core : std::enable_shared_from_this<Core> {
  tcp::socket socket;
  Session session;
  ChannelOptions options;
  std::shared_ptr<TokenBucket> bucket;
  std::shared_ptr<LinkStats> stats;
  asio::steady_timer tick;
  asio::steady_timer pace;  // waits for the bandwidth cap
  std::string peer, local;
  bool closed = false;
  error_code failure;  // the first error; every later operation reports it

  // Reading.
  Bytes rbuf = Bytes(kReadBuf);
  size_t rpos = 0, rlen = 0;
  std::string plain;
  size_t plain_pos = 0;
  bool socket_reading = false;
  bool peer_eof = false;
  void* user_buf = nullptr;
  size_t user_len = 0;
  Handler read_handler;

  // Writing.
  Bytes wbuf;
  size_t wpos = 0;
  bool socket_writing = false;
  bool pacing = false;
  const uint8_t* user_data = nullptr;
  size_t user_size = 0, user_sealed = 0;
  uint64_t user_mark = 0;  // wire offset after the user's last sealed byte
  bool mark_set = false;
  uint64_t wire_sent = 0;  // bytes the socket took
  Handler write_handler;

  bool confirmed = false;
  std::function<void()> on_confirmed, on_unconfirmed_close;
  int64_t last_send_ms = 0, last_recv_ms = 0, last_rekey_ms = 0;
  SessionStats reported{};

  Core(tcp::socket s, TransportKeys keys, const ChannelOptions& o, std::shared_ptr<TokenBucket> b,
       std::shared_ptr<LinkStats> st)
      : socket(std::move(s)),
        session(std::move(keys),
                SessionOptions{o.compress, o.compression_level, o.rekey_after_bytes}),
        options(o),
        bucket(std::move(b)),
        stats(std::move(st)),
        tick(socket.get_executor()),
        pace(socket.get_executor()) {
    error_code ec;
    auto p = socket.remote_endpoint(ec);
    if (!ec) peer = net::EndpointText(p);
    auto l = socket.local_endpoint(ec);
    if (!ec) local = net::EndpointText(l);
    socket.set_option(tcp::no_delay(true), ec);
    last_send_ms = last_recv_ms = last_rekey_ms = base::MonotonicUs() / 1000;
    LiveCores().insert(this);
  }

  ~Core() { LiveCores().erase(this); }

  void Start() {
    ReadSocket();
    Tick();
  }

  // Mirrors the session's counters into the shared stats.
  void Report() {
    if (!stats) return;
    const SessionStats& s = session.stats();
    stats->app_in += s.app_in - reported.app_in;
    stats->app_out += s.app_out - reported.app_out;
    stats->wire_in += s.wire_in - reported.wire_in;
    stats->wire_out += s.wire_out - reported.wire_out;
    stats->rekeys += (s.rekeys_in + s.rekeys_out) - (reported.rekeys_in + reported.rekeys_out);
    reported = s;
  }

  void Fail(error_code ec, std::string_view why) {
    if (!failure) {
      failure = ec;
      if (!why.empty()) log::Crypto().warn("Secure channel with {}: {}", peer, why);
    }
    Shutdown();
  }

  void Shutdown() {
    if (closed) return;
    closed = true;
    if (stats) stats->open = false;
    if (!confirmed && on_unconfirmed_close) {
      auto fn = std::move(on_unconfirmed_close);
      on_confirmed = on_unconfirmed_close = nullptr;
      fn();
    }
    error_code ignore;
    tick.cancel();
    pace.cancel();
    socket.shutdown(tcp::socket::shutdown_both, ignore);
    socket.close(ignore);
    if (!failure) failure = asio::error::operation_aborted;
    // Pending user operations learn it now.
    CompleteRead();
    if (write_handler) {
      auto h = std::move(write_handler);
      write_handler = nullptr;
      asio::post(socket.get_executor(), [h = std::move(h), ec = failure] { h(ec, 0); });
    }
  }

  // ---- reading ----

  void ReadSocket() {
    if (closed || socket_reading || peer_eof) return;
    if (plain.size() - plain_pos >= kMaxPlain || session.HasBufferedInput()) return;
    if (rpos > 0) {
      std::memmove(rbuf.data(), rbuf.data() + rpos, rlen - rpos);
      rlen -= rpos;
      rpos = 0;
    }
    socket_reading = true;
    socket.async_read_some(asio::buffer(rbuf.data() + rlen, rbuf.size() - rlen),
                           [self = shared_from_this()](const error_code& ec, size_t n) {
                             self->socket_reading = false;
                             self->OnSocketRead(ec, n);
                           });
  }

  void OnSocketRead(const error_code& ec, size_t n) {
    if (closed) return;
    if (ec) {
      if (ec == asio::error::eof) {
        // A peer that closes without a CLOSE record may have been cut off.
        peer_eof = true;
        if (rlen > rpos) {
          Fail(MakeError(ChannelError::kBadRecord), "connection ended inside a record");
          return;
        }
        CompleteRead();
        return;
      }
      Fail(ec, "");
      return;
    }
    rlen += n;
    last_recv_ms = base::MonotonicUs() / 1000;
    Open();
  }

  // Opens what the buffer holds, then reads more if there is room.
  void Open() {
    if (plain_pos == plain.size()) {
      plain.clear();
      plain_pos = 0;
    } else if (plain_pos >= kMaxPlain) {
      plain.erase(0, plain_pos);
      plain_pos = 0;
    }
    auto r = session.Read(rbuf.data() + rpos, rlen - rpos, &plain, plain_pos + kMaxPlain);
    if (!r.ok()) {
      Fail(MakeError(ChannelError::kBadRecord), r.status().message());
      return;
    }
    rpos += *r;
    Report();
    if (!confirmed && session.stats().records_in > 0) {
      confirmed = true;
      auto fn = std::move(on_confirmed);
      on_confirmed = on_unconfirmed_close = nullptr;
      if (fn) fn();
    }
    if (session.peer_closed()) {
      peer_eof = true;
      std::string reason = session.close_reason();
      log::Crypto().info("Secure channel with {} closed by the peer{}{}", peer,
                         reason.empty() ? "" : ": ", reason);
    }
    CompleteRead();
    ReadSocket();
  }

  void CompleteRead() {
    if (!read_handler) return;
    size_t avail = plain.size() - plain_pos;
    if (avail == 0 && !closed && !peer_eof) return;
    size_t n = std::min(avail, user_len);
    error_code ec;
    if (n > 0) {
      std::memcpy(user_buf, plain.data() + plain_pos, n);
      plain_pos += n;
    } else {
      ec = failure ? failure : error_code(asio::error::eof);
    }
    auto h = std::move(read_handler);
    read_handler = nullptr;
    asio::post(socket.get_executor(), [h = std::move(h), ec, n] { h(ec, n); });
    // Room for more: records may wait in rbuf or inside zstd.
    if (!closed && (rpos < rlen || session.HasBufferedInput()) &&
        plain.size() - plain_pos < kMaxPlain) {
      asio::post(socket.get_executor(), [self = shared_from_this()] {
        if (!self->closed) self->Open();
      });
    } else {
      ReadSocket();
    }
  }

  // ---- writing ----

  // Seals more of the user's bytes while little ciphertext waits.
  Status Seal() {
    while (user_sealed < user_size && wbuf.size() - wpos < kSealAhead) {
      size_t n = std::min(kSealStep, user_size - user_sealed);
      Status st = session.Write(ByteView(user_data + user_sealed, n), &wbuf);
      if (!st.ok()) return st;
      user_sealed += n;
    }
    if (user_sealed == user_size && !mark_set) {
      user_mark = wire_sent + (wbuf.size() - wpos);
      mark_set = true;
    }
    return Status::Ok();
  }

  void Pump() {
    if (closed || socket_writing || pacing) return;
    if (write_handler) {
      if (Status st = Seal(); !st.ok()) {
        Fail(MakeError(ChannelError::kBadRecord), st.message());
        return;
      }
    }
    Report();
    if (wpos == wbuf.size()) {
      wbuf.clear();
      wpos = 0;
      MaybeCompleteWrite();
      return;
    }
    size_t n = wbuf.size() - wpos;
    if (bucket && bucket->rate() > 0) {
      int64_t now = base::MonotonicUs();
      size_t allowed = bucket->Take(n, now);
      if (allowed == 0) {
        pacing = true;
        pace.expires_after(std::chrono::microseconds(bucket->WaitUs(n, now)));
        pace.async_wait([self = shared_from_this()](const error_code& ec) {
          self->pacing = false;
          if (!ec) self->Pump();
        });
        return;
      }
      n = allowed;
    }
    socket_writing = true;
    socket.async_write_some(asio::buffer(wbuf.data() + wpos, n),
                            [self = shared_from_this()](const error_code& ec, size_t k) {
                              self->socket_writing = false;
                              if (self->closed) return;
                              if (ec) {
                                self->Fail(ec, "");
                                return;
                              }
                              self->wpos += k;
                              self->wire_sent += k;
                              self->last_send_ms = base::MonotonicUs() / 1000;
                              if (self->wpos > kSealAhead) {
                                self->wbuf.erase(self->wbuf.begin(),
                                                 self->wbuf.begin() + self->wpos);
                                self->wpos = 0;
                              }
                              self->Pump();
                            });
    // Everything of the user's write sealed and handed over: it may complete.
    MaybeCompleteWrite();
  }

  void MaybeCompleteWrite() {
    if (!write_handler || !mark_set) return;
    // Completion waits until the socket took the user's last sealed byte.
    if (wire_sent < user_mark) return;
    auto h = std::move(write_handler);
    write_handler = nullptr;
    size_t n = user_size;
    user_data = nullptr;
    user_size = user_sealed = 0;
    asio::post(socket.get_executor(), [self = shared_from_this(), h = std::move(h), n] {
      h(error_code(), n);
      // Nothing more queued by the caller: what zstd or a partial record holds leaves now.
      if (!self->closed && !self->write_handler && self->session.HasUnflushed()) {
        if (Status st = self->session.Flush(&self->wbuf); !st.ok()) {
          self->Fail(MakeError(ChannelError::kBadRecord), st.message());
          return;
        }
        self->Pump();
      }
    });
  }

  // ---- timers ----

  void Tick() {
    if (closed) return;
    tick.expires_after(std::chrono::seconds(1));
    tick.async_wait([self = shared_from_this()](const error_code& ec) {
      if (ec || self->closed) return;
      self->OnTick();
      self->Tick();
    });
  }

  void OnTick() {
    int64_t now = base::MonotonicUs() / 1000;
    if (options.timeout_s > 0 && now - last_recv_ms > int64_t{options.timeout_s} * 1000) {
      Fail(MakeError(ChannelError::kPeerTimeout), "nothing received for " +
                                                      std::to_string(options.timeout_s) +
                                                      " seconds (secure-timeout), closing");
      return;
    }
    bool idle = wpos == wbuf.size() && !write_handler && !session.HasUnflushed();
    Status st;
    if (options.rekey_interval_s > 0 &&
        now - last_rekey_ms >= int64_t{options.rekey_interval_s} * 1000) {
      st = session.Rekey(&wbuf);
      last_rekey_ms = now;
    } else if (idle && options.keepalive_s > 0 &&
               now - last_send_ms >= int64_t{options.keepalive_s} * 1000) {
      st = session.Keepalive(&wbuf);
      last_send_ms = now;
    }
    if (!st.ok()) {
      Fail(MakeError(ChannelError::kBadRecord), st.message());
      return;
    }
    Pump();
  }

  void CloseWithReason(std::string_view reason) {
    if (closed) return;
    Bytes out;
    if (session.Close(reason, &out).ok() && !socket_writing && wpos == wbuf.size()) {
      // Best effort and non-blocking: the kernel takes a small record at once.
      error_code ec;
      socket.non_blocking(true, ec);
      asio::write(socket, asio::buffer(out), ec);
    }
    Shutdown();
  }
};

// ---- SecureStream ----

SecureStream::SecureStream(tcp::socket socket, TransportKeys keys, const ChannelOptions& options,
                           std::shared_ptr<TokenBucket> bucket, std::shared_ptr<LinkStats> stats)
    : core_(std::make_shared<Core>(std::move(socket), std::move(keys), options, std::move(bucket),
                                   std::move(stats))) {
  core_->Start();
}

SecureStream::~SecureStream() { core_->CloseWithReason("closed"); }

void SecureStream::AsyncReadSome(void* buf, size_t len, Handler h) {
  Core& c = *core_;
  c.user_buf = buf;
  c.user_len = len;
  c.read_handler = std::move(h);
  c.CompleteRead();
}

void SecureStream::AsyncWrite(const void* data, size_t len, Handler h) {
  Core& c = *core_;
  if (c.closed) {
    asio::post(c.socket.get_executor(), [h = std::move(h), ec = c.failure] { h(ec, 0); });
    return;
  }
  c.user_data = static_cast<const uint8_t*>(data);
  c.user_size = len;
  c.user_sealed = 0;
  c.user_mark = 0;
  c.mark_set = false;
  c.write_handler = std::move(h);
  c.Pump();
}

void SecureStream::Close() { core_->CloseWithReason("closed"); }

void SecureStream::OnConfirmation(std::function<void()> confirmed,
                                  std::function<void()> closed_unconfirmed) {
  core_->on_confirmed = std::move(confirmed);
  core_->on_unconfirmed_close = std::move(closed_unconfirmed);
}

void SecureStream::CloseAll(std::string_view reason) {
  std::vector<Core*> live(LiveCores().begin(), LiveCores().end());
  for (Core* c : live) c->CloseWithReason(reason);
}

void SecureStream::CloseWithReason(std::string_view reason) { core_->CloseWithReason(reason); }

std::string SecureStream::PeerAddress() const { return core_->peer; }
std::string SecureStream::LocalAddress() const { return core_->local; }

}  // namespace cairn::crypto

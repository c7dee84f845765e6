// SecureStream: the secure channel as a net::ByteStream, so the replication engine
// (and the tunnel's relay) run over it exactly as over plain TCP.
//
// DESIGN
// - A Core shared with its own handlers owns the socket, the Session and the
//   buffers; the stream object is a handle, and Close()/destruction end the Core
//   without waiting for pending socket operations.
// - Reading: the Core reads the socket on its own (KEEPALIVE, REKEY and CLOSE are
//   handled even when nobody reads), opens records into `plain_` and stops reading
//   the socket while kMaxPlain bytes wait for the user, so a reader that does not
//   read pushes back on the peer through TCP.
// - Writing: AsyncWrite seals the user's bytes lazily, at most kSealAhead bytes of
//   ciphertext ahead of the socket, and completes when the last of them reached the
//   socket (TCP's backpressure, and the bandwidth cap's, reach the caller). When the
//   caller has nothing more queued after a completion, the zstd stream is flushed.
// - The bandwidth cap is a TokenBucket shared by every channel of the process.
// - Once a second: a KEEPALIVE after secure-keepalive seconds without sending, the
//   link fails after secure-timeout seconds without receiving, REKEY every
//   secure-rekey-interval seconds.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "crypto/session.h"
#include "node/net/asio.h"
#include "node/net/byte_stream.h"

namespace cairn::crypto {

struct ChannelOptions {
  bool compress = true;
  int compression_level = 3;
  int keepalive_s = 10;
  int timeout_s = 60;
  int rekey_interval_s = 120;
  uint64_t rekey_after_bytes = uint64_t{1} << 30;
  int handshake_timeout_ms = 5000;
};

// Token bucket on bytes sent: `rate` bytes per second (0 = no cap), bursts of at
// most a twentieth of a second's worth (at least one TCP segment).
class TokenBucket {
 public:
  void SetRate(uint64_t bytes_per_second);
  // Any unit per second, with an explicit burst (e.g. handshakes).
  void SetRate(uint64_t per_second, double burst);
  uint64_t rate() const { return rate_; }
  // Up to `want` bytes that may go now (consumed from the bucket); 0 = wait.
  size_t Take(size_t want, int64_t now_us);
  // Microseconds until at least `n` bytes are available.
  int64_t WaitUs(size_t n, int64_t now_us);

 private:
  void Refill(int64_t now_us);
  uint64_t rate_ = 0;
  double tokens_ = 0;
  double burst_ = 0;
  int64_t last_us_ = 0;
};

// Counters of one established channel, shared with whoever reports them (INFO).
struct LinkStats {
  std::string label;    // the allowed peer's label, or the master's address
  std::string address;  // ip:port of the other end
  int64_t handshake_unix_ms = 0;
  uint64_t app_in = 0, app_out = 0, wire_in = 0, wire_out = 0;
  uint64_t rekeys = 0;
  bool open = true;
};

class SecureStream : public net::ByteStream {
 public:
  SecureStream(boost::asio::ip::tcp::socket socket, TransportKeys keys,
               const ChannelOptions& options, std::shared_ptr<TokenBucket> bucket,
               std::shared_ptr<LinkStats> stats);
  ~SecureStream() override;

  void AsyncReadSome(void* buf, size_t len, Handler h) override;
  void AsyncWrite(const void* data, size_t len, Handler h) override;
  // Sends CLOSE (best effort, without blocking) and closes the socket.
  void Close() override;
  std::string PeerAddress() const override;
  std::string LocalAddress() const override;

  // Sends CLOSE with `reason` before closing (the peer logs it).
  void CloseWithReason(std::string_view reason);
  // The responder's confirmation: `confirmed` runs when the first record from the peer
  // opens (only then has the initiator proved it derived the same keys, PSK included);
  // `closed_unconfirmed` runs if the channel ends before that.
  void OnConfirmation(std::function<void()> confirmed, std::function<void()> closed_unconfirmed);
  // Ends every open channel of the process (at shutdown): pending operations fail,
  // which releases relays that own their streams.
  static void CloseAll(std::string_view reason);

  struct Core;

 private:
  std::shared_ptr<Core> core_;
};

// The error a SecureStream reports when the peer's bytes failed authentication or
// broke the framing (the log line has the details).
const boost::system::error_category& ChannelCategory();
enum class ChannelError { kBadRecord = 1, kPeerTimeout, kPeerClosed };
boost::system::error_code MakeError(ChannelError e);

}  // namespace cairn::crypto

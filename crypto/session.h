// The secure channel's transport records, after the handshake (docs/secure-channel.md).
//
//   record = u16 length L (big-endian, 17..65535) || ChaCha20-Poly1305(type || body)
//   AD = the two length bytes; nonce = the direction's record counter (strict, implicit)
//
//   type 1 DATA       body: application bytes
//   type 2 ZSTD       body: the next bytes of the sender's zstd stream (one stream per
//                     direction, context kept across records, flushed when idle)
//   type 3 KEEPALIVE  empty
//   type 4 REKEY      empty; the sender's later records use Noise Rekey() of its key
//   type 5 CLOSE      body: the reason, UTF-8
//
// A reordered, replayed, truncated or altered record fails authentication, since the
// receiver's nonce is the count of records it has opened. Any failure ends the
// session. No I/O here: Session turns bytes into records and back.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "crypto/handshake.h"
#include "crypto/zstd_stream.h"

namespace cairn::crypto {

enum class RecordType : uint8_t { kData = 1, kZstd = 2, kKeepalive = 3, kRekey = 4, kClose = 5 };

inline constexpr size_t kRecordHeaderLen = 2;
inline constexpr size_t kMaxRecordLen = 65535;                           // type + body + tag
inline constexpr size_t kMinRecordLen = 1 + kTagLen;                     // an empty body
inline constexpr size_t kMaxRecordBody = kMaxRecordLen - kMinRecordLen;  // 65518

struct SessionOptions {
  bool compress = true;
  int compression_level = 3;
  // Rekey the sending direction after this many bytes on the wire (0 = never by bytes).
  uint64_t rekey_after_bytes = uint64_t{1} << 30;
};

struct SessionStats {
  uint64_t app_out = 0;   // bytes given to Write
  uint64_t wire_out = 0;  // record bytes produced (headers, tags, keepalives included)
  uint64_t app_in = 0;    // application bytes delivered by Read
  uint64_t wire_in = 0;   // record bytes consumed
  uint64_t records_out = 0, records_in = 0;
  uint64_t rekeys_out = 0, rekeys_in = 0;
};

class Session {
 public:
  Session(TransportKeys keys, const SessionOptions& options);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // ---- sending: whole records are appended to *out ----
  // Data may stay buffered (a partial record, or inside zstd) until Flush.
  Status Write(ByteView data, Bytes* out);
  Status Flush(Bytes* out);
  bool HasUnflushed() const { return unflushed_; }
  Status Keepalive(Bytes* out);
  // Sends REKEY, then switches the sending key (by time; bytes are handled inside).
  Status Rekey(Bytes* out);
  // Flushes, then sends CLOSE with `reason`; nothing may be written after it.
  Status Close(std::string_view reason, Bytes* out);

  // ---- receiving ----
  // Opens the complete records in in[0..len) (decrypting in place) and appends their
  // data to *out, stopping once out->size() reaches `max_out` (a decompressed record
  // that overflows it keeps its remainder inside, for the next call). Returns the
  // bytes of `in` consumed. After a CLOSE record, peer_closed() is true and nothing
  // more is read. Any error (authentication, framing, zstd) is final.
  Result<size_t> Read(uint8_t* in, size_t len, std::string* out, size_t max_out);
  bool peer_closed() const { return peer_closed_; }
  const std::string& close_reason() const { return close_reason_; }
  // Data decompressed ahead of the caller's budget is still waiting.
  bool HasBufferedInput() const { return zpos_ < zin_.size() || inflate_more_; }

  const SessionStats& stats() const { return stats_; }

 private:
  // Appends body bytes to the pending record of `type`, sealing full records.
  Status AddBody(RecordType type, ByteView data, Bytes* out);
  Status SealPending(Bytes* out);
  Status SealRecord(RecordType type, ByteView body, Bytes* out);
  Status Inflate(std::string* out, size_t max_out);

  TransportKeys keys_;
  SessionOptions options_;
  std::unique_ptr<ZstdCompressor> zstd_out_;
  std::unique_ptr<ZstdDecompressor> zstd_in_;
  Bytes body_;  // pending record body (without its type)
  RecordType body_type_ = RecordType::kData;
  bool unflushed_ = false;
  bool closed_ = false;
  uint64_t since_rekey_ = 0;
  Status sink_status_;
  // Receive side: a ZSTD record body not yet fully inflated.
  Bytes zin_;
  size_t zpos_ = 0;
  bool inflate_more_ = false;
  bool peer_closed_ = false;
  std::string close_reason_;
  SessionStats stats_;
};

}  // namespace cairn::crypto

// The secure channel's handshake: Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b framed for
// TCP, with WireGuard's care (docs/secure-channel.md is the specification).
//
//   initiation (replica -> master), 128 bytes:
//     u16 length=126 | u8 type=1 | u8 version=1 | e (32) | enc s (48)
//     | enc TAI64N (28) | mac1 (16)
//   response (master -> replica), 52 bytes:
//     u16 length=50 | u8 type=2 | u8 version=1 | e (32) | enc empty (16)
//
// - mac1 = keyed BLAKE2b-128 over every byte before it, keyed with
//   BLAKE2b-256("cairn mac1" || master public key): only a sender that knows the
//   master's public key gets past it, and checking it costs no Diffie-Hellman.
// - The TAI64N timestamp is authenticated by the initiator's static key; the master
//   keeps the newest one per allowed key and refuses anything not newer (replay).
// - The prologue names the protocol version, so peers of different versions fail
//   the handshake instead of misreading each other.
// No I/O here: the callers own sockets, timers and rate limits.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/noise.h"

namespace cairn::crypto {

inline constexpr uint8_t kChannelVersion = 1;
inline constexpr std::string_view kChannelProtocol = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b";
inline constexpr std::string_view kChannelPrologue = "cairn secure channel v1";
inline constexpr uint8_t kTypeInitiation = 1;
inline constexpr uint8_t kTypeResponse = 2;
inline constexpr size_t kMacLen = 16;
inline constexpr size_t kTimestampLen = 12;
inline constexpr size_t kInitiationLen = 2 + 2 + 32 + 48 + kTimestampLen + kTagLen + kMacLen;
inline constexpr size_t kResponseLen = 2 + 2 + 32 + kTagLen;

using Tai64n = std::array<uint8_t, kTimestampLen>;

// TAI64N label for a Unix time in nanoseconds (2^62 + seconds, big-endian; then
// nanoseconds, rounded down to a millisecond so the stamp is no fine clock).
Tai64n Tai64nFromUnixNanos(int64_t unix_nanos);
// Now, but always after the previous call in this process (one event-loop thread).
Tai64n Tai64nNow();

// The two directions of an established channel.
struct TransportKeys {
  CipherState send;
  CipherState recv;
};

class Initiator {
 public:
  // `psk`: all zeros when none is configured (as WireGuard).
  static Result<std::unique_ptr<Initiator>> Create(const Key& local_private,
                                                   const Key& remote_public, const Key& psk);
  Result<Bytes> WriteInitiation(const Tai64n& now);
  // `msg`: exactly kResponseLen bytes as received.
  Result<TransportKeys> ReadResponse(ByteView msg);

 private:
  std::unique_ptr<HandshakeState> hs_;
};

// Why a responder turned an initiation away. kBadMac is a stranger (no log, no
// counter beyond "rejected"); the others name an authenticated or nearly
// authenticated sender and deserve a log line.
enum class Refusal { kNone, kMalformed, kBadMac, kAuthFailed, kUnknownKey, kReplay };
std::string_view RefusalText(Refusal r);

struct AllowedPeer {
  Key public_key{};
  std::string label;
};

class Responder {
 public:
  Responder(const KeyPair& local, const Key& psk);
  ~Responder();
  Responder(const Responder&) = delete;
  Responder& operator=(const Responder&) = delete;
  // Replaces the allowed list; peers that stay keep their newest timestamp.
  void SetPeers(std::vector<AllowedPeer> peers);
  const std::vector<AllowedPeer>& peers() const { return peers_; }

  // Cheap first test of a complete initiation: length, type, version, mac1.
  bool CheckMac1(ByteView msg) const;

  struct Accepted {
    TransportKeys keys;
    size_t peer = 0;  // index into peers()
    Bytes response;   // kResponseLen bytes to send back
  };
  // Everything: mac1, Noise, allowed key, timestamp newer than the last accepted one.
  // `initiator_key` (optional) receives the sender's static key once authenticated,
  // also when it is refused (so that the log can name it).
  Result<Accepted> Accept(ByteView msg, Refusal* why, Key* initiator_key = nullptr);

 private:
  KeyPair local_;
  Key psk_{};
  Key mac1_key_{};
  std::vector<AllowedPeer> peers_;
  std::vector<Tai64n> last_stamp_;  // parallel to peers_
};

// mac1 key for a responder public key (shared by both sides).
Key Mac1Key(const Key& responder_public);

}  // namespace cairn::crypto

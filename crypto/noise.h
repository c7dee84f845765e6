// The Noise protocol framework core (revision 34) for one cipher suite:
// Noise_*_25519_ChaChaPoly_BLAKE2b, on libsodium.
//
//   CipherState     ChaCha20-Poly1305 IETF; nonce = 32 zero bits || 64-bit LE counter;
//                   n = 2^64-1 is reserved (only Rekey uses it).
//   SymmetricState  BLAKE2b-512 hash h and chaining key ck; HKDF over RFC 2104 HMAC on
//                   BLAKE2b (block 128 bytes), not libsodium's keyed BLAKE2b.
//   HandshakeState  a table of the 15 fundamental patterns (N K X NN NK NX KN KK KX XN XK
//                   XX IN IK IX) and the 23 deferred ones (NK1 ... I1X1), with any
//                   psk0..pskN modifiers; tokens e s ee es se ss psk.
//
// The secure channel uses Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b:
//   <- s
//   ...
//   -> e, es, s, ss          (replica -> master)
//   <- e, ee, se, psk        (master -> replica)
//
// Any failure leaves the HandshakeState unusable (the caller must drop the peer);
// secrets are wiped when each state is destroyed.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "crypto/keys.h"
#include "node/base/status.h"

namespace cairn::crypto {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;

inline constexpr size_t kHashLen = 64;  // BLAKE2b-512
inline constexpr size_t kBlockLen = 128;
inline constexpr size_t kTagLen = 16;
inline constexpr size_t kMaxMessageLen = 65535;  // Noise spec section 3
inline constexpr uint64_t kMaxNonce = UINT64_MAX;

using Hash = std::array<uint8_t, kHashLen>;

// BLAKE2b-512 of the concatenation of `parts`.
Hash Blake2b(std::initializer_list<ByteView> parts);
// RFC 2104 HMAC with BLAKE2b-512 (key up to 128 bytes).
Hash HmacBlake2b(ByteView key, std::initializer_list<ByteView> data);
// Noise HKDF (spec 4.3): 2 or 3 outputs of 64 bytes each.
void Hkdf(ByteView chaining_key, ByteView ikm, Hash* out1, Hash* out2, Hash* out3 = nullptr);

class CipherState {
 public:
  CipherState() = default;
  CipherState(const CipherState&) = default;
  CipherState& operator=(const CipherState&) = default;
  ~CipherState();

  void InitializeKey(const Key& key);
  bool HasKey() const { return has_key_; }
  void SetNonce(uint64_t n) { n_ = n; }
  uint64_t nonce() const { return n_; }

  // Without a key both return the input unchanged, as the spec says. Encrypt fails
  // only when the nonce is exhausted; Decrypt fails on any authentication failure and
  // then leaves the nonce where it was.
  Result<Bytes> EncryptWithAd(ByteView ad, ByteView plaintext);
  Result<Bytes> DecryptWithAd(ByteView ad, ByteView ciphertext);
  // The same without copies, for transport records (a key is required). Seal: `buf`
  // holds `len` plaintext bytes and room for kTagLen more, and ends up holding the
  // ciphertext and tag. Open: `buf` holds `len` bytes of ciphertext and tag; the first
  // len - kTagLen become the plaintext. A failed Open leaves the nonce unchanged.
  Status SealInPlace(ByteView ad, uint8_t* buf, size_t len);
  Status OpenInPlace(ByteView ad, uint8_t* buf, size_t len);
  // k = first 32 bytes of ENCRYPT(k, 2^64-1, "", 32 zero bytes); n is unchanged.
  void Rekey();

 private:
  Key k_{};
  bool has_key_ = false;
  uint64_t n_ = 0;
};

class SymmetricState {
 public:
  SymmetricState() = default;
  ~SymmetricState();
  SymmetricState(const SymmetricState&) = delete;
  SymmetricState& operator=(const SymmetricState&) = delete;

  void InitializeSymmetric(std::string_view protocol_name);
  void MixKey(ByteView input_key_material);
  void MixHash(ByteView data);
  void MixKeyAndHash(ByteView input_key_material);
  const Hash& GetHandshakeHash() const { return h_; }
  bool HasKey() const { return cipher_.HasKey(); }
  Result<Bytes> EncryptAndHash(ByteView plaintext);
  Result<Bytes> DecryptAndHash(ByteView ciphertext);
  // (initiator -> responder, responder -> initiator)
  std::pair<CipherState, CipherState> Split();

 private:
  Hash ck_{};
  Hash h_{};
  CipherState cipher_;
};

enum class Token : uint8_t { kE, kS, kEE, kES, kSE, kSS, kPsk };

// A handshake pattern with its modifiers applied. Messages alternate initiator,
// responder, ... starting with the initiator.
struct HandshakePattern {
  std::string name;                  // e.g. "IKpsk2"
  std::vector<Token> initiator_pre;  // "-> s" pre-message (only kS here)
  std::vector<Token> responder_pre;  // "<- s" pre-message
  std::vector<std::vector<Token>> messages;
  bool one_way = false;
  size_t psk_count = 0;
};

// "IK" or "IKpsk2" or "XXpsk0+psk1": the base pattern from the table plus modifiers.
Result<HandshakePattern> ParsePattern(std::string_view pattern_and_modifiers);

struct HandshakeConfig {
  // Full name, e.g. "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b"; other suites are refused.
  std::string protocol_name;
  bool initiator = false;
  Bytes prologue;
  std::optional<Key> local_static_private;  // s, when the pattern has one for this side
  std::optional<Key> remote_static_public;  // rs, when known before the handshake
  std::vector<Key> psks;                    // in the order of the pskN modifiers
};

class HandshakeState {
 public:
  static Result<std::unique_ptr<HandshakeState>> Create(const HandshakeConfig& config);
  ~HandshakeState();
  HandshakeState(const HandshakeState&) = delete;
  HandshakeState& operator=(const HandshakeState&) = delete;

  // Test vectors only: use this private key instead of a random ephemeral one.
  void SetEphemeralForTesting(const Key& private_key);

  // The next message must be ours to write (or to read), else InvalidArgument.
  Result<Bytes> WriteMessage(ByteView payload);
  Result<Bytes> ReadMessage(ByteView message);

  bool IsMyTurnToWrite() const;
  bool IsComplete() const { return next_message_ >= pattern_.messages.size(); }
  // After the last message: (send, receive) cipher states for this side.
  Result<std::pair<CipherState, CipherState>> Split();
  const Hash& GetHandshakeHash() const { return symmetric_.GetHandshakeHash(); }
  // The peer's static public key once received (or as configured).
  const std::optional<Key>& remote_static() const { return rs_; }
  const HandshakePattern& pattern() const { return pattern_; }

 private:
  HandshakeState() = default;
  Status Dh(const Key& private_key, const Key& public_key, Key* out);
  Status MixDh(Token token);
  Status Fail(Status st);

  HandshakePattern pattern_;
  bool initiator_ = false;
  SymmetricState symmetric_;
  std::optional<KeyPair> s_;
  std::optional<KeyPair> e_;
  std::optional<Key> rs_;
  std::optional<Key> re_;
  std::vector<Key> psks_;
  size_t next_psk_ = 0;
  std::optional<Key> fixed_e_;
  size_t next_message_ = 0;
  bool failed_ = false;
};

}  // namespace cairn::crypto

// Noise core for 25519 / ChaChaPoly / BLAKE2b. See noise.h; section numbers refer to
// the Noise specification, revision 34.
#include "crypto/noise.h"

#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <string_view>

namespace cairn::crypto {
namespace {

constexpr std::string_view kSuiteSuffix = "_25519_ChaChaPoly_BLAKE2b";
constexpr std::string_view kNoisePrefix = "Noise_";

ByteView View(const Key& k) { return ByteView(k.data(), k.size()); }
ByteView View(const Hash& h) { return ByteView(h.data(), h.size()); }

// First 32 bytes of a 64-byte HKDF output, as cipher keys are (section 5.2).
Key Truncate(const Hash& h) {
  Key k;
  std::memcpy(k.data(), h.data(), k.size());
  return k;
}

void Append(Bytes* out, ByteView data) { out->insert(out->end(), data.begin(), data.end()); }

// Nonce encoding of section 12.3: 32 bits of zeros, then n little-endian.
void EncodeNonce(uint64_t n, uint8_t nonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES]) {
  std::memset(nonce, 0, 4);
  for (int i = 0; i < 8; ++i) nonce[4 + i] = static_cast<uint8_t>(n >> (8 * i));
}

}  // namespace

Hash Blake2b(std::initializer_list<ByteView> parts) {
  crypto_generichash_blake2b_state st;
  crypto_generichash_blake2b_init(&st, nullptr, 0, kHashLen);
  for (ByteView p : parts) crypto_generichash_blake2b_update(&st, p.data(), p.size());
  Hash out;
  crypto_generichash_blake2b_final(&st, out.data(), out.size());
  sodium_memzero(&st, sizeof st);
  return out;
}

Hash HmacBlake2b(ByteView key, std::initializer_list<ByteView> data) {
  // RFC 2104: H((K ^ opad) || H((K ^ ipad) || data)), K zero-padded to the block.
  uint8_t block[kBlockLen] = {};
  if (key.size() > kBlockLen) {
    Hash hk = Blake2b({key});
    std::memcpy(block, hk.data(), hk.size());
    sodium_memzero(hk.data(), hk.size());
  } else {
    std::memcpy(block, key.data(), key.size());
  }
  uint8_t pad[kBlockLen];
  for (size_t i = 0; i < kBlockLen; ++i) pad[i] = block[i] ^ 0x36;
  crypto_generichash_blake2b_state st;
  crypto_generichash_blake2b_init(&st, nullptr, 0, kHashLen);
  crypto_generichash_blake2b_update(&st, pad, kBlockLen);
  for (ByteView d : data) crypto_generichash_blake2b_update(&st, d.data(), d.size());
  Hash inner;
  crypto_generichash_blake2b_final(&st, inner.data(), inner.size());
  for (size_t i = 0; i < kBlockLen; ++i) pad[i] = block[i] ^ 0x5c;
  Hash out = Blake2b({ByteView(pad, kBlockLen), View(inner)});
  sodium_memzero(block, sizeof block);
  sodium_memzero(pad, sizeof pad);
  sodium_memzero(inner.data(), inner.size());
  sodium_memzero(&st, sizeof st);
  return out;
}

void Hkdf(ByteView chaining_key, ByteView ikm, Hash* out1, Hash* out2, Hash* out3) {
  static constexpr uint8_t kOne = 0x01, kTwo = 0x02, kThree = 0x03;
  Hash temp_key = HmacBlake2b(chaining_key, {ikm});
  *out1 = HmacBlake2b(View(temp_key), {ByteView(&kOne, 1)});
  *out2 = HmacBlake2b(View(temp_key), {View(*out1), ByteView(&kTwo, 1)});
  if (out3 != nullptr) *out3 = HmacBlake2b(View(temp_key), {View(*out2), ByteView(&kThree, 1)});
  sodium_memzero(temp_key.data(), temp_key.size());
}

// ---- CipherState (section 5.1) ----

CipherState::~CipherState() { sodium_memzero(k_.data(), k_.size()); }

void CipherState::InitializeKey(const Key& key) {
  k_ = key;
  has_key_ = true;
  n_ = 0;
}

Status CipherState::SealInPlace(ByteView ad, uint8_t* buf, size_t len) {
  if (!has_key_) return Status::InvalidArgument("Noise cipher has no key");
  if (n_ == kMaxNonce) return Status::Aborted("Noise nonce exhausted: rekey or start over");
  uint8_t nonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES];
  EncodeNonce(n_, nonce);
  crypto_aead_chacha20poly1305_ietf_encrypt_detached(buf, buf + len, nullptr, buf, len, ad.data(),
                                                     ad.size(), nullptr, nonce, k_.data());
  ++n_;
  return Status::Ok();
}

Status CipherState::OpenInPlace(ByteView ad, uint8_t* buf, size_t len) {
  if (!has_key_) return Status::InvalidArgument("Noise cipher has no key");
  if (n_ == kMaxNonce) return Status::Aborted("Noise nonce exhausted: rekey or start over");
  if (len < kTagLen) return Status::Corruption("Noise ciphertext shorter than tag");
  uint8_t nonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES];
  EncodeNonce(n_, nonce);
  if (crypto_aead_chacha20poly1305_ietf_decrypt_detached(buf, nullptr, buf, len - kTagLen,
                                                         buf + len - kTagLen, ad.data(), ad.size(),
                                                         nonce, k_.data()) != 0) {
    return Status::Corruption("Noise message failed authentication");
  }
  ++n_;
  return Status::Ok();
}

Result<Bytes> CipherState::EncryptWithAd(ByteView ad, ByteView plaintext) {
  if (!has_key_) return Bytes(plaintext.begin(), plaintext.end());
  Bytes out(plaintext.size() + kTagLen);
  std::copy(plaintext.begin(), plaintext.end(), out.begin());
  if (Status st = SealInPlace(ad, out.data(), plaintext.size()); !st.ok()) return st;
  return out;
}

Result<Bytes> CipherState::DecryptWithAd(ByteView ad, ByteView ciphertext) {
  if (!has_key_) return Bytes(ciphertext.begin(), ciphertext.end());
  Bytes out(ciphertext.begin(), ciphertext.end());
  if (Status st = OpenInPlace(ad, out.data(), out.size()); !st.ok()) return st;
  out.resize(out.size() - kTagLen);
  return out;
}

void CipherState::Rekey() {
  uint8_t nonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES];
  EncodeNonce(kMaxNonce, nonce);
  uint8_t zeros[kKeyLen] = {};
  uint8_t out[kKeyLen + kTagLen];
  unsigned long long out_len = 0;
  crypto_aead_chacha20poly1305_ietf_encrypt(out, &out_len, zeros, sizeof zeros, nullptr, 0, nullptr,
                                            nonce, k_.data());
  std::memcpy(k_.data(), out, kKeyLen);
  sodium_memzero(out, sizeof out);
}

// ---- SymmetricState (section 5.2) ----

SymmetricState::~SymmetricState() {
  sodium_memzero(ck_.data(), ck_.size());
  sodium_memzero(h_.data(), h_.size());
}

void SymmetricState::InitializeSymmetric(std::string_view protocol_name) {
  if (protocol_name.size() <= kHashLen) {
    h_.fill(0);
    std::memcpy(h_.data(), protocol_name.data(), protocol_name.size());
  } else {
    h_ = Blake2b(
        {ByteView(reinterpret_cast<const uint8_t*>(protocol_name.data()), protocol_name.size())});
  }
  ck_ = h_;
  cipher_ = CipherState();
}

void SymmetricState::MixKey(ByteView input_key_material) {
  Hash temp_k;
  Hkdf(View(ck_), input_key_material, &ck_, &temp_k);
  Key k = Truncate(temp_k);
  cipher_.InitializeKey(k);
  sodium_memzero(temp_k.data(), temp_k.size());
  sodium_memzero(k.data(), k.size());
}

void SymmetricState::MixHash(ByteView data) { h_ = Blake2b({View(h_), data}); }

void SymmetricState::MixKeyAndHash(ByteView input_key_material) {
  Hash temp_h, temp_k;
  Hkdf(View(ck_), input_key_material, &ck_, &temp_h, &temp_k);
  MixHash(View(temp_h));
  Key k = Truncate(temp_k);
  cipher_.InitializeKey(k);
  sodium_memzero(temp_k.data(), temp_k.size());
  sodium_memzero(k.data(), k.size());
}

Result<Bytes> SymmetricState::EncryptAndHash(ByteView plaintext) {
  Result<Bytes> ct = cipher_.EncryptWithAd(View(h_), plaintext);
  if (ct.ok()) MixHash(*ct);
  return ct;
}

Result<Bytes> SymmetricState::DecryptAndHash(ByteView ciphertext) {
  Result<Bytes> pt = cipher_.DecryptWithAd(View(h_), ciphertext);
  if (pt.ok()) MixHash(ciphertext);
  return pt;
}

std::pair<CipherState, CipherState> SymmetricState::Split() {
  Hash temp_k1, temp_k2;
  Hkdf(View(ck_), ByteView(), &temp_k1, &temp_k2);
  Key k1 = Truncate(temp_k1), k2 = Truncate(temp_k2);
  std::pair<CipherState, CipherState> out;
  out.first.InitializeKey(k1);
  out.second.InitializeKey(k2);
  sodium_memzero(temp_k1.data(), temp_k1.size());
  sodium_memzero(temp_k2.data(), temp_k2.size());
  sodium_memzero(k1.data(), k1.size());
  sodium_memzero(k2.data(), k2.size());
  return out;
}

// ---- Patterns (sections 7.4, 7.5, 9) ----

namespace {

using T = Token;
struct PatternRow {
  std::string_view name;
  std::vector<Token> initiator_pre, responder_pre;
  std::vector<std::vector<Token>> messages;
};

const std::vector<PatternRow>& PatternTable() {
  static const std::vector<PatternRow> kTable = {
      // One-way (7.4).
      {"N", {}, {T::kS}, {{T::kE, T::kES}}},
      {"K", {T::kS}, {T::kS}, {{T::kE, T::kES, T::kSS}}},
      {"X", {}, {T::kS}, {{T::kE, T::kES, T::kS, T::kSS}}},
      // Interactive (7.5).
      {"NN", {}, {}, {{T::kE}, {T::kE, T::kEE}}},
      {"NK", {}, {T::kS}, {{T::kE, T::kES}, {T::kE, T::kEE}}},
      {"NX", {}, {}, {{T::kE}, {T::kE, T::kEE, T::kS, T::kES}}},
      {"KN", {T::kS}, {}, {{T::kE}, {T::kE, T::kEE, T::kSE}}},
      {"KK", {T::kS}, {T::kS}, {{T::kE, T::kES, T::kSS}, {T::kE, T::kEE, T::kSE}}},
      {"KX", {T::kS}, {}, {{T::kE}, {T::kE, T::kEE, T::kSE, T::kS, T::kES}}},
      {"XN", {}, {}, {{T::kE}, {T::kE, T::kEE}, {T::kS, T::kSE}}},
      {"XK", {}, {T::kS}, {{T::kE, T::kES}, {T::kE, T::kEE}, {T::kS, T::kSE}}},
      {"XX", {}, {}, {{T::kE}, {T::kE, T::kEE, T::kS, T::kES}, {T::kS, T::kSE}}},
      {"IN", {}, {}, {{T::kE, T::kS}, {T::kE, T::kEE, T::kSE}}},
      {"IK", {}, {T::kS}, {{T::kE, T::kES, T::kS, T::kSS}, {T::kE, T::kEE, T::kSE}}},
      {"IX", {}, {}, {{T::kE, T::kS}, {T::kE, T::kEE, T::kSE, T::kS, T::kES}}},
      // Deferred (7.6): a digit after I, K or X moves that side's authentication DH
      // to the next message.
      {"NK1", {}, {T::kS}, {{T::kE}, {T::kE, T::kEE, T::kES}}},
      {"NX1", {}, {}, {{T::kE}, {T::kE, T::kEE, T::kS}, {T::kES}}},
      {"X1N", {}, {}, {{T::kE}, {T::kE, T::kEE}, {T::kS}, {T::kSE}}},
      {"X1K", {}, {T::kS}, {{T::kE, T::kES}, {T::kE, T::kEE}, {T::kS}, {T::kSE}}},
      {"XK1", {}, {T::kS}, {{T::kE}, {T::kE, T::kEE, T::kES}, {T::kS, T::kSE}}},
      {"X1K1", {}, {T::kS}, {{T::kE}, {T::kE, T::kEE, T::kES}, {T::kS}, {T::kSE}}},
      {"X1X", {}, {}, {{T::kE}, {T::kE, T::kEE, T::kS, T::kES}, {T::kS}, {T::kSE}}},
      {"XX1", {}, {}, {{T::kE}, {T::kE, T::kEE, T::kS}, {T::kES, T::kS, T::kSE}}},
      {"X1X1", {}, {}, {{T::kE}, {T::kE, T::kEE, T::kS}, {T::kES, T::kS}, {T::kSE}}},
      {"K1N", {T::kS}, {}, {{T::kE}, {T::kE, T::kEE}, {T::kSE}}},
      {"K1K", {T::kS}, {T::kS}, {{T::kE, T::kES}, {T::kE, T::kEE}, {T::kSE}}},
      {"KK1", {T::kS}, {T::kS}, {{T::kE}, {T::kE, T::kEE, T::kSE, T::kES}}},
      {"K1K1", {T::kS}, {T::kS}, {{T::kE}, {T::kE, T::kEE, T::kES}, {T::kSE}}},
      {"K1X", {T::kS}, {}, {{T::kE}, {T::kE, T::kEE, T::kS, T::kES}, {T::kSE}}},
      {"KX1", {T::kS}, {}, {{T::kE}, {T::kE, T::kEE, T::kSE, T::kS}, {T::kES}}},
      {"K1X1", {T::kS}, {}, {{T::kE}, {T::kE, T::kEE, T::kS}, {T::kSE, T::kES}}},
      {"I1N", {}, {}, {{T::kE, T::kS}, {T::kE, T::kEE}, {T::kSE}}},
      {"I1K", {}, {T::kS}, {{T::kE, T::kES, T::kS}, {T::kE, T::kEE}, {T::kSE}}},
      {"IK1", {}, {T::kS}, {{T::kE, T::kS}, {T::kE, T::kEE, T::kSE, T::kES}}},
      {"I1K1", {}, {T::kS}, {{T::kE, T::kS}, {T::kE, T::kEE, T::kES}, {T::kSE}}},
      {"I1X", {}, {}, {{T::kE, T::kS}, {T::kE, T::kEE, T::kS, T::kES}, {T::kSE}}},
      {"IX1", {}, {}, {{T::kE, T::kS}, {T::kE, T::kEE, T::kSE, T::kS}, {T::kES}}},
      {"I1X1", {}, {}, {{T::kE, T::kS}, {T::kE, T::kEE, T::kS}, {T::kSE, T::kES}}},
  };
  return kTable;
}

}  // namespace

Result<HandshakePattern> ParsePattern(std::string_view text) {
  size_t base_len = 0;
  while (base_len < text.size() && ((text[base_len] >= 'A' && text[base_len] <= 'Z') ||
                                    (text[base_len] >= '0' && text[base_len] <= '9'))) {
    ++base_len;
  }
  std::string_view base = text.substr(0, base_len);
  const PatternRow* row = nullptr;
  for (const PatternRow& r : PatternTable()) {
    if (r.name == base) row = &r;
  }
  if (row == nullptr) {
    return Status::NotSupported("Noise pattern '" + std::string(text) + "' is not supported");
  }
  HandshakePattern p;
  p.name = std::string(text);
  p.initiator_pre = row->initiator_pre;
  p.responder_pre = row->responder_pre;
  p.messages = row->messages;
  p.one_way = p.messages.size() == 1;
  // Modifiers: "psk0", "psk2", "psk0+psk2", ... (section 9.2). psk0 goes first in the
  // first message; pskN (N >= 1) goes last in message N.
  std::string_view mods = text.substr(base_len);
  while (!mods.empty()) {
    if (mods.substr(0, 3) != "psk" || mods.size() < 4 || mods[3] < '0' || mods[3] > '9') {
      return Status::NotSupported("Noise modifier in '" + std::string(text) + "' is not supported");
    }
    size_t n = static_cast<size_t>(mods[3] - '0');
    if (n > p.messages.size()) {
      return Status::InvalidArgument("Noise modifier psk" + std::to_string(n) +
                                     " past the last "
                                     "message of " +
                                     std::string(base));
    }
    if (n == 0) {
      p.messages[0].insert(p.messages[0].begin(), T::kPsk);
    } else {
      p.messages[n - 1].push_back(T::kPsk);
    }
    ++p.psk_count;
    mods.remove_prefix(4);
    if (!mods.empty()) {
      if (mods[0] != '+') return Status::NotSupported("Noise modifiers are joined by '+'");
      mods.remove_prefix(1);
    }
  }
  return p;
}

// ---- HandshakeState (section 5.3) ----

Result<std::unique_ptr<HandshakeState>> HandshakeState::Create(const HandshakeConfig& config) {
  if (Status st = InitSodium(); !st.ok()) return st;
  std::string_view name = config.protocol_name;
  if (name.substr(0, kNoisePrefix.size()) != kNoisePrefix || name.size() <= kSuiteSuffix.size() ||
      name.substr(name.size() - kSuiteSuffix.size()) != kSuiteSuffix) {
    return Status::NotSupported("Noise protocol '" + config.protocol_name + "' is not " +
                                "Noise_*_25519_ChaChaPoly_BLAKE2b");
  }
  std::string_view pattern_text =
      name.substr(kNoisePrefix.size(), name.size() - kNoisePrefix.size() - kSuiteSuffix.size());
  Result<HandshakePattern> pattern = ParsePattern(pattern_text);
  if (!pattern.ok()) return pattern.status();

  std::unique_ptr<HandshakeState> hs(new HandshakeState());
  hs->pattern_ = std::move(*pattern);
  hs->initiator_ = config.initiator;
  if (config.local_static_private) {
    Result<KeyPair> kp = KeyPairFromPrivate(*config.local_static_private);
    if (!kp.ok()) return kp.status();
    hs->s_ = *kp;
  }
  hs->rs_ = config.remote_static_public;
  hs->psks_ = config.psks;
  if (hs->psks_.size() != hs->pattern_.psk_count) {
    return Status::InvalidArgument("Noise " + hs->pattern_.name + " needs " +
                                   std::to_string(hs->pattern_.psk_count) + " PSK(s), got " +
                                   std::to_string(hs->psks_.size()));
  }

  // Which static keys this side needs: its own if it sends s or has an s pre-message,
  // the peer's if the peer's s is a pre-message.
  const std::vector<Token>& my_pre =
      config.initiator ? hs->pattern_.initiator_pre : hs->pattern_.responder_pre;
  const std::vector<Token>& peer_pre =
      config.initiator ? hs->pattern_.responder_pre : hs->pattern_.initiator_pre;
  bool needs_s = !my_pre.empty();
  for (size_t i = 0; i < hs->pattern_.messages.size(); ++i) {
    bool mine = hs->pattern_.one_way || ((i % 2 == 0) == config.initiator);
    for (Token t : hs->pattern_.messages[i]) {
      if (mine && t == T::kS) needs_s = true;
    }
  }
  if (needs_s && !hs->s_) {
    return Status::InvalidArgument("Noise " + hs->pattern_.name + " needs this side's static key");
  }
  if (!peer_pre.empty() && !hs->rs_) {
    return Status::InvalidArgument("Noise " + hs->pattern_.name +
                                   " needs the peer's static public key in advance");
  }

  hs->symmetric_.InitializeSymmetric(name);
  hs->symmetric_.MixHash(config.prologue);
  // Pre-messages: the initiator's first, then the responder's (section 7.1).
  const Key* init_s =
      config.initiator ? (hs->s_ ? &hs->s_->public_key : nullptr) : (hs->rs_ ? &*hs->rs_ : nullptr);
  const Key* resp_s =
      config.initiator ? (hs->rs_ ? &*hs->rs_ : nullptr) : (hs->s_ ? &hs->s_->public_key : nullptr);
  for (Token t : hs->pattern_.initiator_pre) {
    if (t == T::kS) hs->symmetric_.MixHash(View(*init_s));
  }
  for (Token t : hs->pattern_.responder_pre) {
    if (t == T::kS) hs->symmetric_.MixHash(View(*resp_s));
  }
  return hs;
}

HandshakeState::~HandshakeState() {
  for (Key& k : psks_) sodium_memzero(k.data(), k.size());
  if (fixed_e_) sodium_memzero(fixed_e_->data(), fixed_e_->size());
}

void HandshakeState::SetEphemeralForTesting(const Key& private_key) { fixed_e_ = private_key; }

bool HandshakeState::IsMyTurnToWrite() const {
  if (pattern_.one_way) return initiator_;
  return (next_message_ % 2 == 0) == initiator_;
}

Status HandshakeState::Fail(Status st) {
  failed_ = true;
  return st;
}

Status HandshakeState::Dh(const Key& private_key, const Key& public_key, Key* out) {
  // libsodium returns -1 when the result is all zeros (a low-order peer point).
  if (crypto_scalarmult(out->data(), private_key.data(), public_key.data()) != 0) {
    return Status::Corruption("Noise DH gave an all-zero result (bad public key)");
  }
  return Status::Ok();
}

// ee, es, se, ss: which of our keys meets which of theirs depends on our role.
Status HandshakeState::MixDh(Token token) {
  const KeyPair* mine = nullptr;
  const std::optional<Key>* theirs = nullptr;
  bool i = initiator_;
  switch (token) {
    case T::kEE:
      mine = e_ ? &*e_ : nullptr, theirs = &re_;
      break;
    case T::kES:
      mine = i ? (e_ ? &*e_ : nullptr) : (s_ ? &*s_ : nullptr), theirs = i ? &rs_ : &re_;
      break;
    case T::kSE:
      mine = i ? (s_ ? &*s_ : nullptr) : (e_ ? &*e_ : nullptr), theirs = i ? &re_ : &rs_;
      break;
    case T::kSS:
      mine = s_ ? &*s_ : nullptr, theirs = &rs_;
      break;
    default:
      return Status::InvalidArgument("not a DH token");
  }
  if (mine == nullptr || !theirs->has_value()) {
    return Status::InvalidArgument("Noise DH token without the keys it needs");
  }
  Key shared{};
  Status st = Dh(mine->private_key, **theirs, &shared);
  if (st.ok()) symmetric_.MixKey(View(shared));
  sodium_memzero(shared.data(), shared.size());
  return st;
}

Result<Bytes> HandshakeState::WriteMessage(ByteView payload) {
  if (failed_) return Status::Aborted("Noise handshake already failed");
  if (IsComplete()) return Status::InvalidArgument("Noise handshake already complete");
  if (!IsMyTurnToWrite()) return Status::InvalidArgument("Noise: not this side's turn to write");
  Bytes out;
  for (Token t : pattern_.messages[next_message_]) {
    switch (t) {
      case T::kE: {  // e
        Result<KeyPair> kp = fixed_e_ ? KeyPairFromPrivate(*fixed_e_) : GenerateKeyPair();
        if (!kp.ok()) return Fail(kp.status());
        e_ = *kp;
        Append(&out, View(e_->public_key));
        symmetric_.MixHash(View(e_->public_key));
        if (pattern_.psk_count > 0) symmetric_.MixKey(View(e_->public_key));
        break;
      }
      case T::kS: {  // s
        Result<Bytes> ct = symmetric_.EncryptAndHash(View(s_->public_key));
        if (!ct.ok()) return Fail(ct.status());
        Append(&out, *ct);
        break;
      }
      case T::kPsk:  // psk
        symmetric_.MixKeyAndHash(View(psks_[next_psk_++]));
        break;
      default:  // ee, es, se, ss
        if (Status st = MixDh(t); !st.ok()) return Fail(st);
    }
  }
  Result<Bytes> ct = symmetric_.EncryptAndHash(payload);
  if (!ct.ok()) return Fail(ct.status());
  Append(&out, *ct);
  if (out.size() > kMaxMessageLen) return Fail(Status::InvalidArgument("Noise message too long"));
  ++next_message_;
  return out;
}

Result<Bytes> HandshakeState::ReadMessage(ByteView message) {
  if (failed_) return Status::Aborted("Noise handshake already failed");
  if (IsComplete()) return Status::InvalidArgument("Noise handshake already complete");
  if (IsMyTurnToWrite()) return Status::InvalidArgument("Noise: not this side's turn to read");
  if (message.size() > kMaxMessageLen) return Fail(Status::Corruption("Noise message too long"));
  for (Token t : pattern_.messages[next_message_]) {
    switch (t) {
      case T::kE: {  // e
        if (message.size() < kKeyLen) return Fail(Status::Corruption("Noise message truncated"));
        Key re;
        std::memcpy(re.data(), message.data(), kKeyLen);
        message = message.subspan(kKeyLen);
        re_ = re;
        symmetric_.MixHash(View(re));
        if (pattern_.psk_count > 0) symmetric_.MixKey(View(re));
        break;
      }
      case T::kS: {  // s
        size_t len = kKeyLen + (symmetric_.HasKey() ? kTagLen : 0);
        if (message.size() < len) return Fail(Status::Corruption("Noise message truncated"));
        Result<Bytes> pt = symmetric_.DecryptAndHash(message.subspan(0, len));
        if (!pt.ok()) return Fail(pt.status());
        message = message.subspan(len);
        Key rs;
        std::memcpy(rs.data(), pt->data(), kKeyLen);
        rs_ = rs;
        break;
      }
      case T::kPsk:  // psk
        symmetric_.MixKeyAndHash(View(psks_[next_psk_++]));
        break;
      default:  // ee, es, se, ss
        if (Status st = MixDh(t); !st.ok()) return Fail(st);
    }
  }
  Result<Bytes> pt = symmetric_.DecryptAndHash(message);
  if (!pt.ok()) return Fail(pt.status());
  ++next_message_;
  return pt;
}

Result<std::pair<CipherState, CipherState>> HandshakeState::Split() {
  if (failed_ || !IsComplete()) return Status::InvalidArgument("Noise handshake not complete");
  std::pair<CipherState, CipherState> c = symmetric_.Split();
  if (initiator_) return c;
  return std::make_pair(c.second, c.first);
}

}  // namespace cairn::crypto

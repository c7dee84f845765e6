// The secure channel's handshake messages; see handshake.h.
#include "crypto/handshake.h"

#include <sodium.h>

#include <chrono>
#include <cstring>

namespace cairn::crypto {
namespace {

constexpr std::string_view kMac1Label = "cairn mac1";
constexpr size_t kNoiseInitiationLen = 32 + 48 + kTimestampLen + kTagLen;
constexpr size_t kNoiseResponseLen = 32 + kTagLen;

ByteView View(std::string_view s) {
  return ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

void PutHeader(Bytes* out, size_t total, uint8_t type) {
  size_t len = total - 2;
  out->push_back(static_cast<uint8_t>(len >> 8));
  out->push_back(static_cast<uint8_t>(len));
  out->push_back(type);
  out->push_back(kChannelVersion);
}

bool HeaderIs(ByteView msg, size_t total, uint8_t type) {
  return msg.size() == total && ((size_t{msg[0]} << 8) | msg[1]) == total - 2 && msg[2] == type &&
         msg[3] == kChannelVersion;
}

HandshakeConfig Config(bool initiator, const Key& psk) {
  HandshakeConfig c;
  c.protocol_name = std::string(kChannelProtocol);
  c.initiator = initiator;
  ByteView p = View(kChannelPrologue);
  c.prologue.assign(p.begin(), p.end());
  c.psks.push_back(psk);
  return c;
}

void Mac1(const Key& mac1_key, ByteView data, uint8_t out[kMacLen]) {
  crypto_generichash_blake2b(out, kMacLen, data.data(), data.size(), mac1_key.data(),
                             mac1_key.size());
}

// Split already returns (send, receive) for the calling side.
Result<TransportKeys> Finish(HandshakeState& hs) {
  auto split = hs.Split();
  if (!split.ok()) return split.status();
  return TransportKeys{split->first, split->second};
}

}  // namespace

Tai64n Tai64nFromUnixNanos(int64_t unix_nanos) {
  Tai64n t{};
  uint64_t secs = (uint64_t{1} << 62) + static_cast<uint64_t>(unix_nanos / 1000000000);
  uint32_t nanos = static_cast<uint32_t>(unix_nanos % 1000000000);
  nanos -= nanos % 1000000;
  for (int i = 0; i < 8; ++i) t[i] = static_cast<uint8_t>(secs >> (56 - 8 * i));
  for (int i = 0; i < 4; ++i) t[8 + i] = static_cast<uint8_t>(nanos >> (24 - 8 * i));
  return t;
}

Tai64n Tai64nNow() {
  // Strictly increasing within the process even when two handshakes fall in the same
  // millisecond (a reconnect right after a cut), or the clock steps back a little:
  // the responder refuses a timestamp that is not newer than the last one.
  static int64_t last_ms = 0;
  auto now = std::chrono::system_clock::now().time_since_epoch();
  int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(now).count();
  if (ms <= last_ms) ms = last_ms + 1;
  last_ms = ms;
  return Tai64nFromUnixNanos(ms * 1000000);
}

Key Mac1Key(const Key& responder_public) {
  Key k{};
  crypto_generichash_blake2b_state st;
  crypto_generichash_blake2b_init(&st, nullptr, 0, k.size());
  crypto_generichash_blake2b_update(&st, reinterpret_cast<const uint8_t*>(kMac1Label.data()),
                                    kMac1Label.size());
  crypto_generichash_blake2b_update(&st, responder_public.data(), responder_public.size());
  crypto_generichash_blake2b_final(&st, k.data(), k.size());
  return k;
}

std::string_view RefusalText(Refusal r) {
  switch (r) {
    case Refusal::kNone:
      return "accepted";
    case Refusal::kMalformed:
      return "not a Cairn channel initiation";
    case Refusal::kBadMac:
      return "bad mac1 (the sender does not know this node's public key)";
    case Refusal::kAuthFailed:
      return "initiation failed authentication";
    case Refusal::kUnknownKey:
      return "public key not in secure-allow";
    case Refusal::kReplay:
      return "replayed or old initiation (timestamp not newer than the last accepted)";
  }
  return "?";
}

// ---- Initiator ----

Result<std::unique_ptr<Initiator>> Initiator::Create(const Key& local_private,
                                                     const Key& remote_public, const Key& psk) {
  HandshakeConfig c = Config(true, psk);
  c.local_static_private = local_private;
  c.remote_static_public = remote_public;
  auto hs = HandshakeState::Create(c);
  Wipe(c.local_static_private->data(), kKeyLen);
  Wipe(c.psks[0].data(), kKeyLen);
  if (!hs.ok()) return hs.status();
  auto init = std::unique_ptr<Initiator>(new Initiator());
  init->hs_ = std::move(*hs);
  return init;
}

Result<Bytes> Initiator::WriteInitiation(const Tai64n& now) {
  auto noise = hs_->WriteMessage(ByteView(now.data(), now.size()));
  if (!noise.ok()) return noise.status();
  if (noise->size() != kNoiseInitiationLen) return Status::Corruption("initiation size");
  Bytes out;
  out.reserve(kInitiationLen);
  PutHeader(&out, kInitiationLen, kTypeInitiation);
  out.insert(out.end(), noise->begin(), noise->end());
  uint8_t mac[kMacLen];
  Mac1(Mac1Key(*hs_->remote_static()), out, mac);
  out.insert(out.end(), mac, mac + kMacLen);
  return out;
}

Result<TransportKeys> Initiator::ReadResponse(ByteView msg) {
  if (!HeaderIs(msg, kResponseLen, kTypeResponse)) {
    return Status::Corruption("not a Cairn channel response (another service on that port?)");
  }
  auto payload = hs_->ReadMessage(msg.subspan(4));
  if (!payload.ok()) {
    return Status::Corruption(
        "the master's response failed authentication (the two sides' secure-psk-file "
        "differ)");
  }
  if (!payload->empty()) return Status::Corruption("unexpected payload in the response");
  return Finish(*hs_);
}

// ---- Responder ----

Responder::Responder(const KeyPair& local, const Key& psk)
    : local_(local), psk_(psk), mac1_key_(Mac1Key(local.public_key)) {}

Responder::~Responder() {
  Wipe(psk_.data(), psk_.size());
  Wipe(mac1_key_.data(), mac1_key_.size());
}

void Responder::SetPeers(std::vector<AllowedPeer> peers) {
  std::vector<Tai64n> stamps(peers.size());
  for (size_t i = 0; i < peers.size(); ++i) {
    for (size_t j = 0; j < peers_.size(); ++j) {
      if (KeysEqual(peers[i].public_key, peers_[j].public_key)) stamps[i] = last_stamp_[j];
    }
  }
  peers_ = std::move(peers);
  last_stamp_ = std::move(stamps);
}

bool Responder::CheckMac1(ByteView msg) const {
  if (!HeaderIs(msg, kInitiationLen, kTypeInitiation)) return false;
  uint8_t mac[kMacLen];
  Mac1(mac1_key_, msg.first(kInitiationLen - kMacLen), mac);
  return sodium_memcmp(mac, msg.data() + kInitiationLen - kMacLen, kMacLen) == 0;
}

Result<Responder::Accepted> Responder::Accept(ByteView msg, Refusal* why, Key* initiator_key) {
  auto refuse = [why](Refusal r) {
    *why = r;
    return Status::Aborted(std::string(RefusalText(r)));
  };
  if (!HeaderIs(msg, kInitiationLen, kTypeInitiation)) return refuse(Refusal::kMalformed);
  if (!CheckMac1(msg)) return refuse(Refusal::kBadMac);
  HandshakeConfig c = Config(false, psk_);
  c.local_static_private = local_.private_key;
  auto hs = HandshakeState::Create(c);
  Wipe(c.local_static_private->data(), kKeyLen);
  Wipe(c.psks[0].data(), kKeyLen);
  if (!hs.ok()) return hs.status();
  auto stamp = (*hs)->ReadMessage(msg.subspan(4, kNoiseInitiationLen));
  if (!stamp.ok() || stamp->size() != kTimestampLen) return refuse(Refusal::kAuthFailed);
  const Key& rs = *(*hs)->remote_static();
  if (initiator_key != nullptr) *initiator_key = rs;
  // Look at every entry so the time taken does not tell which one matched.
  size_t found = peers_.size();
  for (size_t i = 0; i < peers_.size(); ++i) {
    if (KeysEqual(rs, peers_[i].public_key) && found == peers_.size()) found = i;
  }
  if (found == peers_.size()) return refuse(Refusal::kUnknownKey);
  Tai64n t;
  std::memcpy(t.data(), stamp->data(), t.size());
  // Big-endian labels compare as byte strings (not secret: the peer is known now).
  if (std::memcmp(t.data(), last_stamp_[found].data(), t.size()) <= 0) {
    return refuse(Refusal::kReplay);
  }
  auto response = (*hs)->WriteMessage({});
  if (!response.ok()) return response.status();
  auto keys = Finish(**hs);
  if (!keys.ok()) return keys.status();
  last_stamp_[found] = t;
  Accepted a{std::move(*keys), found, {}};
  a.response.reserve(kResponseLen);
  PutHeader(&a.response, kResponseLen, kTypeResponse);
  a.response.insert(a.response.end(), response->begin(), response->end());
  *why = Refusal::kNone;
  return a;
}

}  // namespace cairn::crypto

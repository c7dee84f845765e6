// Noise behaviour beyond the vectors: tampering, wrong keys, wrong PSK, nonce and
// Rekey rules, misuse of the handshake order.
#include "crypto/noise.h"

#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include "crypto/keys.h"

namespace {

using namespace cairn::crypto;  // NOLINT: test file

constexpr const char* kIKpsk2 = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b";

KeyPair NewPair() {
  auto kp = GenerateKeyPair();
  REQUIRE(kp.ok());
  return *kp;
}

Key Psk(uint8_t fill) {
  Key k;
  k.fill(fill);
  return k;
}

struct Peers {
  std::unique_ptr<HandshakeState> init, resp;
};

// The channel's roles: the replica (initiator) knows the master's public key.
Peers MakeIK(const KeyPair& replica, const KeyPair& master, const Key& master_pub_known_to_replica,
             const Key& init_psk, const Key& resp_psk) {
  HandshakeConfig ic;
  ic.protocol_name = kIKpsk2;
  ic.initiator = true;
  ic.prologue = {'c', 'a', 'i', 'r', 'n'};
  ic.local_static_private = replica.private_key;
  ic.remote_static_public = master_pub_known_to_replica;
  ic.psks = {init_psk};
  HandshakeConfig rc;
  rc.protocol_name = kIKpsk2;
  rc.initiator = false;
  rc.prologue = ic.prologue;
  rc.local_static_private = master.private_key;
  rc.psks = {resp_psk};
  auto i = HandshakeState::Create(ic);
  auto r = HandshakeState::Create(rc);
  REQUIRE(i.ok());
  REQUIRE(r.ok());
  return {std::move(*i), std::move(*r)};
}

Bytes Msg(const std::string& s) { return Bytes(s.begin(), s.end()); }

}  // namespace

TEST_CASE("IKpsk2 round trip: both sides agree and learn each other", "[noise]") {
  KeyPair replica = NewPair(), master = NewPair();
  Peers p = MakeIK(replica, master, master.public_key, Psk(7), Psk(7));
  auto m1 = p.init->WriteMessage(Msg("hello"));
  REQUIRE(m1.ok());
  CHECK(m1->size() == 32 + 48 + 5 + 16);
  auto r1 = p.resp->ReadMessage(*m1);
  REQUIRE(r1.ok());
  CHECK(*r1 == Msg("hello"));
  REQUIRE(p.resp->remote_static().has_value());
  CHECK(KeysEqual(*p.resp->remote_static(), replica.public_key));
  auto m2 = p.resp->WriteMessage(Msg("welcome"));
  REQUIRE(m2.ok());
  auto r2 = p.init->ReadMessage(*m2);
  REQUIRE(r2.ok());
  CHECK(*r2 == Msg("welcome"));
  CHECK(p.init->GetHandshakeHash() == p.resp->GetHandshakeHash());
  auto ci = p.init->Split();
  auto cr = p.resp->Split();
  REQUIRE(ci.ok());
  REQUIRE(cr.ok());
  auto t = ci->first.EncryptWithAd({}, Msg("+OK\r\n"));
  REQUIRE(t.ok());
  auto u = cr->second.DecryptWithAd({}, *t);
  REQUIRE(u.ok());
  CHECK(*u == Msg("+OK\r\n"));
  // And the other direction uses the other key.
  auto back = cr->first.EncryptWithAd({}, Msg("PING"));
  REQUIRE(back.ok());
  CHECK(cr->second.HasKey());
  auto back_pt = ci->second.DecryptWithAd({}, *back);
  REQUIRE(back_pt.ok());
  CHECK(*back_pt == Msg("PING"));
}

TEST_CASE("a tampered handshake or transport byte fails authentication", "[noise]") {
  KeyPair replica = NewPair(), master = NewPair();
  for (size_t pos : {0u, 31u, 32u, 79u, 80u, 100u}) {
    INFO("flipped byte " << pos);
    Peers p = MakeIK(replica, master, master.public_key, Psk(1), Psk(1));
    auto m1 = p.init->WriteMessage(Msg("hello"));
    REQUIRE(m1.ok());
    REQUIRE(pos < m1->size());
    (*m1)[pos] ^= 0x01;
    CHECK_FALSE(p.resp->ReadMessage(*m1).ok());
    // A failed state stays failed.
    CHECK_FALSE(p.resp->WriteMessage({}).ok());
  }
  Peers p = MakeIK(replica, master, master.public_key, Psk(1), Psk(1));
  auto m1 = p.init->WriteMessage({});
  REQUIRE(p.resp->ReadMessage(*m1).ok());
  auto m2 = p.resp->WriteMessage({});
  REQUIRE(p.init->ReadMessage(*m2).ok());
  auto ci = p.init->Split();
  auto cr = p.resp->Split();
  auto ct = ci->first.EncryptWithAd({}, Msg("SET k v"));
  REQUIRE(ct.ok());
  Bytes bad = *ct;
  bad[bad.size() - 1] ^= 0x80;
  CHECK_FALSE(cr->second.DecryptWithAd({}, bad).ok());
  CHECK(cr->second.nonce() == 0);  // a failed decrypt does not advance the nonce
  auto good = cr->second.DecryptWithAd({}, *ct);
  REQUIRE(good.ok());
  CHECK(*good == Msg("SET k v"));
  // Replaying the same record fails: the nonce has moved on.
  CHECK_FALSE(cr->second.DecryptWithAd({}, *ct).ok());
}

TEST_CASE("IK with the wrong responder static key fails at the responder", "[noise]") {
  KeyPair replica = NewPair(), master = NewPair(), impostor = NewPair();
  Peers p = MakeIK(replica, master, impostor.public_key, Psk(2), Psk(2));
  auto m1 = p.init->WriteMessage(Msg("hello"));
  REQUIRE(m1.ok());
  auto r1 = p.resp->ReadMessage(*m1);
  REQUIRE_FALSE(r1.ok());
  CHECK(r1.status().code() == cairn::StatusCode::kCorruption);
}

TEST_CASE("IKpsk2 with a different PSK fails at the initiator reading message 2", "[noise]") {
  KeyPair replica = NewPair(), master = NewPair();
  Peers p = MakeIK(replica, master, master.public_key, Psk(3), Psk(4));
  auto m1 = p.init->WriteMessage({});
  REQUIRE(m1.ok());
  REQUIRE(p.resp->ReadMessage(*m1).ok());  // psk2 is mixed only into message 2
  auto m2 = p.resp->WriteMessage({});
  REQUIRE(m2.ok());
  CHECK_FALSE(p.init->ReadMessage(*m2).ok());
}

TEST_CASE("a different prologue fails the first message", "[noise]") {
  KeyPair replica = NewPair(), master = NewPair();
  Peers p = MakeIK(replica, master, master.public_key, Psk(5), Psk(5));
  HandshakeConfig rc;
  rc.protocol_name = kIKpsk2;
  rc.prologue = {'x'};
  rc.local_static_private = master.private_key;
  rc.psks = {Psk(5)};
  auto resp = HandshakeState::Create(rc);
  REQUIRE(resp.ok());
  auto m1 = p.init->WriteMessage({});
  REQUIRE(m1.ok());
  CHECK_FALSE((*resp)->ReadMessage(*m1).ok());
}

TEST_CASE("handshake misuse and configuration errors are refused", "[noise]") {
  KeyPair replica = NewPair(), master = NewPair();
  Peers p = MakeIK(replica, master, master.public_key, Psk(6), Psk(6));
  CHECK_FALSE(p.resp->WriteMessage({}).ok());  // responder cannot speak first
  CHECK_FALSE(p.init->Split().ok());           // not complete
  CHECK_FALSE(p.init->ReadMessage(Bytes(100)).ok());

  HandshakeConfig c;
  c.protocol_name = kIKpsk2;
  c.initiator = true;
  c.local_static_private = replica.private_key;
  c.psks = {Psk(6)};
  CHECK_FALSE(HandshakeState::Create(c).ok());  // no responder public key
  c.remote_static_public = master.public_key;
  c.psks.clear();
  CHECK_FALSE(HandshakeState::Create(c).ok());  // missing PSK
  c.psks = {Psk(6)};
  c.protocol_name = "Noise_IKpsk2_25519_AESGCM_SHA256";
  CHECK(HandshakeState::Create(c).status().code() == cairn::StatusCode::kNotSupported);
  c.protocol_name = "Noise_ZZ_25519_ChaChaPoly_BLAKE2b";
  CHECK(HandshakeState::Create(c).status().code() == cairn::StatusCode::kNotSupported);
  c.protocol_name = "Noise_NNpsk3_25519_ChaChaPoly_BLAKE2b";
  CHECK_FALSE(HandshakeState::Create(c).ok());  // psk3 past NN's two messages
}

TEST_CASE("a low-order public key is refused (all-zero DH)", "[noise]") {
  KeyPair replica = NewPair();
  Key zero{};  // the identity point: X25519 with it is all zeros
  HandshakeConfig c;
  c.protocol_name = "Noise_IK_25519_ChaChaPoly_BLAKE2b";
  c.initiator = true;
  c.local_static_private = replica.private_key;
  c.remote_static_public = zero;
  auto hs = HandshakeState::Create(c);
  REQUIRE(hs.ok());
  auto m = (*hs)->WriteMessage({});
  REQUIRE_FALSE(m.ok());
  CHECK(m.status().message().find("all-zero") != std::string::npos);
}

TEST_CASE("CipherState: no key passes through, reserved nonce, Rekey", "[noise]") {
  CipherState none;
  auto same = none.EncryptWithAd({}, Msg("abc"));
  REQUIRE(same.ok());
  CHECK(*same == Msg("abc"));

  Key k = Psk(9);
  CipherState a, b;
  a.InitializeKey(k);
  b.InitializeKey(k);
  a.SetNonce(kMaxNonce - 1);
  b.SetNonce(kMaxNonce - 1);
  auto last = a.EncryptWithAd({}, Msg("x"));
  REQUIRE(last.ok());
  REQUIRE(b.DecryptWithAd({}, *last).ok());
  CHECK_FALSE(a.EncryptWithAd({}, Msg("y")).ok());  // 2^64-1 is reserved
  CHECK_FALSE(b.DecryptWithAd({}, *last).ok());

  CipherState c, d;
  c.InitializeKey(k);
  d.InitializeKey(k);
  auto before = c.EncryptWithAd({}, Msg("r"));
  c.Rekey();
  CHECK(c.nonce() == 1);  // Rekey keeps n
  auto after = c.EncryptWithAd({}, Msg("r"));
  REQUIRE(after.ok());
  REQUIRE(d.DecryptWithAd({}, *before).ok());
  CHECK_FALSE(d.DecryptWithAd({}, *after).ok());  // old key no longer works
  d.Rekey();
  auto pt = d.DecryptWithAd({}, *after);
  REQUIRE(pt.ok());
  CHECK(*pt == Msg("r"));
}

TEST_CASE("HMAC-BLAKE2b is RFC 2104 HMAC, not keyed BLAKE2b", "[noise]") {
  // HMAC(K, m) computed by hand from the definition.
  Bytes key(64, 0x0b), msg = Msg("Hi There");
  uint8_t ipad[128], opad[128];
  for (size_t i = 0; i < 128; ++i) {
    uint8_t kb = i < key.size() ? key[i] : 0;
    ipad[i] = kb ^ 0x36;
    opad[i] = kb ^ 0x5c;
  }
  Hash inner = Blake2b({ByteView(ipad, 128), msg});
  Hash expect = Blake2b({ByteView(opad, 128), inner});
  CHECK(HmacBlake2b(key, {msg}) == expect);
  // Splitting the data does not change the result.
  CHECK(HmacBlake2b(key, {ByteView(msg).subspan(0, 3), ByteView(msg).subspan(3)}) == expect);
}

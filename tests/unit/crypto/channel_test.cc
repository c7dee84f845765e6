// The secure channel without sockets: handshake messages (mac1, timestamps, keys,
// replay), transport records (framing, split reads, compression across records,
// rekey, close) and every kind of damage a record can suffer on the way.
#include <catch2/catch.hpp>
#include <cstring>
#include <random>
#include <string>

#include "crypto/handshake.h"
#include "crypto/session.h"

namespace {

using namespace cairn::crypto;  // NOLINT: test file

struct Peers {
  KeyPair master = *GenerateKeyPair();
  KeyPair replica = *GenerateKeyPair();
  Key psk{};
};

// A complete handshake; returns (replica keys, master keys).
std::pair<TransportKeys, TransportKeys> Establish(const Peers& p, Responder& responder,
                                                  const Tai64n& stamp) {
  auto init = Initiator::Create(p.replica.private_key, p.master.public_key, p.psk);
  REQUIRE(init.ok());
  auto msg1 = (*init)->WriteInitiation(stamp);
  REQUIRE(msg1.ok());
  REQUIRE(msg1->size() == kInitiationLen);
  Refusal why;
  auto acc = responder.Accept(*msg1, &why);
  REQUIRE(acc.ok());
  REQUIRE(why == Refusal::kNone);
  REQUIRE(acc->response.size() == kResponseLen);
  auto keys = (*init)->ReadResponse(acc->response);
  REQUIRE(keys.ok());
  return {std::move(*keys), std::move(acc->keys)};
}

Tai64n Stamp(int64_t seconds) { return Tai64nFromUnixNanos(seconds * 1000000000); }

ByteView View(const std::string& s) {
  return ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

// Everything `in` holds, read in chunks of random size (as TCP might deliver it).
std::string ReadAll(Session& s, Bytes in, std::mt19937& rng, size_t max_out = 1 << 20) {
  std::string out, buffered;
  Bytes pending;
  size_t fed = 0;
  while (fed < in.size() || !pending.empty() || s.HasBufferedInput()) {
    size_t chunk = std::uniform_int_distribution<size_t>(1, 70000)(rng);
    chunk = std::min(chunk, in.size() - fed);
    pending.insert(pending.end(), in.begin() + fed, in.begin() + fed + chunk);
    fed += chunk;
    std::string part;
    auto n = s.Read(pending.data(), pending.size(), &part, max_out);
    REQUIRE(n.ok());
    pending.erase(pending.begin(), pending.begin() + *n);
    out += part;
    if (fed == in.size() && *n == 0 && part.empty() && !s.HasBufferedInput()) break;
  }
  REQUIRE(pending.empty());
  return out;
}

std::string Compressible(size_t n, std::mt19937& rng) {
  static const char* words[] = {"{\"user\":",  "\"name\":\"", "alice", "bob",
                                "\",\"age\":", "42",          "}",     "[",
                                "]",           "\"tags\":",   "redis", "cairn"};
  std::string s;
  while (s.size() < n) s += words[rng() % 12];
  s.resize(n);
  return s;
}

std::string Random(size_t n, std::mt19937& rng) {
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

}  // namespace

TEST_CASE("TAI64N labels are big-endian 2^62 + seconds, then whole milliseconds", "[channel]") {
  Tai64n t = Tai64nFromUnixNanos(int64_t{1700000000} * 1000000000 + 123456789);
  uint64_t secs = 0;
  for (int i = 0; i < 8; ++i) secs = secs << 8 | t[i];
  uint32_t nanos = 0;
  for (int i = 8; i < 12; ++i) nanos = nanos << 8 | t[i];
  CHECK(secs == (uint64_t{1} << 62) + 1700000000);
  CHECK(nanos == 123000000);
  CHECK(std::memcmp(Stamp(5).data(), Stamp(6).data(), kTimestampLen) < 0);
}

TEST_CASE("handshake: both sides derive matching keys and the master learns the peer",
          "[channel]") {
  Peers p;
  Responder r(p.master, p.psk);
  r.SetPeers({{GenerateKeyPair()->public_key, "other"}, {p.replica.public_key, "offsite"}});
  auto init = Initiator::Create(p.replica.private_key, p.master.public_key, p.psk);
  auto msg1 = (*init)->WriteInitiation(Stamp(100));
  REQUIRE(r.CheckMac1(*msg1));
  Refusal why;
  auto acc = r.Accept(*msg1, &why);
  REQUIRE(acc.ok());
  CHECK(r.peers()[acc->peer].label == "offsite");
  auto keys = (*init)->ReadResponse(acc->response);
  REQUIRE(keys.ok());
  // replica -> master and back
  Bytes c = *keys->send.EncryptWithAd({}, View("ping"));
  CHECK(acc->keys.recv.DecryptWithAd({}, c).ok());
  Bytes d = *acc->keys.send.EncryptWithAd({}, View("pong"));
  CHECK(keys->recv.DecryptWithAd({}, d).ok());
}

TEST_CASE("handshake refusals: mac1, unknown key, replay, damage, wrong master key, psk",
          "[channel]") {
  Peers p;
  Responder r(p.master, p.psk);
  r.SetPeers({{p.replica.public_key, "offsite"}});
  Refusal why;

  SECTION("a stranger who does not know the master key fails mac1 before any DH") {
    KeyPair other = *GenerateKeyPair();
    auto init = Initiator::Create(p.replica.private_key, other.public_key, p.psk);
    auto msg1 = (*init)->WriteInitiation(Stamp(1));
    CHECK_FALSE(r.CheckMac1(*msg1));
    CHECK_FALSE(r.Accept(*msg1, &why).ok());
    CHECK(why == Refusal::kBadMac);
  }
  SECTION("a replica whose key is not allowed") {
    KeyPair stranger = *GenerateKeyPair();
    auto init = Initiator::Create(stranger.private_key, p.master.public_key, p.psk);
    auto msg1 = (*init)->WriteInitiation(Stamp(1));
    CHECK(r.CheckMac1(*msg1));
    CHECK_FALSE(r.Accept(*msg1, &why).ok());
    CHECK(why == Refusal::kUnknownKey);
  }
  SECTION("replayed and older initiations") {
    auto init = Initiator::Create(p.replica.private_key, p.master.public_key, p.psk);
    auto msg1 = (*init)->WriteInitiation(Stamp(50));
    REQUIRE(r.Accept(*msg1, &why).ok());
    CHECK_FALSE(r.Accept(*msg1, &why).ok());
    CHECK(why == Refusal::kReplay);
    auto older = Initiator::Create(p.replica.private_key, p.master.public_key, p.psk);
    CHECK_FALSE(r.Accept(*(*older)->WriteInitiation(Stamp(49)), &why).ok());
    CHECK(why == Refusal::kReplay);
    // Keeping the peer across a reload keeps its timestamp.
    r.SetPeers({{KeyPair().public_key, "other"}, {p.replica.public_key, "renamed"}});
    CHECK_FALSE(r.Accept(*msg1, &why).ok());
    CHECK(why == Refusal::kReplay);
    auto newer = Initiator::Create(p.replica.private_key, p.master.public_key, p.psk);
    auto acc = r.Accept(*(*newer)->WriteInitiation(Stamp(51)), &why);
    REQUIRE(acc.ok());
    CHECK(r.peers()[acc->peer].label == "renamed");
  }
  SECTION("every bit flipped in the initiation is refused") {
    auto init = Initiator::Create(p.replica.private_key, p.master.public_key, p.psk);
    Bytes msg1 = *(*init)->WriteInitiation(Stamp(7));
    for (size_t i = 0; i < msg1.size(); ++i) {
      for (int bit = 0; bit < 8; bit += 3) {
        Bytes bad = msg1;
        bad[i] ^= static_cast<uint8_t>(1 << bit);
        INFO("byte " << i << " bit " << bit);
        CHECK_FALSE(r.Accept(bad, &why).ok());
      }
    }
    // The intact message still works: failed attempts did not move the timestamp.
    CHECK(r.Accept(msg1, &why).ok());
  }
  SECTION("truncated and oversized initiations") {
    auto init = Initiator::Create(p.replica.private_key, p.master.public_key, p.psk);
    Bytes msg1 = *(*init)->WriteInitiation(Stamp(7));
    CHECK_FALSE(r.Accept(ByteView(msg1).first(msg1.size() - 1), &why).ok());
    CHECK(why == Refusal::kMalformed);
    Bytes longer = msg1;
    longer.push_back(0);
    CHECK_FALSE(r.Accept(longer, &why).ok());
  }
  SECTION("the replica refuses a response from the wrong master or with another psk") {
    Key other_psk{};
    other_psk[0] = 1;
    auto init = Initiator::Create(p.replica.private_key, p.master.public_key, other_psk);
    auto acc = r.Accept(*(*init)->WriteInitiation(Stamp(9)), &why);
    REQUIRE(acc.ok());  // the psk only enters in the response (IKpsk2)
    CHECK_FALSE((*init)->ReadResponse(acc->response).ok());
  }
  SECTION("a response with any bit flipped is refused") {
    auto msg = Initiator::Create(p.replica.private_key, p.master.public_key, p.psk);
    auto acc = r.Accept(*(*msg)->WriteInitiation(Stamp(11)), &why);
    REQUIRE(acc.ok());
    for (size_t i = 0; i < acc->response.size(); ++i) {
      auto init = Initiator::Create(p.replica.private_key, p.master.public_key, p.psk);
      auto a2 = r.Accept(*(*init)->WriteInitiation(Stamp(12 + static_cast<int64_t>(i))), &why);
      REQUIRE(a2.ok());
      Bytes bad = a2->response;
      bad[i] ^= 0x10;
      CHECK_FALSE((*init)->ReadResponse(bad).ok());
    }
  }
}

TEST_CASE("records: random writes, flushes and split reads deliver the same bytes", "[channel]") {
  std::mt19937 rng(12345);
  for (int round = 0; round < 40; ++round) {
    Peers p;
    Responder r(p.master, p.psk);
    r.SetPeers({{p.replica.public_key, "x"}});
    auto [rk, mk] = Establish(p, r, Stamp(1));
    SessionOptions opt;
    opt.compress = round % 2 == 0;
    opt.compression_level = 1 + round % 5;
    opt.rekey_after_bytes = round % 3 == 0 ? 100000 : 0;  // rekeys mid-stream too
    Session tx(std::move(rk), opt), rx(std::move(mk), opt);
    std::string sent;
    Bytes wire;
    int writes = std::uniform_int_distribution<int>(1, 60)(rng);
    for (int w = 0; w < writes; ++w) {
      size_t n = std::uniform_int_distribution<size_t>(0, 200000)(rng);
      if (rng() % 4 == 0) n %= 100;
      std::string data = rng() % 3 == 0 ? Random(n, rng) : Compressible(n, rng);
      REQUIRE(tx.Write(View(data), &wire).ok());
      sent += data;
      if (rng() % 3 == 0) REQUIRE(tx.Flush(&wire).ok());
      if (rng() % 10 == 0) REQUIRE(tx.Keepalive(&wire).ok());
      if (rng() % 10 == 0) REQUIRE(tx.Rekey(&wire).ok());
    }
    REQUIRE(tx.Flush(&wire).ok());
    CHECK_FALSE(tx.HasUnflushed());
    size_t budget = round % 4 == 0 ? 1000 : 1 << 20;  // a small budget keeps data inside
    std::string got = ReadAll(rx, wire, rng, budget);
    REQUIRE(got.size() == sent.size());
    CHECK(got == sent);
    CHECK(rx.stats().app_in == sent.size());
    CHECK(rx.stats().rekeys_in == tx.stats().rekeys_out);
    CHECK(rx.stats().records_in == tx.stats().records_out);
  }
}

TEST_CASE("records: every record fits the u16 frame and compression keeps context", "[channel]") {
  std::mt19937 rng(7);
  Peers p;
  Responder r(p.master, p.psk);
  r.SetPeers({{p.replica.public_key, "x"}});
  auto [rk, mk] = Establish(p, r, Stamp(1));
  Session tx(std::move(rk), SessionOptions{});
  Bytes wire;
  std::string json = Compressible(300, rng);
  // The same small write many times: with context across records, later copies cost
  // almost nothing, far less than compressing each write alone.
  for (int i = 0; i < 200; ++i) {
    REQUIRE(tx.Write(View(json), &wire).ok());
    REQUIRE(tx.Flush(&wire).ok());
  }
  size_t alone = 0;  // each write compressed by a fresh stream, without framing
  for (int i = 0; i < 200; ++i) {
    ZstdCompressor z(3);
    auto count = [&](std::span<const uint8_t> b) { alone += b.size(); };
    REQUIRE(z.Compress(View(json), count).ok());
    REQUIRE(z.Flush(count).ok());
  }
  CHECK(wire.size() * 3 < alone);
  size_t pos = 0;
  while (pos < wire.size()) {
    size_t len = (size_t{wire[pos]} << 8) | wire[pos + 1];
    CHECK(len >= kMinRecordLen);
    CHECK(len <= kMaxRecordLen);
    pos += 2 + len;
  }
  CHECK(pos == wire.size());
}

TEST_CASE("records: damage of every kind ends the session with an error", "[channel]") {
  std::mt19937 rng(99);
  Peers p;
  Responder r(p.master, p.psk);
  r.SetPeers({{p.replica.public_key, "x"}});
  auto [rk, mk] = Establish(p, r, Stamp(1));
  SessionOptions opt;
  Session tx(std::move(rk), opt);
  Bytes wire;
  std::string first = Compressible(5000, rng), second = Compressible(3000, rng);
  REQUIRE(tx.Write(View(first), &wire).ok());
  REQUIRE(tx.Flush(&wire).ok());
  size_t first_len = wire.size();
  REQUIRE(tx.Write(View(second), &wire).ok());
  REQUIRE(tx.Flush(&wire).ok());

  auto fresh_rx = [&]() {
    // The receiving keys are deterministic for one handshake; rebuild from a copy.
    return std::make_unique<Session>(TransportKeys{mk.send, mk.recv}, opt);
  };
  SECTION("a bit flipped anywhere") {
    for (size_t i = 0; i < first_len; i += 7) {
      Bytes bad = wire;
      bad[i] ^= 0x01;
      auto rx = fresh_rx();
      std::string out;
      auto n = rx->Read(bad.data(), bad.size(), &out, 1 << 20);
      // Either an error, or (a flipped length byte that makes the record look
      // longer) a record still incomplete: nothing consumed, no data out.
      INFO("byte " << i);
      CHECK((!n.ok() || (*n == 0 && out.empty())));
    }
  }
  SECTION("records replayed or reordered") {
    auto rx = fresh_rx();
    Bytes replay(wire.begin(), wire.begin() + first_len);
    replay.insert(replay.end(), wire.begin(), wire.begin() + first_len);
    std::string out;
    auto n = rx->Read(replay.data(), replay.size(), &out, 1 << 20);
    CHECK_FALSE(n.ok());
    CHECK(out == first);  // the first copy was good
    auto rx2 = fresh_rx();
    Bytes reordered(wire.begin() + first_len, wire.end());
    std::string out2;
    CHECK_FALSE(rx2->Read(reordered.data(), reordered.size(), &out2, 1 << 20).ok());
    CHECK(out2.empty());
  }
  SECTION("a length below the tag size") {
    auto rx = fresh_rx();
    uint8_t bad[] = {0x00, 0x05, 1, 2, 3, 4, 5};
    std::string out;
    CHECK_FALSE(rx->Read(bad, sizeof bad, &out, 1 << 20).ok());
  }
  SECTION("a truncated record waits, it is never half-delivered") {
    auto rx = fresh_rx();
    Bytes part(wire.begin(), wire.begin() + first_len - 1);
    std::string out;
    auto n = rx->Read(part.data(), part.size(), &out, 1 << 20);
    REQUIRE(n.ok());
    CHECK(*n == 0);
    CHECK(out.empty());
  }
}

TEST_CASE("records: close carries a reason and ends reading", "[channel]") {
  Peers p;
  Responder r(p.master, p.psk);
  r.SetPeers({{p.replica.public_key, "x"}});
  auto [rk, mk] = Establish(p, r, Stamp(1));
  Session tx(std::move(rk), SessionOptions{});
  Session rx(std::move(mk), SessionOptions{});
  Bytes wire;
  REQUIRE(tx.Write(View("last words"), &wire).ok());
  REQUIRE(tx.Close("shutting down", &wire).ok());
  CHECK_FALSE((tx.Write(View("more"), &wire).ok() && tx.Flush(&wire).ok()));
  std::string out;
  auto n = rx.Read(wire.data(), wire.size(), &out, 1 << 20);
  REQUIRE(n.ok());
  CHECK(out == "last words");
  CHECK(rx.peer_closed());
  CHECK(rx.close_reason() == "shutting down");
}

TEST_CASE("records: a decompression bomb stays within the reader's budget", "[channel]") {
  Peers p;
  Responder r(p.master, p.psk);
  r.SetPeers({{p.replica.public_key, "x"}});
  auto [rk, mk] = Establish(p, r, Stamp(1));
  Session tx(std::move(rk), SessionOptions{});
  Session rx(std::move(mk), SessionOptions{});
  Bytes wire;
  std::string zeros(64 << 20, '\0');
  REQUIRE(tx.Write(View(zeros), &wire).ok());
  REQUIRE(tx.Flush(&wire).ok());
  CHECK(wire.size() < 64 * 1024);  // 64 MiB of zeros travel in a few records
  std::string out;
  size_t total = 0, pos = 0;
  int calls = 0;
  while (calls++ < 10000) {
    out.clear();
    auto n = rx.Read(wire.data() + pos, wire.size() - pos, &out, 1 << 20);
    REQUIRE(n.ok());
    pos += *n;
    CHECK(out.size() <= (1 << 20));
    total += out.size();
    if (pos == wire.size() && !rx.HasBufferedInput()) break;
  }
  CHECK(total == zeros.size());
}

// Replays the public Noise vectors for 25519/ChaChaPoly/BLAKE2b (cacophony, snow,
// noise-c; ../shared/vectors/noise/README.md) through HandshakeState: every
// handshake message byte for byte, the handshake hash, and the transport messages
// after Split. Vectors whose pattern the library does not support would be counted
// and skipped; the per-pattern counts below keep the test from passing on zero.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "crypto/noise.h"

namespace {

namespace fs = std::filesystem;
using cairn::crypto::Bytes;
using cairn::crypto::ByteView;
using cairn::crypto::CipherState;
using cairn::crypto::HandshakeConfig;
using cairn::crypto::HandshakeState;
using cairn::crypto::Key;

// ---- A small JSON reader: enough for the vector file (objects, arrays, strings,
// numbers, literals). The test's only need for JSON; no dependency for it. ----
struct Json {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject } kind = Kind::kNull;
  std::string str;
  std::vector<Json> arr;
  std::map<std::string, Json> obj;
  bool Has(const std::string& k) const { return obj.count(k) != 0; }
  const Json& operator[](const std::string& k) const { return obj.at(k); }
};

class JsonReader {
 public:
  explicit JsonReader(const std::string& text) : s_(text) {}
  Json Parse() {
    Json v = Value();
    Space();
    if (i_ != s_.size()) throw std::runtime_error("trailing JSON");
    return v;
  }

 private:
  void Space() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  char Peek() {
    Space();
    if (i_ >= s_.size()) throw std::runtime_error("JSON ends early");
    return s_[i_];
  }
  void Expect(char c) {
    if (Peek() != c) throw std::runtime_error(std::string("JSON: expected ") + c);
    ++i_;
  }
  std::string String() {
    Expect('"');
    std::string out;
    while (i_ < s_.size() && s_[i_] != '"') {
      char c = s_[i_++];
      if (c == '\\') {
        char e = s_.at(i_++);
        switch (e) {
          case 'n':
            out += '\n';
            break;
          case 't':
            out += '\t';
            break;
          case 'r':
            out += '\r';
            break;
          case 'b':
            out += '\b';
            break;
          case 'f':
            out += '\f';
            break;
          case 'u': {  // the vector file is ASCII; keep BMP code points as UTF-8
            unsigned cp = std::stoul(s_.substr(i_, 4), nullptr, 16);
            i_ += 4;
            if (cp < 0x80) {
              out += static_cast<char>(cp);
            } else if (cp < 0x800) {
              out += static_cast<char>(0xc0 | (cp >> 6));
              out += static_cast<char>(0x80 | (cp & 0x3f));
            } else {
              out += static_cast<char>(0xe0 | (cp >> 12));
              out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
              out += static_cast<char>(0x80 | (cp & 0x3f));
            }
            break;
          }
          default:
            out += e;
        }
      } else {
        out += c;
      }
    }
    Expect('"');
    return out;
  }
  Json Value() {
    Json v;
    char c = Peek();
    if (c == '{') {
      v.kind = Json::Kind::kObject;
      ++i_;
      if (Peek() == '}') return ++i_, v;
      for (;;) {
        std::string k = String();
        Expect(':');
        v.obj[k] = Value();
        if (Peek() == ',') {
          ++i_;
          continue;
        }
        Expect('}');
        return v;
      }
    }
    if (c == '[') {
      v.kind = Json::Kind::kArray;
      ++i_;
      if (Peek() == ']') return ++i_, v;
      for (;;) {
        v.arr.push_back(Value());
        if (Peek() == ',') {
          ++i_;
          continue;
        }
        Expect(']');
        return v;
      }
    }
    if (c == '"') {
      v.kind = Json::Kind::kString;
      v.str = String();
      return v;
    }
    size_t start = i_;
    while (i_ < s_.size() && std::string_view(",}] \t\r\n").find(s_[i_]) == std::string::npos) {
      ++i_;
    }
    v.str = s_.substr(start, i_ - start);
    if (v.str == "null")
      v.kind = Json::Kind::kNull;
    else if (v.str == "true" || v.str == "false")
      v.kind = Json::Kind::kBool;
    else
      v.kind = Json::Kind::kNumber;
    if (v.str.empty()) throw std::runtime_error("JSON: bad value");
    return v;
  }

  const std::string& s_;
  size_t i_ = 0;
};

fs::path VectorFile() {
  const char* name = "noise/noise-25519-chachapoly-blake2b.json";
  if (const char* env = std::getenv("CAIRN_VECTORS")) return fs::path(env) / name;
  for (const char* p : {"../shared/vectors", "../../shared/vectors", "/work/shared/vectors"}) {
    if (fs::exists(fs::path(p) / name)) return fs::path(p) / name;
  }
  return fs::path("/work/shared/vectors") / name;
}

Bytes Hex(const std::string& hex) {
  Bytes out;
  REQUIRE(hex.size() % 2 == 0);
  for (size_t i = 0; i < hex.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoul(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

Key HexKey(const std::string& hex) {
  Bytes b = Hex(hex);
  REQUIRE(b.size() == 32);
  Key k;
  std::copy(b.begin(), b.end(), k.begin());
  return k;
}

std::string Field(const Json& v, const std::string& k) { return v.Has(k) ? v[k].str : ""; }

HandshakeConfig SideConfig(const Json& v, const std::string& name, bool initiator) {
  std::string side = initiator ? "init_" : "resp_";
  HandshakeConfig c;
  c.protocol_name = name;
  c.initiator = initiator;
  c.prologue = Hex(Field(v, side + "prologue"));
  if (v.Has(side + "static")) c.local_static_private = HexKey(v[side + "static"].str);
  if (v.Has(side + "remote_static")) c.remote_static_public = HexKey(v[side + "remote_static"].str);
  if (v.Has(side + "psks")) {
    for (const Json& p : v[side + "psks"].arr) c.psks.push_back(HexKey(p.str));
  }
  return c;
}

// Runs one vector; returns false when its pattern is not supported.
bool RunVector(const Json& v) {
  std::string name = v.Has("protocol_name") ? v["protocol_name"].str : v["name"].str;
  auto init = HandshakeState::Create(SideConfig(v, name, true));
  auto resp = HandshakeState::Create(SideConfig(v, name, false));
  if (!init.ok() && init.status().code() == cairn::StatusCode::kNotSupported) return false;
  INFO(name);
  REQUIRE(init.ok());
  REQUIRE(resp.ok());
  HandshakeState& hi = **init;
  HandshakeState& hr = **resp;
  if (v.Has("init_ephemeral")) hi.SetEphemeralForTesting(HexKey(v["init_ephemeral"].str));
  if (v.Has("resp_ephemeral")) hr.SetEphemeralForTesting(HexKey(v["resp_ephemeral"].str));

  const std::vector<Json>& msgs = v["messages"].arr;
  size_t hs_count = hi.pattern().messages.size();
  REQUIRE(msgs.size() >= hs_count);
  bool one_way = hi.pattern().one_way;
  for (size_t i = 0; i < hs_count; ++i) {
    INFO("handshake message " << i);
    bool from_init = one_way || i % 2 == 0;
    HandshakeState& w = from_init ? hi : hr;
    HandshakeState& r = from_init ? hr : hi;
    Bytes payload = Hex(msgs[i]["payload"].str);
    auto ct = w.WriteMessage(payload);
    REQUIRE(ct.ok());
    REQUIRE(*ct == Hex(msgs[i]["ciphertext"].str));
    auto pt = r.ReadMessage(*ct);
    REQUIRE(pt.ok());
    REQUIRE(*pt == payload);
  }
  REQUIRE(hi.IsComplete());
  REQUIRE(hr.IsComplete());
  REQUIRE(hi.GetHandshakeHash() == hr.GetHandshakeHash());
  if (v.Has("handshake_hash")) {
    Bytes hh = Hex(v["handshake_hash"].str);
    REQUIRE(Bytes(hi.GetHandshakeHash().begin(), hi.GetHandshakeHash().end()) == hh);
  }
  auto si = hi.Split();
  auto sr = hr.Split();
  REQUIRE(si.ok());
  REQUIRE(sr.ok());
  // (send, receive) for each side.
  CipherState& i_send = si->first;
  CipherState& i_recv = si->second;
  CipherState& r_send = sr->first;
  CipherState& r_recv = sr->second;
  for (size_t i = hs_count; i < msgs.size(); ++i) {
    INFO("transport message " << i);
    bool from_init = one_way || i % 2 == 0;
    CipherState& send = from_init ? i_send : r_send;
    CipherState& recv = from_init ? r_recv : i_recv;
    Bytes payload = Hex(msgs[i]["payload"].str);
    auto ct = send.EncryptWithAd({}, payload);
    REQUIRE(ct.ok());
    REQUIRE(*ct == Hex(msgs[i]["ciphertext"].str));
    auto pt = recv.DecryptWithAd({}, *ct);
    REQUIRE(pt.ok());
    REQUIRE(*pt == payload);
  }
  return true;
}

std::string PatternOf(const std::string& name) {
  // Noise_<pattern>_25519_ChaChaPoly_BLAKE2b
  size_t a = name.find('_') + 1;
  return name.substr(a, name.find('_', a) - a);
}

}  // namespace

TEST_CASE("noise vectors: every supported pattern replays byte for byte", "[noise][vectors]") {
  fs::path path = VectorFile();
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  Json root = JsonReader(text).Parse();

  std::map<std::string, int> ran, skipped;
  int total = 0;
  for (const char* array : {"vectors", "snow_vectors", "noise_c_vectors"}) {
    for (const Json& v : root[array].arr) {
      std::string name = v.Has("protocol_name") ? v["protocol_name"].str : v["name"].str;
      if (RunVector(v)) {
        ++ran[PatternOf(name)];
        ++total;
      } else {
        ++skipped[PatternOf(name)];
      }
    }
  }
  std::ostringstream report;
  report << "noise vectors run: " << total << " (";
  for (auto& [p, n] : ran) report << p << "=" << n << " ";
  report << ") skipped (unsupported pattern): ";
  int total_skipped = 0;
  for (auto& [p, n] : skipped) total_skipped += n;
  report << total_skipped;
  WARN(report.str());

  // All 15 fundamental patterns, 3 vectors each (cacophony, snow, noise-c).
  for (const char* p :
       {"N", "K", "X", "NN", "NK", "NX", "KN", "KK", "KX", "XN", "XK", "XX", "IN", "IK", "IX"}) {
    INFO(p);
    CHECK(ran[p] == 3);
  }
  // The channel's own pattern and its neighbours.
  CHECK(ran["IKpsk2"] == 1);
  CHECK(ran["IKpsk1"] == 1);
  CHECK(ran["IKpsk0+psk2"] == 1);
  // The 23 deferred patterns, 2 vectors each (cacophony, snow).
  for (const char* p :
       {"NK1",  "NX1", "X1N", "X1K",  "XK1", "X1K1", "X1X", "XX1",  "X1X1", "K1N", "K1K", "KK1",
        "K1K1", "K1X", "KX1", "K1X1", "I1N", "I1K",  "IK1", "I1K1", "I1X",  "IX1", "I1X1"}) {
    INFO(p);
    CHECK(ran[p] == 2);
  }
  // 45 fundamental + 21 single-PSK + 13 multi-PSK + 46 deferred: the whole file.
  CHECK(total >= 125);
  CHECK(total_skipped == 0);
}

// libFuzzer target: the secure channel's receive path after decryption. The fuzz
// input is cut into records (type byte, body) that are sealed with a fixed key, so
// the fuzzer reaches what an authenticated peer could send: unknown types, control
// records with bodies, CLOSE, REKEY, and arbitrary ZSTD record bodies (hostile zstd
// streams, bombs). Session::Read must never crash, never deliver more than its
// budget plus one record, and fail cleanly.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "crypto/session.h"

using namespace cairn::crypto;  // NOLINT: fuzz target

namespace {

TransportKeys FixedKeys() {
  Key k{};
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<uint8_t>(i * 7 + 1);
  TransportKeys t;
  t.send.InitializeKey(k);
  t.recv.InitializeKey(k);
  return t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  TransportKeys sealer = FixedKeys();
  Bytes wire;
  size_t pos = 0;
  // Each record: 1 byte type, 2 bytes body length (capped by what is left), body.
  while (pos + 3 <= size) {
    uint8_t type = data[pos];
    size_t len = (size_t{data[pos + 1]} << 8 | data[pos + 2]) % (kMaxRecordBody + 1);
    pos += 3;
    len = std::min(len, size - pos);
    size_t rlen = 1 + len + kTagLen;
    size_t at = wire.size();
    wire.resize(at + 2 + rlen);
    wire[at] = static_cast<uint8_t>(rlen >> 8);
    wire[at + 1] = static_cast<uint8_t>(rlen);
    wire[at + 2] = type;
    if (len > 0) std::memcpy(&wire[at + 3], data + pos, len);
    if (!sealer.send.SealInPlace(ByteView(&wire[at], 2), &wire[at + 2], 1 + len).ok()) return 0;
    pos += len;
  }
  Session rx(FixedKeys(), SessionOptions{});
  constexpr size_t kBudget = 64 * 1024;
  size_t off = 0;
  for (int calls = 0; calls < 100000; ++calls) {
    std::string out;
    auto n = rx.Read(wire.data() + off, wire.size() - off, &out, kBudget);
    if (!n.ok()) break;
    // At most the budget, plus one DATA record that started below it.
    if (out.size() > kBudget + kMaxRecordBody) __builtin_trap();
    off += *n;
    if (rx.peer_closed()) break;
    if (*n == 0 && out.empty() && !rx.HasBufferedInput()) break;
  }
  return 0;
}

// Reflected CRC-64/Jones, table-driven with slicing-by-8: eight bytes per step
// through eight 256-entry tables (the byte-at-a-time loop finishes the tail).
// RDB loads and saves checksum every byte, so this sits on their hot path.
#include "node/persistence/crc64.h"

#include <array>
#include <cstring>

namespace cairn::persist {
namespace {

constexpr uint64_t kPoly = 0x95ac9329ac4bc9b5ULL;  // 0xad93d23594c935a9 bit-reversed

using Tables = std::array<std::array<uint64_t, 256>, 8>;

constexpr Tables MakeTables() {
  Tables t{};
  for (uint64_t i = 0; i < 256; i++) {
    uint64_t c = i;
    for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ kPoly : c >> 1;
    t[0][i] = c;
  }
  for (size_t n = 1; n < 8; n++) {
    for (size_t i = 0; i < 256; i++) t[n][i] = (t[n - 1][i] >> 8) ^ t[0][t[n - 1][i] & 0xff];
  }
  return t;
}

constexpr Tables kT = MakeTables();

}  // namespace

uint64_t Crc64(uint64_t crc, const void* data, size_t len) {
  const auto* p = static_cast<const unsigned char*>(data);
  while (len >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);  // little-endian hosts (x86-64, arm64)
    crc ^= w;
    crc = kT[7][crc & 0xff] ^ kT[6][(crc >> 8) & 0xff] ^ kT[5][(crc >> 16) & 0xff] ^
          kT[4][(crc >> 24) & 0xff] ^ kT[3][(crc >> 32) & 0xff] ^ kT[2][(crc >> 40) & 0xff] ^
          kT[1][(crc >> 48) & 0xff] ^ kT[0][crc >> 56];
    p += 8;
    len -= 8;
  }
  while (len--) crc = kT[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
  return crc;
}

}  // namespace cairn::persist

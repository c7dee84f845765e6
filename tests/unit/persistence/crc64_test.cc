// CRC-64/Jones check values (Redis's crc64 test vector and incremental use).
#include "node/persistence/crc64.h"

#include <catch2/catch.hpp>
#include <string>

TEST_CASE("crc64 matches Redis's check value") {
  const char* s = "123456789";
  REQUIRE(cairn::persist::Crc64(0, s, 9) == 0xe9c6d914c4b8d9caULL);
  uint64_t part = cairn::persist::Crc64(0, s, 4);
  REQUIRE(cairn::persist::Crc64(part, s + 4, 5) == 0xe9c6d914c4b8d9caULL);
  REQUIRE(cairn::persist::Crc64(0, "", 0) == 0);
}

TEST_CASE("the 8-byte slicing path agrees with the byte-at-a-time path") {
  std::string data;
  for (int i = 0; i < 1000; i++) data += static_cast<char>((i * 131 + 7) & 0xff);
  for (size_t len : {0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 999, 1000}) {
    uint64_t whole = cairn::persist::Crc64(0, data.data(), len);
    uint64_t bytewise = 0;
    for (size_t i = 0; i < len; i++) bytewise = cairn::persist::Crc64(bytewise, data.data() + i, 1);
    INFO("len " << len);
    REQUIRE(whole == bytewise);
    // And split at an odd offset, so the next call starts unaligned.
    uint64_t split = cairn::persist::Crc64(0, data.data(), len / 3);
    split = cairn::persist::Crc64(split, data.data() + len / 3, len - len / 3);
    REQUIRE(split == whole);
  }
}

// CRC-64/Jones check values (Redis's crc64 test vector and incremental use).
#include <catch2/catch.hpp>

#include "node/persistence/crc64.h"

TEST_CASE("crc64 matches Redis's check value") {
  const char* s = "123456789";
  REQUIRE(cairn::persist::Crc64(0, s, 9) == 0xe9c6d914c4b8d9caULL);
  uint64_t part = cairn::persist::Crc64(0, s, 4);
  REQUIRE(cairn::persist::Crc64(part, s + 4, 5) == 0xe9c6d914c4b8d9caULL);
  REQUIRE(cairn::persist::Crc64(0, "", 0) == 0);
}

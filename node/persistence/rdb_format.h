// RDB file format constants (version 10, Redis 7.0): opcodes, value types and
// the length/string encodings. docs/persistence.md specifies the layout.
#pragma once

#include <cstdint>

namespace cairn::persist::rdb {

inline constexpr int kVersion = 10;  // Redis 7.0 writes 10; it loads 1..10

// Value types (the byte before each key).
enum Type : uint8_t {
  kTypeString = 0,
  kTypeList = 1,  // linked list of strings (old)
  kTypeSet = 2,
  kTypeZSet = 3,  // scores as text (old)
  kTypeHash = 4,
  kTypeZSet2 = 5,  // scores as binary doubles
  kTypeModule = 6,
  kTypeModule2 = 7,
  kTypeHashZipmap = 9,
  kTypeListZiplist = 10,
  kTypeSetIntset = 11,
  kTypeZSetZiplist = 12,
  kTypeHashZiplist = 13,
  kTypeListQuicklist = 14,  // quicklist of ziplists
  kTypeStreamListpacks = 15,
  kTypeHashListpack = 16,
  kTypeZSetListpack = 17,
  kTypeListQuicklist2 = 18,  // quicklist of listpacks (or plain nodes)
  kTypeStreamListpacks2 = 19,
};

// Opcodes.
enum Opcode : uint8_t {
  kOpFunction2 = 245,
  kOpFunction = 246,  // pre-GA 7.0 form, refused
  kOpModuleAux = 247,
  kOpIdle = 248,
  kOpFreq = 249,
  kOpAux = 250,
  kOpResizeDb = 251,
  kOpExpireTimeMs = 252,
  kOpExpireTime = 253,
  kOpSelectDb = 254,
  kOpEof = 255,
};

// Length encoding: the top two bits of the first byte.
inline constexpr uint8_t kLen6Bit = 0;
inline constexpr uint8_t kLen14Bit = 1;
inline constexpr uint8_t kLen32Or64 = 2;  // 0x80: 32-bit BE follows, 0x81: 64-bit BE
inline constexpr uint8_t kLenEncVal = 3;  // special string encoding in the low 6 bits
inline constexpr uint8_t kLen32 = 0x80;
inline constexpr uint8_t kLen64 = 0x81;

// Special string encodings (with kLenEncVal).
inline constexpr uint8_t kEncInt8 = 0;
inline constexpr uint8_t kEncInt16 = 1;
inline constexpr uint8_t kEncInt32 = 2;
inline constexpr uint8_t kEncLzf = 3;

// Quicklist 2 node containers.
inline constexpr uint64_t kQuicklistNodePlain = 1;
inline constexpr uint64_t kQuicklistNodePacked = 2;

}  // namespace cairn::persist::rdb

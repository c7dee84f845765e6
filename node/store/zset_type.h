// ZSet values: the two containers behind OBJ zset — a PackedList of
// (member, score) pairs sorted by (score, member) ("listpack") and a ZSkipList
// ("skiplist") — one API over both for the commands, RDB and AOF, and the hooks
// the keyspace uses.
//
// Packed form: entries alternate member, score; a score entry is the 8 raw
// bytes of the IEEE double (host order), so it round-trips exactly and needs
// no parsing. Mutators take the entry's (encoding, pointer) by reference
// because they may convert packed -> skiplist, as Redis's zsetAdd does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "node/store/entry.h"
#include "node/store/packed_list.h"
#include "node/store/zset_skiplist.h"

namespace cairn::store {

// zset-max-listpack-entries / zset-max-listpack-value.
struct ZSetLimits {
  size_t max_entries = 128;
  size_t max_value = 64;
};

// ZSetAdd input flags (ZADD options) and output flags.
enum ZAddIn : int {
  kZAddNone = 0,
  kZAddNx = 1 << 0,
  kZAddXx = 1 << 1,
  kZAddGt = 1 << 2,
  kZAddLt = 1 << 3,
  kZAddIncr = 1 << 4,
};
enum ZAddOut : int {
  kZAddAdded = 1 << 0,    // new member
  kZAddUpdated = 1 << 1,  // score changed
  kZAddNop = 1 << 2,      // nothing done because of NX/XX/GT/LT
  kZAddNaN = 1 << 3,      // the resulting score would be NaN (nothing done)
};

// Position in either encoding; invalid once stepped past either end.
class ZCursor {
 public:
  ZCursor() = default;
  static ZCursor Packed(const PackedList* pl, uint32_t member_off) {
    ZCursor c;
    c.pl_ = pl;
    c.off_ = member_off < pl->End() ? member_off : kNone;
    return c;
  }
  static ZCursor Node(const ZNode* n) {
    ZCursor c;
    c.node_ = n;
    return c;
  }

  bool valid() const { return pl_ ? off_ != kNone : node_ != nullptr; }
  std::string_view member() const { return pl_ ? pl_->Get(off_) : node_->member(); }
  double score() const;
  void Next();
  void Prev();

 private:
  static constexpr uint32_t kNone = UINT32_MAX;
  const PackedList* pl_ = nullptr;
  uint32_t off_ = kNone;
  const ZNode* node_ = nullptr;
};

// Creates an empty container in the encoding Redis picks for a set expected
// to hold `count_hint` members, the longest `max_len_hint` bytes long.
void* ZSetCreate(size_t count_hint, size_t max_len_hint, const ZSetLimits& lim, Enc* enc);
// Converts a skiplist to the packed form when it fits the limits (after
// ZUNIONSTORE & co.); `max_len` is its longest member.
void ZSetShrinkIfFits(Enc& enc, void*& ptr, size_t max_len, const ZSetLimits& lim);

// Adds or updates as Redis's zsetAdd. Returns false (with kZAddNaN) when the
// result would be NaN. *newscore gets the score now stored (when not a no-op).
bool ZSetAdd(Enc& enc, void*& ptr, double score, std::string_view member, int in, int* out,
             double* newscore, const ZSetLimits& lim);
// Removes a member; false if absent. The caller deletes the key when empty.
bool ZSetRemove(Enc& enc, void*& ptr, std::string_view member);

bool ZSetScore(Enc enc, const void* ptr, std::string_view member, double* score);
// 0-based rank (from the highest when reverse), or -1 when absent.
int64_t ZSetRank(Enc enc, const void* ptr, std::string_view member, bool reverse);

// Cursor at 0-based rank from the lowest (invalid when out of range).
ZCursor ZSetAtRank(Enc enc, const void* ptr, size_t rank);
ZCursor ZSetFirstInRange(Enc enc, const void* ptr, const ZScoreRange& r);
ZCursor ZSetLastInRange(Enc enc, const void* ptr, const ZScoreRange& r);
// check_bounds=false: the skiplist walk ZREMRANGEBYLEX uses in Redis (no early-out).
ZCursor ZSetFirstInLex(Enc enc, const void* ptr, const ZLexRange& r, bool check_bounds = true);
ZCursor ZSetLastInLex(Enc enc, const void* ptr, const ZLexRange& r);
size_t ZSetCount(Enc enc, const void* ptr, const ZScoreRange& r);
size_t ZSetLexCount(Enc enc, const void* ptr, const ZLexRange& r);

// A uniformly-ish random element.
ZCursor ZSetRandom(Enc enc, const void* ptr);

// One ZSCAN step: appends member, score-string pairs as Redis would (packed:
// the whole set and cursor 0; skiplist: table buckets until `count` elements
// or count*10 buckets). Returns the next cursor.
size_t ZSetScan(Enc enc, void* ptr, size_t cursor, size_t count,
                std::vector<std::pair<std::string, std::string>>* out);

// Redis's d2string: integers that fit print as integers, else "%.17g".
std::string ZScoreString(double d);

// Keyspace hooks (value_ops.cc).
void ZSetFree(Enc e, void* ptr);
void* ZSetClone(Enc e, const void* ptr);
size_t ZSetMemory(Enc e, const void* ptr);
size_t ZSetLength(Enc e, const void* ptr);
// Mixes the value into a Redis-compatible digest (see digest.h).
void ZSetDigest(Enc e, const void* ptr, unsigned char digest[20]);

}  // namespace cairn::store

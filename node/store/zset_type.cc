// ZSet values: the packed (member, score) PackedList, conversion to and from
// the ZSkipList, the encoding-independent API and the keyspace hooks.
#include "node/store/zset_type.h"

#include <cmath>
#include <cstdio>
#include <cstring>

#include "node/base/number.h"
#include "node/store/digest.h"

namespace cairn::store {

namespace {

PackedList* AsPacked(void* p) { return static_cast<PackedList*>(p); }
const PackedList* AsPacked(const void* p) { return static_cast<const PackedList*>(p); }
ZSkipList* AsSkip(void* p) { return static_cast<ZSkipList*>(p); }
const ZSkipList* AsSkip(const void* p) { return static_cast<const ZSkipList*>(p); }

// Packed score encoding: an integral score of at most 7 characters is kept as
// its decimal text ("1", "-42"), as compact as Redis's listpack integers;
// every other score is its 8 raw IEEE-754 bytes. The length tells them apart
// (text is never 8 bytes long), and both round-trip exactly.
double DecodeScore(std::string_view s) {
  double d = 0;
  if (s.size() == sizeof(double)) {
    std::memcpy(&d, s.data(), sizeof(double));
    return d;
  }
  int64_t v = 0;
  bool neg = !s.empty() && s[0] == '-';
  for (size_t i = neg ? 1 : 0; i < s.size(); i++) v = v * 10 + (s[i] - '0');
  return static_cast<double>(neg ? -v : v);
}

// Redis's listpack keeps a score as text that it re-encodes as an integer
// when it can, so -0 comes back as 0 from the packed form (not from a skiplist).
struct ScoreBytes {
  explicit ScoreBytes(double d) {
    if (d == 0) d = 0.0;
    if (d >= -999999 && d <= 9999999 && d == static_cast<double>(static_cast<int64_t>(d))) {
      len = base::FormatInt64(b, static_cast<int64_t>(d));
      return;
    }
    std::memcpy(b, &d, sizeof(double));
    len = sizeof(double);
  }
  std::string_view view() const { return std::string_view(b, len); }
  char b[24];
  size_t len;
};

// --- packed form: offsets name the member entry of a pair -----------------

double PScore(const PackedList* pl, uint32_t moff) { return DecodeScore(pl->Get(pl->Next(moff))); }
uint32_t PNextPair(const PackedList* pl, uint32_t moff) { return pl->Next(pl->Next(moff)); }

uint32_t PFind(const PackedList* pl, std::string_view member) {
  return pl->Find(member, 1, pl->First());
}

void PInsert(PackedList* pl, double score, std::string_view member) {
  uint32_t off = pl->First();
  for (; off != pl->End(); off = PNextPair(pl, off)) {
    if (ZCompare(PScore(pl, off), pl->Get(off), score, member) > 0) break;
  }
  uint32_t moff = pl->Insert(off, member);
  pl->Insert(pl->Next(moff), ScoreBytes(score).view());
}

bool PackedLexMayMatch(const PackedList* pl, const ZLexRange& r) {
  return LexRangeMayMatch(pl->Get(pl->First()), pl->Get(pl->Seek(-2)), r);
}

ZSkipList* PackedToSkip(const PackedList* pl) {
  auto* zs = new ZSkipList();
  for (uint32_t off = pl->First(); off != pl->End(); off = PNextPair(pl, off)) {
    zs->Insert(PScore(pl, off), pl->Get(off));
  }
  return zs;
}

PackedList* SkipToPacked(const ZSkipList* zs) {
  auto* pl = new PackedList();
  for (ZNode* n = zs->First(); n; n = n->Next()) {
    pl->PushBack(n->member());
    pl->PushBack(ScoreBytes(n->score).view());
  }
  return pl;
}

void ConvertToSkip(Enc& enc, void*& ptr) {
  PackedList* pl = AsPacked(ptr);
  ptr = PackedToSkip(pl);
  enc = Enc::kSkipList;
  delete pl;
}

// Applies NX/XX/GT/LT/INCR to an existing member's score; returns false when
// nothing is to be written (out flags set).
bool ResolveExisting(double cur, double* score, int in, int* out) {
  if (in & kZAddNx) {
    *out |= kZAddNop;
    return false;
  }
  if (in & kZAddIncr) {
    *score += cur;
    if (std::isnan(*score)) {
      *out |= kZAddNaN;
      return false;
    }
  }
  if (((in & kZAddLt) && *score >= cur) || ((in & kZAddGt) && *score <= cur)) {
    *out |= kZAddNop;
    return false;
  }
  return true;
}

}  // namespace

double ZCursor::score() const { return pl_ ? PScore(pl_, off_) : node_->score; }

void ZCursor::Next() {
  if (pl_) {
    off_ = PNextPair(pl_, off_);
    if (off_ >= pl_->End()) off_ = kNone;
  } else {
    node_ = node_->Next();
  }
}

void ZCursor::Prev() {
  if (pl_) {
    off_ = off_ == pl_->First() ? kNone : pl_->Prev(pl_->Prev(off_));
  } else {
    node_ = node_->Prev();
  }
}

void* ZSetCreate(size_t count_hint, size_t max_len_hint, const ZSetLimits& lim, Enc* enc) {
  if (count_hint <= lim.max_entries && max_len_hint <= lim.max_value) {
    *enc = Enc::kPacked;
    return new PackedList();
  }
  *enc = Enc::kSkipList;
  return new ZSkipList();
}

void ZSetShrinkIfFits(Enc& enc, void*& ptr, size_t max_len, const ZSetLimits& lim) {
  if (enc != Enc::kSkipList) return;
  ZSkipList* zs = AsSkip(ptr);
  if (zs->size() > lim.max_entries || max_len > lim.max_value) return;
  ptr = SkipToPacked(zs);
  enc = Enc::kPacked;
  delete zs;
}

bool ZSetAdd(Enc& enc, void*& ptr, double score, std::string_view member, int in, int* out,
             double* newscore, const ZSetLimits& lim) {
  *out = 0;
  if (std::isnan(score)) {
    *out = kZAddNaN;
    return false;
  }
  if (enc == Enc::kPacked) {
    PackedList* pl = AsPacked(ptr);
    uint32_t off = PFind(pl, member);
    if (off != pl->End()) {
      double cur = PScore(pl, off);
      if (!ResolveExisting(cur, &score, in, out)) return !(*out & kZAddNaN);
      if (newscore) *newscore = score;
      if (score != cur) {
        pl->Erase(off, 2);
        PInsert(pl, score, member);
        *out |= kZAddUpdated;
      }
      return true;
    }
    if (in & kZAddXx) {
      *out |= kZAddNop;
      return true;
    }
    if (pl->size() / 2 + 1 > lim.max_entries || member.size() > lim.max_value) {
      ConvertToSkip(enc, ptr);
    } else {
      PInsert(pl, score, member);
      if (newscore) *newscore = score;
      *out |= kZAddAdded;
      return true;
    }
  }
  ZSkipList* zs = AsSkip(ptr);
  if (ZNode* n = zs->Find(member)) {
    double cur = n->score;
    if (!ResolveExisting(cur, &score, in, out)) return !(*out & kZAddNaN);
    if (newscore) *newscore = score;
    if (score != cur) {
      zs->UpdateScore(n, score);
      *out |= kZAddUpdated;
    }
    return true;
  }
  if (in & kZAddXx) {
    *out |= kZAddNop;
    return true;
  }
  zs->Insert(score, member);
  *out |= kZAddAdded;
  if (newscore) *newscore = score;
  return true;
}

bool ZSetRemove(Enc& enc, void*& ptr, std::string_view member) {
  if (enc == Enc::kPacked) {
    PackedList* pl = AsPacked(ptr);
    uint32_t off = PFind(pl, member);
    if (off == pl->End()) return false;
    pl->Erase(off, 2);
    return true;
  }
  return AsSkip(ptr)->Remove(member);
}

bool ZSetScore(Enc enc, const void* ptr, std::string_view member, double* score) {
  if (enc == Enc::kPacked) {
    const PackedList* pl = AsPacked(ptr);
    uint32_t off = PFind(pl, member);
    if (off == pl->End()) return false;
    *score = PScore(pl, off);
    return true;
  }
  ZNode* n = const_cast<ZSkipList*>(AsSkip(ptr))->Find(member);
  if (n == nullptr) return false;
  *score = n->score;
  return true;
}

int64_t ZSetRank(Enc enc, const void* ptr, std::string_view member, bool reverse) {
  size_t len = ZSetLength(enc, ptr);
  int64_t rank = -1;
  if (enc == Enc::kPacked) {
    const PackedList* pl = AsPacked(ptr);
    int64_t i = 0;
    for (uint32_t off = pl->First(); off != pl->End(); off = PNextPair(pl, off), i++) {
      if (pl->Get(off) == member) {
        rank = i;
        break;
      }
    }
  } else {
    const ZSkipList* zs = AsSkip(ptr);
    ZNode* n = const_cast<ZSkipList*>(zs)->Find(member);
    if (n) rank = static_cast<int64_t>(zs->Rank(n)) - 1;
  }
  if (rank < 0) return -1;
  return reverse ? static_cast<int64_t>(len) - 1 - rank : rank;
}

ZCursor ZSetAtRank(Enc enc, const void* ptr, size_t rank) {
  if (enc == Enc::kPacked) {
    const PackedList* pl = AsPacked(ptr);
    if (rank >= pl->size() / 2) return ZCursor::Packed(pl, pl->End());
    return ZCursor::Packed(pl, pl->Seek(static_cast<int64_t>(rank * 2)));
  }
  return ZCursor::Node(AsSkip(ptr)->ByRank(rank + 1));
}

ZCursor ZSetFirstInRange(Enc enc, const void* ptr, const ZScoreRange& r) {
  if (enc == Enc::kSkipList) return ZCursor::Node(AsSkip(ptr)->FirstInRange(r));
  const PackedList* pl = AsPacked(ptr);
  for (uint32_t off = pl->First(); off != pl->End(); off = PNextPair(pl, off)) {
    double s = PScore(pl, off);
    if (ScoreGteMin(s, r)) return ZCursor::Packed(pl, ScoreLteMax(s, r) ? off : pl->End());
  }
  return ZCursor::Packed(pl, pl->End());
}

ZCursor ZSetLastInRange(Enc enc, const void* ptr, const ZScoreRange& r) {
  if (enc == Enc::kSkipList) return ZCursor::Node(AsSkip(ptr)->LastInRange(r));
  const PackedList* pl = AsPacked(ptr);
  for (ZCursor c = ZSetAtRank(enc, ptr, pl->size() / 2 - 1); c.valid(); c.Prev()) {
    double s = c.score();
    if (ScoreLteMax(s, r)) return ScoreGteMin(s, r) ? c : ZCursor::Packed(pl, pl->End());
  }
  return ZCursor::Packed(pl, pl->End());
}

ZCursor ZSetFirstInLex(Enc enc, const void* ptr, const ZLexRange& r, bool check_bounds) {
  if (enc == Enc::kSkipList) return ZCursor::Node(AsSkip(ptr)->FirstInLex(r, check_bounds));
  const PackedList* pl = AsPacked(ptr);
  if (pl->empty() || !PackedLexMayMatch(pl, r)) return ZCursor::Packed(pl, pl->End());
  for (uint32_t off = pl->First(); off != pl->End(); off = PNextPair(pl, off)) {
    std::string_view m = pl->Get(off);
    if (LexGteMin(m, r)) return ZCursor::Packed(pl, LexLteMax(m, r) ? off : pl->End());
  }
  return ZCursor::Packed(pl, pl->End());
}

ZCursor ZSetLastInLex(Enc enc, const void* ptr, const ZLexRange& r) {
  if (enc == Enc::kSkipList) return ZCursor::Node(AsSkip(ptr)->LastInLex(r));
  const PackedList* pl = AsPacked(ptr);
  if (pl->empty() || !PackedLexMayMatch(pl, r)) return ZCursor::Packed(pl, pl->End());
  for (ZCursor c = ZSetAtRank(enc, ptr, pl->size() / 2 - 1); c.valid(); c.Prev()) {
    std::string_view m = c.member();
    if (LexLteMax(m, r)) return LexGteMin(m, r) ? c : ZCursor::Packed(pl, pl->End());
  }
  return ZCursor::Packed(pl, pl->End());
}

size_t ZSetCount(Enc enc, const void* ptr, const ZScoreRange& r) {
  if (enc == Enc::kSkipList) {
    const ZSkipList* zs = AsSkip(ptr);
    ZNode* first = zs->FirstInRange(r);
    if (first == nullptr) return 0;
    ZNode* last = zs->LastInRange(r);
    return zs->Rank(last) - zs->Rank(first) + 1;
  }
  size_t n = 0;
  for (ZCursor c = ZSetFirstInRange(enc, ptr, r); c.valid() && ScoreLteMax(c.score(), r); c.Next())
    n++;
  return n;
}

size_t ZSetLexCount(Enc enc, const void* ptr, const ZLexRange& r) {
  if (enc == Enc::kSkipList) {
    const ZSkipList* zs = AsSkip(ptr);
    ZNode* first = zs->FirstInLex(r);
    if (first == nullptr) return 0;
    ZNode* last = zs->LastInLex(r);
    if (last == nullptr) return 0;
    return zs->Rank(last) - zs->Rank(first) + 1;
  }
  size_t n = 0;
  for (ZCursor c = ZSetFirstInLex(enc, ptr, r); c.valid() && LexLteMax(c.member(), r); c.Next())
    n++;
  return n;
}

ZCursor ZSetRandom(Enc enc, const void* ptr) {
  if (enc == Enc::kSkipList) return ZCursor::Node(const_cast<ZSkipList*>(AsSkip(ptr))->Random());
  size_t len = ZSetLength(enc, ptr);
  if (len == 0) return ZCursor::Packed(AsPacked(ptr), AsPacked(ptr)->End());
  return ZSetAtRank(enc, ptr, RandomU64() % len);
}

size_t ZSetScan(Enc enc, void* ptr, size_t cursor, size_t count,
                std::vector<std::pair<std::string, std::string>>* out) {
  if (enc == Enc::kPacked) {
    for (ZCursor c = ZSetAtRank(enc, ptr, 0); c.valid(); c.Next())
      out->emplace_back(std::string(c.member()), ZScoreString(c.score()));
    return 0;
  }
  ZSkipList* zs = AsSkip(ptr);
  // Redis: up to count*2 reply entries (member + score), 10 buckets per entry.
  int64_t max_iterations = static_cast<int64_t>(count) * 20;
  do {
    cursor = zs->Scan(cursor, [&](ZNode* n) {
      out->emplace_back(std::string(n->member()), base::FormatDouble(n->score));
    });
  } while (cursor && max_iterations-- && out->size() < count);
  return cursor;
}

std::string ZScoreString(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d < 0 ? "-inf" : "inf";
  if (d == 0) return std::signbit(d) ? "-0" : "0";
  constexpr double kLimit = static_cast<double>(INT64_MAX / 2);
  if (d >= -kLimit && d <= kLimit) {
    auto ll = static_cast<int64_t>(d);
    if (static_cast<double>(ll) == d) return base::Int64ToString(ll);
  }
  char buf[64];
  int n = std::snprintf(buf, sizeof(buf), "%.17g", d);
  return std::string(buf, n);
}

void ZSetFree(Enc e, void* ptr) {
  if (e == Enc::kPacked)
    delete AsPacked(ptr);
  else
    delete AsSkip(ptr);
}

void* ZSetClone(Enc e, const void* ptr) {
  if (e == Enc::kPacked) return new PackedList(AsPacked(ptr)->Clone());
  auto* zs = new ZSkipList();
  for (ZNode* n = AsSkip(ptr)->First(); n; n = n->Next()) zs->Insert(n->score, n->member());
  return zs;
}

size_t ZSetMemory(Enc e, const void* ptr) {
  if (e == Enc::kPacked) return sizeof(PackedList) + AsPacked(ptr)->AllocatedBytes();
  return AsSkip(ptr)->Memory();
}

size_t ZSetLength(Enc e, const void* ptr) {
  if (e == Enc::kPacked) return AsPacked(ptr)->size() / 2;
  return AsSkip(ptr)->size();
}

void ZSetDigest(Enc e, const void* ptr, unsigned char digest[20]) {
  for (ZCursor c = ZSetAtRank(e, ptr, 0); c.valid(); c.Next()) {
    unsigned char ele[20] = {0};
    MixDigest(ele, c.member());
    MixDigest(ele, base::FormatDouble(c.score()));
    XorDigest(digest, std::string_view(reinterpret_cast<const char*>(ele), sizeof(ele)));
  }
}

}  // namespace cairn::store

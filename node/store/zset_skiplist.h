// ZSkipList: the large sorted-set encoding ("skiplist") — a skiplist with spans
// (O(log n) rank) whose nodes are also linked into a HashTable by member, plus
// the score and lexicographic range specs both zset encodings share.
//
// DESIGN
// - One allocation per element serves both indexes:
//     [ZNode header][Level x height][member bytes]
//   `next` is the HashTable chain link, `level()[i].forward/span` the skiplist
//   links, `backward` the level-0 back link.
// - Order is (score, member bytes) ascending, as Redis's zskiplist; members are
//   unique (the table enforces it), scores never NaN.
// - A score update that keeps the node's position is done in place; otherwise
//   the node is unlinked from the skiplist and relinked (same allocation, same
//   height), so the table never sees it move.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "node/store/hash_table.h"

namespace cairn::store {

struct ZNode {
  struct Level {
    ZNode* forward;
    size_t span;  // elements skipped by following `forward` (rank distance)
  };
  ZNode* next;      // HashTable chain
  ZNode* backward;  // previous node at level 0 (nullptr for the first)
  double score;
  uint32_t len;
  uint8_t height;

  Level* level() { return reinterpret_cast<Level*>(this + 1); }
  const Level* level() const { return reinterpret_cast<const Level*>(this + 1); }
  std::string_view member() const {
    return std::string_view(reinterpret_cast<const char*>(level() + height), len);
  }
  ZNode* Next() const { return level()[0].forward; }
  ZNode* Prev() const { return backward; }
};

struct ZNodeTraits {
  static std::string_view Key(const ZNode* n) { return n->member(); }
};

// Score interval; minex/maxex make a bound exclusive ("(" in the syntax).
struct ZScoreRange {
  double min = 0, max = 0;
  bool minex = false, maxex = false;
};

// One end of a lexicographic interval: "-" / "+" are the infinities.
struct ZLexBound {
  enum class Kind : uint8_t {
    kValue,   // "[x" or "(x"
    kNegInf,  // "-"
    kPosInf,  // "+"
  };
  Kind kind = Kind::kValue;
  bool ex = false;
  std::string value;
};
struct ZLexRange {
  ZLexBound min, max;
};

// Parse Redis's range syntax; false when invalid (the caller replies
// "min or max is not a float" / "min or max not valid string range item").
bool ParseScoreRange(std::string_view min, std::string_view max, ZScoreRange* out);
bool ParseLexRange(std::string_view min, std::string_view max, ZLexRange* out);

inline bool ScoreGteMin(double v, const ZScoreRange& r) { return r.minex ? v > r.min : v >= r.min; }
inline bool ScoreLteMax(double v, const ZScoreRange& r) { return r.maxex ? v < r.max : v <= r.max; }
bool LexGteMin(std::string_view v, const ZLexRange& r);
bool LexLteMax(std::string_view v, const ZLexRange& r);
// Redis's early-out before a lex range search: false when the range is empty
// by its bounds, or the last member is below min or the first above max. (It
// matters only when scores differ, where "lex order" is not the set's order.)
bool LexRangeMayMatch(std::string_view first, std::string_view last, const ZLexRange& r);

// (score, member) ordering of the sorted set: negative, zero or positive.
inline int ZCompare(double s1, std::string_view m1, double s2, std::string_view m2) {
  if (s1 < s2) return -1;
  if (s1 > s2) return 1;
  int c = m1.compare(m2);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

class ZSkipList {
 public:
  static constexpr int kMaxLevel = 32;

  ZSkipList();
  ~ZSkipList();
  ZSkipList(const ZSkipList&) = delete;
  ZSkipList& operator=(const ZSkipList&) = delete;

  size_t size() const { return length_; }
  ZNode* Find(std::string_view member) { return dict_.Find(member); }
  // Adds a member that is not present yet.
  ZNode* Insert(double score, std::string_view member);
  // Removes `member`; false if absent. *score gets its score when given.
  bool Remove(std::string_view member, double* score = nullptr);
  // Changes the score of a linked node, keeping the allocation.
  void UpdateScore(ZNode* n, double score);

  ZNode* First() const { return header_->level()[0].forward; }
  ZNode* Last() const { return tail_; }
  // 1-based rank of a linked node.
  size_t Rank(const ZNode* n) const;
  // Node at 1-based rank, or nullptr.
  ZNode* ByRank(size_t rank) const;

  ZNode* FirstInRange(const ZScoreRange& r) const;
  ZNode* LastInRange(const ZScoreRange& r) const;
  // check_bounds=false skips LexRangeMayMatch (Redis's delete-by-lex walk).
  ZNode* FirstInLex(const ZLexRange& r, bool check_bounds = true) const;
  ZNode* LastInLex(const ZLexRange& r) const;

  ZNode* Random() { return dict_.Random(); }
  template <typename Fn>
  size_t Scan(size_t cursor, Fn&& fn) {
    return dict_.Scan(cursor, fn);
  }
  void ShrinkIfSparse() { dict_.ShrinkIfSparse(); }
  // Approximate heap bytes (nodes + bucket arrays).
  size_t Memory() const;
  int levels() const { return level_; }

 private:
  static ZNode* NewNode(int height, double score, std::string_view member);
  static int RandomLevel();
  // Links `x` (height and score set) into the skiplist at its ordered position.
  void Link(ZNode* x);
  // Unlinks `x` given the predecessors found by a search.
  void Unlink(ZNode* x, ZNode** update);
  // Fills update[] with the predecessors of (score, member) on every level.
  void FindUpdate(double score, std::string_view member, ZNode** update) const;

  ZNode* header_;
  ZNode* tail_ = nullptr;
  size_t length_ = 0;
  int level_ = 1;
  size_t node_bytes_ = 0;
  HashTable<ZNode, ZNodeTraits> dict_;
};

}  // namespace cairn::store

// QuickList: the container behind every Redis list ("quicklist" in OBJECT
// ENCODING) — a ring of PackedList nodes, each bounded by list-max-listpack-size,
// so memory per element stays near a listpack's while pushes and pops at both
// ends stay O(1).
//
// DESIGN
// - Nodes live in a growable ring buffer (8 bytes per node), not a std::deque,
//   whose fixed 512-byte chunks would dwarf small lists.
// - Node limit (the `fill`, Redis's list-max-listpack-size, fixed at creation):
//   negative -1..-5 bounds a node to 4/8/16/32/64 KB; positive N bounds it to N
//   entries and 8 KB (Redis's safety limit).
// - An element too big for any node gets a node of its own, a "plain" node: it
//   holds that single element and nothing is ever inserted or merged into it.
// - Invariants: no node is empty; count_ is the sum of node sizes.
// - Positions (node index, entry offset) are valid until the next mutation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "node/store/packed_list.h"

namespace cairn::store {

class QuickList {
 public:
  enum class Where { kHead, kTail };
  struct Pos {
    uint32_t node = 0;
    uint32_t off = 0;
  };

  explicit QuickList(int64_t fill);
  ~QuickList();
  QuickList(const QuickList&) = delete;
  QuickList& operator=(const QuickList&) = delete;
  QuickList* Clone() const;

  size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  size_t node_count() const { return len_; }
  int fill() const { return fill_; }
  // Entries of node i (tests and DEBUG).
  size_t NodeSize(size_t i) const { return At(i).size(); }
  size_t NodeBytes(size_t i) const { return At(i).bytes(); }
  bool NodeIsPlain(size_t i) const;
  // Heap bytes including allocator slack (MEMORY USAGE).
  size_t MemoryUsage() const;

  void Push(Where where, std::string_view value);
  // Removes and returns the element at one end; the list must not be empty.
  std::string Pop(Where where);

  // Position of the element at `index` (negative counts from the tail),
  // walking from the nearer end. False when out of range.
  bool Seek(int64_t index, Pos* pos) const;
  std::string_view Get(Pos pos) const { return At(pos.node).Get(pos.off); }
  // Step toward the tail / head; false (pos unchanged) at the end.
  bool Next(Pos* pos) const;
  bool Prev(Pos* pos) const;
  // First element equal to `value` scanning from the head.
  bool Find(std::string_view value, Pos* pos) const;

  // Replaces the element at `index`; false when out of range.
  bool Replace(int64_t index, std::string_view value);
  // Inserts `value` before or after the element at `pos`.
  void Insert(Pos pos, bool after, std::string_view value);
  // Removes `count` elements starting at `start` (negative from the tail,
  // clamped to the list); returns how many were removed.
  size_t DeleteRange(int64_t start, size_t count);
  // LREM: removes elements equal to `value`; limit > 0 scans from the head and
  // stops after `limit` removals, limit < 0 from the tail, 0 removes all.
  size_t Remove(std::string_view value, int64_t limit);

  // Calls fn(std::string_view) for each element, head to tail.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (size_t i = 0; i < len_; i++) {
      const PackedList& pl = At(i);
      for (uint32_t off = pl.First(); off != pl.End(); off = pl.Next(off)) fn(pl.Get(off));
    }
  }

  // Checks the invariants above (tests).
  bool Valid() const;

 private:
  PackedList& At(size_t i) { return slots_[(head_ + i) & (cap_ - 1)]; }
  const PackedList& At(size_t i) const { return slots_[(head_ + i) & (cap_ - 1)]; }

  // Ring buffer of nodes.
  void Grow();
  void RingPushFront(PackedList&& node);
  void RingPushBack(PackedList&& node);
  void RingInsert(size_t i, PackedList&& node);
  void RingErase(size_t i);

  // Node limits.
  size_t ByteLimit() const;
  bool IsLarge(size_t len) const;
  bool AllowInsert(const PackedList& pl, size_t len) const;
  bool AllowMerge(const PackedList& a, const PackedList& b) const;

  // Inserts so that `value` ends up at offset `off` of node `ni` (End() appends).
  void InsertAt(size_t ni, uint32_t off, std::string_view value);
  // Node holding element `index` (0 <= index < count_) and its index there.
  void SeekNode(size_t index, size_t* node, size_t* local) const;
  // Merges node i+1 into node i when both fit in one node.
  bool TryMerge(size_t i);
  // Merges neighbours across nodes [from, to] (clamped) after deletions.
  void Compact(size_t from, size_t to);

  PackedList* slots_ = nullptr;
  uint32_t cap_ = 0;  // power of two (or 0)
  uint32_t head_ = 0;
  uint32_t len_ = 0;
  int16_t fill_;
  size_t count_ = 0;
};

}  // namespace cairn::store

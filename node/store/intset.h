// IntSet: a sorted array of integers in one allocation whose element width
// (2, 4 or 8 bytes) grows to fit the widest member, as Redis's intset does, so a
// set of small integers costs two bytes per member.
#pragma once

#include <cstddef>
#include <cstdint>

namespace cairn::store {

class IntSet {
 public:
  // Every mutator may move the set (realloc); use the returned pointer.
  static IntSet* Create();
  static IntSet* Clone(const IntSet* s);
  static void Free(IntSet* s);
  // Inserts v; *added tells whether it was new.
  static IntSet* Add(IntSet* s, int64_t v, bool* added);
  // Removes v; *removed tells whether it was there.
  static IntSet* Remove(IntSet* s, int64_t v, bool* removed);

  bool Contains(int64_t v) const;
  uint32_t size() const { return len_; }
  // Bytes per member currently used (2, 4 or 8).
  uint32_t width() const { return width_; }
  // Member at sorted position i (0 <= i < size()).
  int64_t At(uint32_t i) const;
  // Total bytes of the blob (header + members).
  size_t Bytes() const { return sizeof(IntSet) + size_t{len_} * width_; }
  size_t AllocatedBytes() const;

 private:
  IntSet() = default;
  static uint32_t WidthFor(int64_t v);
  static IntSet* Resize(IntSet* s, uint32_t len);
  // Binary search: true and the position if found, else false and the
  // insertion point.
  bool Search(int64_t v, uint32_t* pos) const;
  void Put(uint32_t i, int64_t v);
  int64_t GetAs(uint32_t i, uint32_t width) const;
  unsigned char* data() { return reinterpret_cast<unsigned char*>(this + 1); }
  const unsigned char* data() const { return reinterpret_cast<const unsigned char*>(this + 1); }

  uint32_t width_;
  uint32_t len_;
};

}  // namespace cairn::store

// PackedList: a compact sequence of byte strings in one allocation, Cairn's
// counterpart of Redis's listpack. Small hashes, sets and sorted sets and every
// list node use it, which is what keeps their memory per element near Redis's.
//
// Layout (docs/architecture.md): [u32 total_bytes][u16 count] then entries, each
//   [varint len][len bytes][backlen]
// where backlen is the byte size of "varint len + bytes" written as a reversed
// varint (7 bits per byte, high bit = more, read from the end), so the list can
// be walked in both directions. Offsets (uint32) name entries. A count of 65535
// means "65535 or more": size() then counts by walking, as listpack does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace cairn::store {

class PackedList {
 public:
  PackedList();
  ~PackedList();
  PackedList(const PackedList&) = delete;
  PackedList& operator=(const PackedList&) = delete;
  PackedList(PackedList&& o) noexcept;
  PackedList& operator=(PackedList&& o) noexcept;
  PackedList Clone() const;

  uint32_t size() const;   // number of entries
  uint32_t bytes() const;  // total bytes of the buffer
  bool empty() const { return size() == 0; }
  // Bytes including allocator slack (MEMORY USAGE).
  size_t AllocatedBytes() const;

  // Entry offsets. End() is one past the last entry; First()==End() when empty.
  static constexpr uint32_t kHeader = 6;
  static constexpr uint16_t kCountUnknown = 0xFFFF;
  uint32_t First() const { return kHeader; }
  uint32_t End() const { return bytes(); }
  uint32_t Next(uint32_t off) const;
  uint32_t Prev(uint32_t off) const;  // off may be End(); First() has no Prev
  uint32_t Last() const { return empty() ? End() : Prev(End()); }
  std::string_view Get(uint32_t off) const;
  // Offset of the entry at index (negative counts from the end), or End().
  uint32_t Seek(int64_t index) const;

  // Inserts before `off` (End() appends); returns the new entry's offset.
  uint32_t Insert(uint32_t off, std::string_view value);
  void PushBack(std::string_view v) { Insert(End(), v); }
  void PushFront(std::string_view v) { Insert(First(), v); }
  // Removes `n` consecutive entries starting at `off`; returns the offset of the
  // entry that followed them.
  uint32_t Erase(uint32_t off, uint32_t n = 1);
  // Replaces the entry at `off`; returns its (unchanged) offset.
  uint32_t Replace(uint32_t off, std::string_view value);
  // Linear search from `off` stepping `skip` entries between candidates.
  uint32_t Find(std::string_view value, uint32_t skip = 0, uint32_t off = kHeader) const;

  // Size an entry of this length would take (for node-size limits).
  static size_t EntrySize(size_t len);

 private:
  void SetBytes(uint32_t b);
  void SetCount(uint32_t c);
  uint16_t RawCount() const;
  void Resize(uint32_t new_bytes);
  unsigned char* buf_;
};

}  // namespace cairn::store

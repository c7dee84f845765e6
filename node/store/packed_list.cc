// PackedList implementation; the byte layout is specified in packed_list.h and
// docs/architecture.md.
#include "node/store/packed_list.h"

#include <cstring>

#include "node/base/memory.h"

namespace cairn::store {
namespace {

size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    n++;
  }
  return n;
}

size_t PutVarint(unsigned char* p, uint64_t v) {
  size_t n = 0;
  while (v >= 0x80) {
    p[n++] = static_cast<unsigned char>(v | 0x80);
    v >>= 7;
  }
  p[n++] = static_cast<unsigned char>(v);
  return n;
}

uint64_t GetVarint(const unsigned char* p, size_t* n) {
  uint64_t v = 0;
  int shift = 0;
  size_t i = 0;
  while (true) {
    unsigned char b = p[i++];
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) break;
    shift += 7;
  }
  *n = i;
  return v;
}

// Backlen, as listpack's: read from right to left, 7 bits per byte, low group
// first; every byte but the leftmost carries the 0x80 continuation bit, so the
// leftmost byte (bit clear) ends it unambiguously.
size_t PutBacklen(unsigned char* p, uint64_t v) {
  size_t n = VarintSize(v);
  for (size_t i = 0; i < n; i++) {
    // p[n-1-i] holds group i (bits 7i..7i+6).
    unsigned char b = static_cast<unsigned char>((v >> (7 * i)) & 0x7f);
    if (n - 1 - i != 0) b |= 0x80;
    p[n - 1 - i] = b;
  }
  return n;
}

// Reads a backlen whose rightmost byte is end[-1]; sets *n to its size.
uint64_t GetBacklen(const unsigned char* end, size_t* n) {
  uint64_t v = 0;
  size_t i = 0;
  while (true) {
    unsigned char b = end[-1 - static_cast<ptrdiff_t>(i)];
    v |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
    i++;
    if (!(b & 0x80)) break;
  }
  *n = i;
  return v;
}

}  // namespace

size_t PackedList::EntrySize(size_t len) {
  size_t head = VarintSize(len) + len;
  return head + VarintSize(head);
}

PackedList::PackedList() {
  buf_ = static_cast<unsigned char*>(base::ZMalloc(kHeader));
  SetBytes(kHeader);
  SetCount(0);
}

PackedList::~PackedList() { base::ZFree(buf_); }

PackedList::PackedList(PackedList&& o) noexcept : buf_(o.buf_) { o.buf_ = nullptr; }

PackedList& PackedList::operator=(PackedList&& o) noexcept {
  if (this != &o) {
    base::ZFree(buf_);
    buf_ = o.buf_;
    o.buf_ = nullptr;
  }
  return *this;
}

PackedList PackedList::Clone() const {
  PackedList p;
  p.Resize(bytes());
  std::memcpy(p.buf_, buf_, bytes());
  return p;
}

uint16_t PackedList::RawCount() const {
  uint16_t c;
  std::memcpy(&c, buf_ + 4, 2);
  return c;
}

uint32_t PackedList::size() const {
  uint16_t c = RawCount();
  if (c != kCountUnknown) return c;
  uint32_t n = 0;
  for (uint32_t off = First(); off < End(); off = Next(off)) n++;
  return n;
}

uint32_t PackedList::bytes() const {
  uint32_t b;
  std::memcpy(&b, buf_, 4);
  return b;
}

size_t PackedList::AllocatedBytes() const { return base::ZUsableSize(buf_); }

void PackedList::SetBytes(uint32_t b) { std::memcpy(buf_, &b, 4); }
void PackedList::SetCount(uint32_t c) {
  uint16_t v = c >= kCountUnknown ? kCountUnknown : static_cast<uint16_t>(c);
  std::memcpy(buf_ + 4, &v, 2);
}

void PackedList::Resize(uint32_t new_bytes) {
  buf_ = static_cast<unsigned char*>(base::ZRealloc(buf_, new_bytes));
}

uint32_t PackedList::Next(uint32_t off) const {
  size_t n;
  uint64_t len = GetVarint(buf_ + off, &n);
  size_t head = n + len;
  return static_cast<uint32_t>(off + head + VarintSize(head));
}

uint32_t PackedList::Prev(uint32_t off) const {
  size_t n;
  uint64_t head = GetBacklen(buf_ + off, &n);
  return static_cast<uint32_t>(off - n - head);
}

std::string_view PackedList::Get(uint32_t off) const {
  size_t n;
  uint64_t len = GetVarint(buf_ + off, &n);
  return std::string_view(reinterpret_cast<const char*>(buf_ + off + n), len);
}

uint32_t PackedList::Seek(int64_t index) const {
  int64_t count = size();
  if (index < 0) index += count;
  if (index < 0 || index >= count) return End();
  if (index <= count / 2) {
    uint32_t off = First();
    while (index--) off = Next(off);
    return off;
  }
  uint32_t off = End();
  for (int64_t i = count; i > index; i--) off = Prev(off);
  return off;
}

uint32_t PackedList::Insert(uint32_t off, std::string_view value) {
  size_t esize = EntrySize(value.size());
  uint32_t old_bytes = bytes();
  Resize(static_cast<uint32_t>(old_bytes + esize));
  std::memmove(buf_ + off + esize, buf_ + off, old_bytes - off);
  unsigned char* p = buf_ + off;
  size_t n = PutVarint(p, value.size());
  std::memcpy(p + n, value.data(), value.size());
  PutBacklen(p + n + value.size(), n + value.size());
  SetBytes(static_cast<uint32_t>(old_bytes + esize));
  if (RawCount() != kCountUnknown) SetCount(RawCount() + 1u);
  return off;
}

uint32_t PackedList::Erase(uint32_t off, uint32_t n) {
  uint32_t end = off;
  uint32_t removed = 0;
  while (removed < n && end < End()) {
    end = Next(end);
    removed++;
  }
  uint32_t old_bytes = bytes();
  std::memmove(buf_ + off, buf_ + end, old_bytes - end);
  SetBytes(old_bytes - (end - off));
  if (RawCount() != kCountUnknown) SetCount(RawCount() - removed);
  Resize(bytes());
  return off;
}

uint32_t PackedList::Replace(uint32_t off, std::string_view value) {
  uint32_t old_end = Next(off);
  size_t old_size = old_end - off;
  size_t new_size = EntrySize(value.size());
  uint32_t old_bytes = bytes();
  uint32_t new_bytes = static_cast<uint32_t>(old_bytes - old_size + new_size);
  if (new_size > old_size) Resize(new_bytes);
  std::memmove(buf_ + off + new_size, buf_ + old_end, old_bytes - old_end);
  unsigned char* p = buf_ + off;
  size_t n = PutVarint(p, value.size());
  std::memcpy(p + n, value.data(), value.size());
  PutBacklen(p + n + value.size(), n + value.size());
  SetBytes(new_bytes);
  if (new_size < old_size) Resize(new_bytes);
  return off;
}

uint32_t PackedList::Find(std::string_view value, uint32_t skip, uint32_t off) const {
  uint32_t end = End();
  while (off < end) {
    if (Get(off) == value) return off;
    off = Next(off);
    for (uint32_t i = 0; i < skip && off < end; i++) off = Next(off);
  }
  return end;
}

}  // namespace cairn::store

// IntSet implementation: sorted fixed-width members, widened in place when a
// member needs more bytes (widening never narrows back, as in Redis).
#include "node/store/intset.h"

#include <cstring>

#include "node/base/memory.h"

namespace cairn::store {

uint32_t IntSet::WidthFor(int64_t v) {
  if (v >= INT16_MIN && v <= INT16_MAX) return 2;
  if (v >= INT32_MIN && v <= INT32_MAX) return 4;
  return 8;
}

IntSet* IntSet::Create() {
  auto* s = static_cast<IntSet*>(base::ZMalloc(sizeof(IntSet)));
  s->width_ = 2;
  s->len_ = 0;
  return s;
}

IntSet* IntSet::Clone(const IntSet* s) {
  auto* c = static_cast<IntSet*>(base::ZMalloc(s->Bytes()));
  std::memcpy(static_cast<void*>(c), s, s->Bytes());
  return c;
}

void IntSet::Free(IntSet* s) { base::ZFree(s); }

size_t IntSet::AllocatedBytes() const { return base::ZUsableSize(const_cast<IntSet*>(this)); }

IntSet* IntSet::Resize(IntSet* s, uint32_t len) {
  size_t bytes = sizeof(IntSet) + size_t{len} * s->width_;
  return static_cast<IntSet*>(base::ZRealloc(s, bytes));
}

int64_t IntSet::GetAs(uint32_t i, uint32_t width) const {
  const unsigned char* p = data() + size_t{i} * width;
  if (width == 2) {
    int16_t v;
    std::memcpy(&v, p, 2);
    return v;
  }
  if (width == 4) {
    int32_t v;
    std::memcpy(&v, p, 4);
    return v;
  }
  int64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

int64_t IntSet::At(uint32_t i) const { return GetAs(i, width_); }

void IntSet::Put(uint32_t i, int64_t v) {
  unsigned char* p = data() + size_t{i} * width_;
  if (width_ == 2) {
    int16_t x = static_cast<int16_t>(v);
    std::memcpy(p, &x, 2);
  } else if (width_ == 4) {
    int32_t x = static_cast<int32_t>(v);
    std::memcpy(p, &x, 4);
  } else {
    std::memcpy(p, &v, 8);
  }
}

bool IntSet::Search(int64_t v, uint32_t* pos) const {
  uint32_t lo = 0, hi = len_;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    int64_t cur = At(mid);
    if (cur == v) {
      *pos = mid;
      return true;
    }
    if (cur < v)
      lo = mid + 1;
    else
      hi = mid;
  }
  *pos = lo;
  return false;
}

bool IntSet::Contains(int64_t v) const {
  if (WidthFor(v) > width_) return false;
  uint32_t pos;
  return Search(v, &pos);
}

IntSet* IntSet::Add(IntSet* s, int64_t v, bool* added) {
  uint32_t need = WidthFor(v);
  if (need > s->width_) {
    // A value wider than every member is either below or above all of them:
    // widen back to front (so no member is overwritten before it is read) and
    // put v at the matching end.
    uint32_t old_width = s->width_, len = s->len_;
    s->width_ = need;
    s = Resize(s, len + 1);
    uint32_t shift = v < 0 ? 1 : 0;
    for (uint32_t i = len; i-- > 0;) s->Put(i + shift, s->GetAs(i, old_width));
    s->len_ = len + 1;
    s->Put(v < 0 ? 0 : len, v);
    *added = true;
    return s;
  }
  uint32_t pos;
  if (s->Search(v, &pos)) {
    *added = false;
    return s;
  }
  s = Resize(s, s->len_ + 1);
  unsigned char* p = s->data() + size_t{pos} * s->width_;
  std::memmove(p + s->width_, p, size_t{s->len_ - pos} * s->width_);
  s->len_++;
  s->Put(pos, v);
  *added = true;
  return s;
}

IntSet* IntSet::Remove(IntSet* s, int64_t v, bool* removed) {
  uint32_t pos;
  if (WidthFor(v) > s->width_ || !s->Search(v, &pos)) {
    *removed = false;
    return s;
  }
  unsigned char* p = s->data() + size_t{pos} * s->width_;
  std::memmove(p, p + s->width_, size_t{s->len_ - pos - 1} * s->width_);
  s->len_--;
  *removed = true;
  return Resize(s, s->len_);
}

}  // namespace cairn::store

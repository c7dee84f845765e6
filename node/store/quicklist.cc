// QuickList implementation: node ring, node limits, and the split/merge rules
// that keep nodes full after inserts and deletions (see quicklist.h).
#include "node/store/quicklist.h"

#include <algorithm>
#include <new>
#include <utility>

#include "node/base/memory.h"

namespace cairn::store {
namespace {

// Redis clamps list-max-listpack-size to [-5, 2^15-1].
constexpr int64_t kMinFill = -5;
constexpr int64_t kMaxFill = (1 << 15) - 1;
// Byte bound of a node under a positive (count) fill, Redis's SIZE_SAFETY_LIMIT.
constexpr size_t kSafetyLimit = 8192;

PackedList SingleNode(std::string_view value) {
  PackedList pl;
  pl.PushBack(value);
  return pl;
}

}  // namespace

QuickList::QuickList(int64_t fill)
    : fill_(static_cast<int16_t>(std::clamp(fill, kMinFill, kMaxFill))) {}

QuickList::~QuickList() {
  for (size_t i = 0; i < len_; i++) At(i).~PackedList();
  base::ZFree(slots_);
}

QuickList* QuickList::Clone() const {
  auto* q = new QuickList(fill_);
  for (size_t i = 0; i < len_; i++) q->RingPushBack(At(i).Clone());
  q->count_ = count_;
  return q;
}

size_t QuickList::MemoryUsage() const {
  size_t total = sizeof(QuickList) + (slots_ ? base::ZUsableSize(slots_) : 0);
  for (size_t i = 0; i < len_; i++) total += At(i).AllocatedBytes();
  return total;
}

// --- ring buffer -------------------------------------------------------------

void QuickList::Grow() {
  uint32_t cap = cap_ ? cap_ * 2 : 1;
  auto* slots = static_cast<PackedList*>(base::ZMalloc(cap * sizeof(PackedList)));
  for (size_t i = 0; i < len_; i++) {
    new (&slots[i]) PackedList(std::move(At(i)));
    At(i).~PackedList();
  }
  base::ZFree(slots_);
  slots_ = slots;
  cap_ = cap;
  head_ = 0;
}

void QuickList::RingPushFront(PackedList&& node) {
  if (len_ == cap_) Grow();
  head_ = (head_ - 1) & (cap_ - 1);
  new (&slots_[head_]) PackedList(std::move(node));
  len_++;
}

void QuickList::RingPushBack(PackedList&& node) {
  if (len_ == cap_) Grow();
  new (&At(len_)) PackedList(std::move(node));
  len_++;
}

void QuickList::RingInsert(size_t i, PackedList&& node) {
  if (i == 0) return RingPushFront(std::move(node));
  RingPushBack(std::move(node));
  for (size_t j = len_ - 1; j > i; j--) std::swap(At(j), At(j - 1));
}

void QuickList::RingErase(size_t i) {
  if (i < len_ / 2) {
    for (size_t j = i; j > 0; j--) std::swap(At(j), At(j - 1));
    At(0).~PackedList();
    head_ = (head_ + 1) & (cap_ - 1);
  } else {
    for (size_t j = i; j + 1 < len_; j++) std::swap(At(j), At(j + 1));
    At(len_ - 1).~PackedList();
  }
  len_--;
}

// --- node limits -------------------------------------------------------------

size_t QuickList::ByteLimit() const {
  if (fill_ < 0) return size_t{4096} << (-fill_ - 1);
  return kSafetyLimit;
}

bool QuickList::IsLarge(size_t len) const {
  return PackedList::kHeader + PackedList::EntrySize(len) > ByteLimit();
}

bool QuickList::AllowInsert(const PackedList& pl, size_t len) const {
  if (pl.bytes() + PackedList::EntrySize(len) > ByteLimit()) return false;
  if (fill_ >= 0 && pl.size() >= static_cast<uint32_t>(std::max<int>(fill_, 1))) return false;
  return true;
}

bool QuickList::AllowMerge(const PackedList& a, const PackedList& b) const {
  if (a.bytes() + b.bytes() - PackedList::kHeader > ByteLimit()) return false;
  if (fill_ >= 0 && a.size() + b.size() > static_cast<uint32_t>(std::max<int>(fill_, 1)))
    return false;
  return true;
}

bool QuickList::NodeIsPlain(size_t i) const {
  const PackedList& pl = At(i);
  return pl.size() == 1 && pl.bytes() > ByteLimit();
}

// --- ends --------------------------------------------------------------------

void QuickList::Push(Where where, std::string_view value) {
  count_++;
  bool head = where == Where::kHead;
  if (len_ > 0 && !IsLarge(value.size())) {
    PackedList& end = head ? At(0) : At(len_ - 1);
    if (AllowInsert(end, value.size())) {
      if (head)
        end.PushFront(value);
      else
        end.PushBack(value);
      return;
    }
  }
  if (head)
    RingPushFront(SingleNode(value));
  else
    RingPushBack(SingleNode(value));
}

std::string QuickList::Pop(Where where) {
  bool head = where == Where::kHead;
  size_t ni = head ? 0 : len_ - 1;
  PackedList& pl = At(ni);
  uint32_t off = head ? pl.First() : pl.Last();
  std::string value(pl.Get(off));
  pl.Erase(off);
  if (pl.empty()) RingErase(ni);
  count_--;
  return value;
}

// --- positions ---------------------------------------------------------------

void QuickList::SeekNode(size_t index, size_t* node, size_t* local) const {
  if (index < count_ / 2) {
    size_t ni = 0;
    while (index >= At(ni).size()) index -= At(ni++).size();
    *node = ni;
    *local = index;
    return;
  }
  size_t from_tail = count_ - 1 - index;
  size_t ni = len_ - 1;
  while (from_tail >= At(ni).size()) from_tail -= At(ni--).size();
  *node = ni;
  *local = At(ni).size() - 1 - from_tail;
}

bool QuickList::Seek(int64_t index, Pos* pos) const {
  int64_t n = static_cast<int64_t>(count_);
  if (index < 0) index += n;
  if (index < 0 || index >= n) return false;
  size_t ni, local;
  SeekNode(static_cast<size_t>(index), &ni, &local);
  pos->node = static_cast<uint32_t>(ni);
  pos->off = At(ni).Seek(static_cast<int64_t>(local));
  return true;
}

bool QuickList::Next(Pos* pos) const {
  const PackedList& pl = At(pos->node);
  uint32_t next = pl.Next(pos->off);
  if (next != pl.End()) {
    pos->off = next;
    return true;
  }
  if (pos->node + 1 >= len_) return false;
  pos->node++;
  pos->off = At(pos->node).First();
  return true;
}

bool QuickList::Prev(Pos* pos) const {
  const PackedList& pl = At(pos->node);
  if (pos->off != pl.First()) {
    pos->off = pl.Prev(pos->off);
    return true;
  }
  if (pos->node == 0) return false;
  pos->node--;
  pos->off = At(pos->node).Last();
  return true;
}

bool QuickList::Find(std::string_view value, Pos* pos) const {
  for (size_t i = 0; i < len_; i++) {
    const PackedList& pl = At(i);
    uint32_t off = pl.Find(value);
    if (off != pl.End()) {
      pos->node = static_cast<uint32_t>(i);
      pos->off = off;
      return true;
    }
  }
  return false;
}

// --- middle edits ------------------------------------------------------------

bool QuickList::Replace(int64_t index, std::string_view value) {
  Pos p;
  if (!Seek(index, &p)) return false;
  PackedList& pl = At(p.node);
  size_t old_entry = pl.Next(p.off) - p.off;
  size_t new_bytes = pl.bytes() - old_entry + PackedList::EntrySize(value.size());
  if (pl.size() == 1 || (!IsLarge(value.size()) && new_bytes <= ByteLimit())) {
    pl.Replace(p.off, value);
    if (pl.size() == 1) Compact(p.node > 0 ? p.node - 1 : 0, p.node + 1);
    return true;
  }
  // Too big for its node now: take it out and insert it where it was.
  pl.Erase(p.off);
  count_--;
  InsertAt(p.node, p.off, value);
  return true;
}

void QuickList::Insert(Pos pos, bool after, std::string_view value) {
  uint32_t off = after ? At(pos.node).Next(pos.off) : pos.off;
  InsertAt(pos.node, off, value);
}

void QuickList::InsertAt(size_t ni, uint32_t off, std::string_view value) {
  count_++;
  bool large = IsLarge(value.size());
  PackedList& pl = At(ni);
  if (!large && AllowInsert(pl, value.size())) {
    pl.Insert(off, value);
    return;
  }
  if (off == pl.End()) {
    if (!large && ni + 1 < len_ && AllowInsert(At(ni + 1), value.size())) {
      At(ni + 1).PushFront(value);
    } else {
      RingInsert(ni + 1, SingleNode(value));
    }
    return;
  }
  if (off == pl.First()) {
    if (!large && ni > 0 && AllowInsert(At(ni - 1), value.size())) {
      At(ni - 1).PushBack(value);
    } else {
      RingInsert(ni, SingleNode(value));
    }
    return;
  }
  // Inside a full node (or a large value): split the node at `off`.
  uint32_t left_count = 0;
  for (uint32_t o = pl.First(); o != off; o = pl.Next(o)) left_count++;
  PackedList right = pl.Clone();
  right.Erase(right.First(), left_count);
  pl.Erase(off, pl.size() - left_count);
  if (!large && AllowInsert(pl, value.size())) {
    pl.PushBack(value);
    RingInsert(ni + 1, std::move(right));
  } else if (!large && AllowInsert(right, value.size())) {
    right.PushFront(value);
    RingInsert(ni + 1, std::move(right));
  } else {
    RingInsert(ni + 1, SingleNode(value));
    RingInsert(ni + 2, std::move(right));
  }
  Compact(ni > 0 ? ni - 1 : 0, ni + 3);
}

bool QuickList::TryMerge(size_t i) {
  if (i + 1 >= len_) return false;
  PackedList& a = At(i);
  PackedList& b = At(i + 1);
  if (!AllowMerge(a, b)) return false;
  // Move the smaller node's entries into the larger one.
  if (a.size() >= b.size()) {
    for (uint32_t o = b.First(); o != b.End(); o = b.Next(o)) a.PushBack(b.Get(o));
    RingErase(i + 1);
  } else {
    for (uint32_t o = a.Last(); o != a.End();) {
      b.PushFront(a.Get(o));
      o = o == a.First() ? a.End() : a.Prev(o);
    }
    RingErase(i);
  }
  return true;
}

void QuickList::Compact(size_t from, size_t to) {
  size_t i = from;
  while (i < to && i + 1 < len_) {
    if (TryMerge(i)) {
      if (to > 0) to--;
      continue;
    }
    i++;
  }
}

size_t QuickList::DeleteRange(int64_t start, size_t count) {
  int64_t n = static_cast<int64_t>(count_);
  if (start < 0) start += n;
  if (start < 0) start = 0;
  if (start >= n || count == 0) return 0;
  size_t todo = std::min(count, static_cast<size_t>(n - start));
  size_t removed = todo;
  size_t ni, local;
  SeekNode(static_cast<size_t>(start), &ni, &local);
  size_t first = ni;
  while (todo > 0) {
    PackedList& pl = At(ni);
    size_t k = std::min(todo, static_cast<size_t>(pl.size()) - local);
    if (local == 0 && k == pl.size()) {
      RingErase(ni);
    } else {
      pl.Erase(pl.Seek(static_cast<int64_t>(local)), static_cast<uint32_t>(k));
      ni++;
    }
    todo -= k;
    local = 0;
  }
  count_ -= removed;
  Compact(first > 0 ? first - 1 : 0, first + 1);
  return removed;
}

size_t QuickList::Remove(std::string_view value, int64_t limit) {
  size_t removed = 0;
  size_t want = limit == 0  ? SIZE_MAX
                : limit > 0 ? static_cast<size_t>(limit)
                            : static_cast<size_t>(-(limit + 1)) + 1;
  if (len_ == 0) return 0;
  size_t lo = SIZE_MAX, hi = 0;  // range of touched nodes, for compaction
  if (limit >= 0) {
    for (size_t ni = 0; ni < len_ && removed < want;) {
      PackedList& pl = At(ni);
      uint32_t off = pl.First();
      while (off != pl.End() && removed < want) {
        if (pl.Get(off) == value) {
          off = pl.Erase(off);
          removed++;
          lo = std::min(lo, ni);
          hi = ni;
        } else {
          off = pl.Next(off);
        }
      }
      if (pl.empty())
        RingErase(ni);
      else
        ni++;
    }
  } else {
    for (size_t ni = len_; ni-- > 0 && removed < want;) {
      PackedList& pl = At(ni);
      uint32_t off = pl.End();
      while (off != pl.First() && removed < want) {
        uint32_t p = pl.Prev(off);
        if (pl.Get(p) == value) {
          pl.Erase(p);
          removed++;
          lo = std::min(lo, ni);
          hi = std::max(hi, ni);
        }
        off = p;
      }
      if (pl.empty()) RingErase(ni);
    }
  }
  count_ -= removed;
  if (removed > 0 && len_ > 0) {
    // Node indexes shifted by erased nodes; compacting a slightly wider window
    // is harmless, so clamp to the list.
    size_t from = lo > 0 ? lo - 1 : 0;
    Compact(std::min(from, static_cast<size_t>(len_ - 1)), std::min(hi + 1, size_t{len_}));
  }
  return removed;
}

bool QuickList::Valid() const {
  size_t total = 0;
  for (size_t i = 0; i < len_; i++) {
    const PackedList& pl = At(i);
    if (pl.empty()) return false;
    if (pl.size() > 1 && pl.bytes() > ByteLimit()) return false;
    if (fill_ > 0 && pl.size() > static_cast<uint32_t>(fill_) && !NodeIsPlain(i)) return false;
    total += pl.size();
  }
  return total == count_;
}

}  // namespace cairn::store

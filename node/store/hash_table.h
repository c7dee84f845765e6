// HashTable: an intrusive chained hash table with power-of-two bucket arrays,
// incremental rehashing and Redis's reverse-binary SCAN cursor, used for the
// keyspace, the expires index and every large container (hash, set, zset).
//
// DESIGN
// - Nodes are owned by the caller; the table only links them through
//   `Node::next`. Traits supply `static std::string_view Key(const Node*)`.
// - Two bucket arrays exist only while rehashing: every operation moves one
//   bucket from table 0 to table 1 (and the server cron moves more), so no
//   operation ever pays for a whole resize.
// - Scan(cursor) visits buckets in reverse-binary order: an element present for
//   the whole scan is returned at least once even if the table grows or shrinks
//   in between (it may be returned twice), the guarantee Redis's SCAN gives.
// - Not thread-safe: the event loop owns it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <utility>

#include "node/base/memory.h"

namespace cairn::store {

// Keyed SipHash of a byte string (seeded at startup from libsodium's RNG).
uint64_t HashBytes(std::string_view s);
// Initializes the hash seed; call once before any table is used.
void InitHashSeed();
// Random 64 bits for sampling (not for secrets).
uint64_t RandomU64();

template <typename Node, typename Traits>
class HashTable {
 public:
  HashTable() = default;
  ~HashTable() { FreeBuckets(); }
  HashTable(const HashTable&) = delete;
  HashTable& operator=(const HashTable&) = delete;
  HashTable(HashTable&& o) noexcept { *this = std::move(o); }
  HashTable& operator=(HashTable&& o) noexcept {
    if (this != &o) {
      FreeBuckets();
      for (int i = 0; i < 2; i++) {
        t_[i] = o.t_[i];
        o.t_[i] = Table{};
      }
      rehash_idx_ = o.rehash_idx_;
      o.rehash_idx_ = -1;
    }
    return *this;
  }

  size_t size() const { return t_[0].used + t_[1].used; }
  bool empty() const { return size() == 0; }
  size_t buckets() const { return t_[0].size + t_[1].size; }
  bool rehashing() const { return rehash_idx_ >= 0; }

  Node* Find(std::string_view key) {
    return size() == 0 ? nullptr : FindHashed(key, HashBytes(key));
  }

  // Starts fetching the bucket `key` falls in (bulk loads overlap that memory
  // access with parsing the value); returns the hash for FindHashed.
  uint64_t Prefetch(std::string_view key) const {
    uint64_t h = HashBytes(key);
    if (t_[0].size != 0) __builtin_prefetch(&t_[0].b[h & (t_[0].size - 1)]);
    return h;
  }

  // Find with the key's hash already computed.
  Node* FindHashed(std::string_view key, uint64_t h) {
    if (size() == 0) return nullptr;
    RehashStep();
    for (int i = 0; i < 2; i++) {
      if (t_[i].size == 0) continue;
      for (Node* n = t_[i].b[h & (t_[i].size - 1)]; n; n = n->next) {
        if (Traits::Key(n) == key) return n;
      }
      if (!rehashing()) break;
    }
    return nullptr;
  }

  // Sizes an empty table for `n` nodes at once (RDB RESIZEDB), so a bulk load
  // neither rehashes nor grows step by step. No effect on a non-empty table.
  void Reserve(size_t n) {
    if (size() != 0 || rehashing() || n <= t_[0].size) return;
    base::ZFree(t_[0].b);
    t_[0] = Table{};
    StartResize(n);
  }

  // Links a node whose key is not present yet.
  void Insert(Node* node) {
    RehashStep();
    ExpandIfNeeded();
    Table& t = rehashing() ? t_[1] : t_[0];
    uint64_t h = HashBytes(Traits::Key(node));
    Node*& head = t.b[h & (t.size - 1)];
    node->next = head;
    head = node;
    t.used++;
  }

  // Unlinks and returns the node with `key`, or nullptr. The caller frees it.
  Node* Remove(std::string_view key) {
    if (size() == 0) return nullptr;
    RehashStep();
    uint64_t h = HashBytes(key);
    for (int i = 0; i < 2; i++) {
      if (t_[i].size == 0) continue;
      Node** pp = &t_[i].b[h & (t_[i].size - 1)];
      while (*pp) {
        if (Traits::Key(*pp) == key) {
          Node* n = *pp;
          *pp = n->next;
          n->next = nullptr;
          t_[i].used--;
          return n;
        }
        pp = &(*pp)->next;
      }
      if (!rehashing()) break;
    }
    return nullptr;
  }

  // Replaces the linked node `old_node` by `new_node` (same key), e.g. after the
  // node was reallocated to a different size. No rehash step, no resize.
  void Relink(Node* old_node, Node* new_node) {
    uint64_t h = HashBytes(Traits::Key(new_node));
    for (int i = 0; i < 2; i++) {
      if (t_[i].size == 0) continue;
      Node** pp = &t_[i].b[h & (t_[i].size - 1)];
      while (*pp) {
        if (*pp == old_node) {
          new_node->next = old_node->next;
          *pp = new_node;
          return;
        }
        pp = &(*pp)->next;
      }
    }
  }

  // Calls fn(Node*) for each node in the buckets at `cursor` and returns the next
  // cursor (0 when done). fn must not insert or remove.
  template <typename Fn>
  size_t Scan(size_t cursor, Fn&& fn) {
    if (size() == 0) return 0;
    if (!rehashing()) {
      const Table& t = t_[0];
      size_t m = t.size - 1;
      for (Node* n = t.b[cursor & m]; n;) {
        Node* next = n->next;
        fn(n);
        n = next;
      }
      return NextCursor(cursor, m);
    }
    // Visit the small table's bucket, then every bucket of the big table that
    // expands from it.
    const Table* small = &t_[0];
    const Table* big = &t_[1];
    if (small->size > big->size) std::swap(small, big);
    size_t m0 = small->size - 1, m1 = big->size - 1;
    for (Node* n = small->b[cursor & m0]; n;) {
      Node* next = n->next;
      fn(n);
      n = next;
    }
    do {
      for (Node* n = big->b[cursor & m1]; n;) {
        Node* next = n->next;
        fn(n);
        n = next;
      }
      cursor = NextCursor(cursor, m1);
    } while (cursor & (m0 ^ m1));
    return cursor;
  }

  // Visits every node; fn may not modify the table.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (int i = 0; i < 2; i++) {
      for (size_t j = 0; j < t_[i].size; j++) {
        for (Node* n = t_[i].b[j]; n; n = n->next) fn(n);
      }
    }
  }

  // A random node (nullptr if empty), roughly uniform as Redis's dictGetRandomKey.
  Node* Random() {
    if (size() == 0) return nullptr;
    RehashStep();
    Node* head = nullptr;
    while (head == nullptr) {
      uint64_t r = RandomU64();
      if (rehashing()) {
        // Buckets below rehash_idx_ in table 0 are empty.
        size_t total = t_[0].size + t_[1].size;
        size_t span = total - static_cast<size_t>(rehash_idx_);
        size_t i = static_cast<size_t>(rehash_idx_) + r % span;
        head = i >= t_[0].size ? t_[1].b[i - t_[0].size] : t_[0].b[i];
      } else {
        head = t_[0].b[r & (t_[0].size - 1)];
      }
    }
    size_t len = 0;
    for (Node* n = head; n; n = n->next) len++;
    size_t pick = RandomU64() % len;
    Node* n = head;
    while (pick--) n = n->next;
    return n;
  }

  // Moves up to `n` buckets to the new table; returns true if more remain.
  bool Rehash(int n) {
    if (!rehashing()) return false;
    int empty_visits = n * 10;
    while (n-- && t_[0].used != 0) {
      while (t_[0].b[rehash_idx_] == nullptr) {
        rehash_idx_++;
        if (--empty_visits == 0) return true;
      }
      Node* node = t_[0].b[rehash_idx_];
      while (node) {
        Node* next = node->next;
        uint64_t h = HashBytes(Traits::Key(node));
        Node*& head = t_[1].b[h & (t_[1].size - 1)];
        node->next = head;
        head = node;
        t_[0].used--;
        t_[1].used++;
        node = next;
      }
      t_[0].b[rehash_idx_] = nullptr;
      rehash_idx_++;
    }
    if (t_[0].used == 0) {
      base::ZFree(t_[0].b);
      t_[0] = t_[1];
      t_[1] = Table{};
      rehash_idx_ = -1;
      return false;
    }
    return true;
  }

  // Shrinks when the fill drops under 10%, as Redis's htNeedsResize.
  void ShrinkIfSparse() {
    if (rehashing() || t_[0].size <= kInitialSize) return;
    if (t_[0].used * 10 < t_[0].size) StartResize(t_[0].used);
  }

  // Bytes of bucket arrays (nodes are the caller's).
  size_t BucketBytes() const { return (t_[0].size + t_[1].size) * sizeof(Node*); }

  // Unlinks every node, calling free_fn(Node*) on each.
  template <typename Fn>
  void Clear(Fn&& free_fn) {
    for (int i = 0; i < 2; i++) {
      for (size_t j = 0; j < t_[i].size; j++) {
        Node* n = t_[i].b[j];
        while (n) {
          Node* next = n->next;
          free_fn(n);
          n = next;
        }
      }
    }
    FreeBuckets();
  }

  // Cursor arithmetic shared with Scan: increment the reversed masked bits.
  static size_t NextCursor(size_t v, size_t mask) {
    v |= ~mask;
    v = Reverse(v);
    v++;
    return Reverse(v);
  }

 private:
  static constexpr size_t kInitialSize = 4;
  struct Table {
    Node** b = nullptr;
    size_t size = 0;
    size_t used = 0;
  };

  static size_t Reverse(size_t v) {
    size_t s = sizeof(v) * 8, mask = ~size_t{0};
    while ((s >>= 1) > 0) {
      mask ^= (mask << s);
      v = ((v >> s) & mask) | ((v << s) & ~mask);
    }
    return v;
  }

  void RehashStep() {
    if (rehashing()) Rehash(1);
  }

  void ExpandIfNeeded() {
    if (rehashing()) return;
    if (t_[0].size == 0) {
      StartResize(kInitialSize);
      return;
    }
    if (t_[0].used >= t_[0].size) StartResize(t_[0].used + 1);
  }

  void StartResize(size_t min_size) {
    size_t sz = kInitialSize;
    while (sz < min_size) sz <<= 1;
    if (sz == t_[0].size) return;
    Table t;
    t.size = sz;
    t.b = static_cast<Node**>(base::ZMalloc(sz * sizeof(Node*)));
    std::memset(t.b, 0, sz * sizeof(Node*));
    if (t_[0].b == nullptr) {
      t_[0] = t;
      return;
    }
    t_[1] = t;
    rehash_idx_ = 0;
  }

  void FreeBuckets() {
    for (auto& t : t_) {
      base::ZFree(t.b);
      t = Table{};
    }
    rehash_idx_ = -1;
  }

  Table t_[2];
  ptrdiff_t rehash_idx_ = -1;
};

}  // namespace cairn::store

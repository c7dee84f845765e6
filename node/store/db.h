// Db: one of the 16 numbered databases — the key table, the expires index, lazy
// and active expiry, and the typed lookups command handlers use.
//
// DESIGN
// - Owned and used only by the event-loop thread.
// - Keys are Entry blocks linked into `keys_`; a key with a TTL also has an
//   ExpireNode in `expires_` (keyed by the same bytes) and Entry::kHasExpire set,
//   so keys without TTL never touch the expires index.
// - Lookups expire lazily: a key past its TTL is deleted when looked up (unless
//   this node is a replica, which hides it but waits for the master's DEL, as
//   Redis does). ActiveExpireCycle samples the expires index, Redis's algorithm.
// - Listeners hear about deletions by expiry so they can propagate DEL and
//   wake WATCHers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>

#include "node/store/entry.h"
#include "node/store/hash_table.h"

namespace cairn::store {

struct ExpireNode {
  ExpireNode* next;
  int64_t when_ms;
  uint32_t key_len;
  char* key_data() { return reinterpret_cast<char*>(this + 1); }
  const char* key_data() const { return reinterpret_cast<const char*>(this + 1); }
  std::string_view key() const { return std::string_view(key_data(), key_len); }
};
struct ExpireTraits {
  static std::string_view Key(const ExpireNode* n) { return n->key(); }
};

// Process-wide keyspace counters reported by INFO stats.
struct KeyspaceStats {
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t expired = 0;
  uint64_t evicted = 0;
  uint64_t expired_stale_perc_x100 = 0;
  uint64_t expire_cycle_time_used_us = 0;
};
KeyspaceStats& Stats();

// Set by the server: how expiry behaves on this node and who hears of it.
struct KeyspaceHooks {
  // Replicas do not delete expired keys themselves (the master's DEL does).
  bool is_replica = false;
  // While the replica applies its master's stream, TTLs are not enforced.
  bool applying_replication = false;
  // Called after a key is deleted because it expired (db index, key).
  std::function<void(int, std::string_view)> on_expired;
};
KeyspaceHooks& Hooks();

// Seconds LRU clock (low 32 bits of unix time).
uint32_t LruClock();

class Db {
 public:
  explicit Db(int index);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  int index() const { return index_; }
  size_t size() const { return keys_.size(); }
  size_t expires_size() const { return expires_.size(); }
  // Sum of avg TTL bookkeeping for INFO keyspace avg_ttl.
  int64_t avg_ttl_ms() const { return avg_ttl_ms_; }

  // Finds a live key (expiring it lazily if due) and touches its LRU clock.
  Entry* Lookup(std::string_view key);
  // As Lookup, without touching LRU or counting hits (EXISTS-style peeks).
  Entry* LookupNoTouch(std::string_view key);
  // For reads: counts keyspace hits/misses as Redis's lookupKeyRead.
  Entry* LookupRead(std::string_view key);
  // Raw find ignoring expiry (for the expiry machinery and DEBUG).
  Entry* FindRaw(std::string_view key) { return keys_.Find(key); }
  // Bulk loads: start fetching the key's bucket now, look it up later.
  uint64_t PrefetchKey(std::string_view key) const { return keys_.Prefetch(key); }
  Entry* FindRaw(std::string_view key, uint64_t hash) { return keys_.FindHashed(key, hash); }

  // Creates key `key` (which must not exist) holding a container.
  Entry* AddContainer(std::string_view key, ObjType type, Enc enc, void* ptr);
  // A string key known to be absent (bulk loads): inserted without a lookup.
  Entry* AddString(std::string_view key, std::string_view value);
  // Sizes the empty tables for a bulk load (RDB RESIZEDB).
  void Reserve(size_t keys, size_t expires) {
    keys_.Reserve(keys);
    expires_.Reserve(expires);
  }
  // Sets `key` to a string value, creating or overwriting (any type). The TTL is
  // removed unless keep_ttl. Chooses int/inline/raw encoding as Redis does.
  // allow_int=false keeps integer-looking text as a string (INCRBYFLOAT results
  // are strings in Redis, never "int" encoded).
  Entry* SetString(std::string_view key, std::string_view value, bool keep_ttl = false,
                   bool allow_int = true);
  // Replaces the string value of an existing string entry, keeping the TTL;
  // returns the (possibly moved) entry.
  Entry* ReplaceString(Entry* e, std::string_view value, bool allow_int = true);
  Entry* ReplaceInt(Entry* e, int64_t v);
  // Points an existing entry at a new container (encoding conversion); the old
  // container is not freed.
  void SetContainer(Entry* e, Enc enc, void* ptr) {
    e->enc = enc;
    e->v.ptr = ptr;
  }
  // Makes a raw (StrBuf) string of an entry, for APPEND/SETRANGE growth.
  StrBuf* MakeRaw(Entry* e);

  // Removes a key with its value and TTL; false if absent.
  bool Delete(std::string_view key);
  // Moves an entry's key table link to `dst` under the same key (MOVE), or
  // renames within this db (RENAME): the entry keeps its value; TTL is carried.
  bool Rename(std::string_view from, std::string_view to);
  Entry* MoveTo(std::string_view key, Db* dst);

  // TTL in unix ms, or -1.
  int64_t GetExpire(const Entry* e) const;
  int64_t GetExpire(std::string_view key);
  void SetExpire(Entry* e, int64_t when_ms);
  bool RemoveExpire(Entry* e);
  // True if the key's TTL has passed (honours replica mode).
  bool IsExpired(const Entry* e) const;

  Entry* RandomKey();
  // Scans the key table; fn(Entry*) for each. Returns the next cursor.
  size_t Scan(size_t cursor, const std::function<void(Entry*)>& fn);
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    keys_.ForEach(fn);
  }

  // Deletes every key; returns how many there were.
  size_t Clear();
  // Exchanges contents with another db (SWAPDB); indexes stay.
  void SwapContents(Db& other);

  // One pass of active expiry over at most `max_checks` keys with a TTL;
  // returns the number expired.
  size_t ActiveExpire(size_t max_checks);
  // Incremental rehash work for the cron: returns true if more remains.
  bool RehashStep(int buckets);
  void ShrinkIfSparse();

  // Bytes used by this db's own structures (entries + tables), approximate.
  size_t OverheadBytes() const;

  // Frees an entry block and its value (does not unlink).
  static void FreeEntry(Entry* e);
  // Allocates a detached entry (not linked) with the given key and value copy.
  static Entry* NewEntry(std::string_view key, ObjType type, Enc enc, std::string_view inline_val);
  // A string entry in Redis's encoding for `value` (int, inline or raw).
  static Entry* NewStringEntry(std::string_view key, std::string_view value, bool allow_int);
  // Deep copy of an entry's value under a new key (COPY).
  static Entry* CloneEntry(const Entry* e, std::string_view new_key);
  // Length of a value (strings: byte length).
  static size_t ValueLength(const Entry* e);
  // The string value (int encoded strings are formatted into `scratch`).
  static std::string_view StringValue(const Entry* e, std::string* scratch);

 private:
  void ExpireKey(Entry* e);
  void UnlinkAndFree(Entry* e);

  int index_;
  HashTable<Entry, EntryTraits> keys_;
  HashTable<ExpireNode, ExpireTraits> expires_;
  size_t expire_cursor_ = 0;
  int64_t avg_ttl_ms_ = 0;
};

}  // namespace cairn::store

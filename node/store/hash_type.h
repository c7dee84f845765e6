// Hash values: the two containers behind OBJ hash and the operations commands
// and the keyspace use on them.
//
// Small hashes are one PackedList of alternating field,value entries
// (Enc::kPacked, reported "listpack") while they have at most
// hash-max-listpack-entries fields and no field or value longer than
// hash-max-listpack-value bytes. Past either limit the hash converts once, for
// good, to a HashMap (Enc::kTable, "hashtable"): a HashTable of HashNodes, each
// one allocation holding the chain link, both lengths and both byte strings.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "node/store/entry.h"
#include "node/store/hash_table.h"
#include "node/store/packed_list.h"

namespace cairn::store {

struct HashNode {
  HashNode* next;
  uint32_t field_len;
  uint32_t value_len;

  std::string_view field() const {
    return std::string_view(reinterpret_cast<const char*>(this + 1), field_len);
  }
  std::string_view value() const {
    return std::string_view(reinterpret_cast<const char*>(this + 1) + field_len, value_len);
  }
  static HashNode* Create(std::string_view field, std::string_view value);
  static void Free(HashNode* n);
};
struct HashNodeTraits {
  static std::string_view Key(const HashNode* n) { return n->field(); }
};
using HashMap = HashTable<HashNode, HashNodeTraits>;

// Conversion thresholds (config hash-max-listpack-entries / -value).
struct HashLimits {
  size_t max_entries = 128;
  size_t max_value = 64;
};

// A new, empty packed hash container (for AddContainer(..., Enc::kPacked, ...)).
void* HashCreate();

// Reads. The returned views stay valid until the hash is next modified.
bool HashGet(const Entry* e, std::string_view field, std::string_view* value);
bool HashExists(const Entry* e, std::string_view field);
size_t HashSize(const Entry* e);

// Converts a packed hash to the table encoding if any of `args` is longer than
// the value limit (Redis checks the arguments of a write before applying it).
void HashConvertForArgs(Entry* e, const std::string_view* args, size_t n, const HashLimits& lim);
// Sets field to value; true if the field is new. Converts as needed.
bool HashSet(Entry* e, std::string_view field, std::string_view value, const HashLimits& lim);
// Removes a field; true if it was there. The caller deletes an emptied key.
bool HashDelete(Entry* e, std::string_view field);
void HashConvertToTable(Entry* e);

// A random field/value pair of a non-empty hash.
void HashRandom(const Entry* e, std::string_view* field, std::string_view* value);
// Cursor scan: packed hashes yield everything and return 0.
template <typename Fn>
size_t HashScan(Entry* e, size_t cursor, Fn&& fn);

// Calls fn(field, value) for every pair, in storage order.
template <typename Fn>
void HashForEach(Enc enc, const void* ptr, Fn&& fn) {
  if (enc == Enc::kPacked) {
    const auto* pl = static_cast<const PackedList*>(ptr);
    for (uint32_t off = pl->First(); off < pl->End();) {
      uint32_t voff = pl->Next(off);
      fn(pl->Get(off), pl->Get(voff));
      off = pl->Next(voff);
    }
  } else {
    static_cast<const HashMap*>(ptr)->ForEach(
        [&](const HashNode* n) { fn(n->field(), n->value()); });
  }
}
template <typename Fn>
void HashForEach(const Entry* e, Fn&& fn) {
  HashForEach(e->enc, e->v.ptr, fn);
}

template <typename Fn>
size_t HashScan(Entry* e, size_t cursor, Fn&& fn) {
  if (e->enc == Enc::kPacked) {
    HashForEach(e, fn);
    return 0;
  }
  return e->as<HashMap>()->Scan(cursor, [&](HashNode* n) { fn(n->field(), n->value()); });
}

// Keyspace hooks (value_ops.h).
void HashFree(Enc e, void* ptr);
void* HashClone(Enc e, const void* ptr);
size_t HashMemory(Enc e, const void* ptr);
size_t HashLength(Enc e, const void* ptr);
// Mixes the value into a Redis-compatible digest (see digest.h).
void HashDigest(Enc e, const void* ptr, unsigned char digest[20]);

}  // namespace cairn::store

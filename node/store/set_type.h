// Set values: the three containers behind OBJ set and the operations commands
// and the keyspace use on them.
//
// - IntSet (Enc::kIntSet, "intset") while every member is an integer (Redis's
//   string2ll rules) and there are at most set-max-intset-entries of them.
// - PackedList of members (Enc::kPacked, "listpack") for small sets with
//   non-integer members: at most set-max-listpack-entries members of at most
//   set-max-listpack-value bytes. NOTE: this is Redis 7.2's encoding; Redis 7.0
//   would use a hashtable here, so for such sets our OBJECT ENCODING says
//   "listpack" where a Redis 7.0 server says "hashtable". Replies are unaffected.
// - SetTable (Enc::kTable, "hashtable"): a HashTable of SetNodes, one allocation
//   per member.
// Conversions only go up (intset -> listpack -> hashtable, or intset ->
// hashtable when the listpack limits would not hold), as in Redis 7.2.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "node/base/number.h"
#include "node/store/entry.h"
#include "node/store/hash_table.h"
#include "node/store/intset.h"
#include "node/store/packed_list.h"

namespace cairn::store {

struct SetNode {
  SetNode* next;
  uint32_t len;
  std::string_view member() const {
    return std::string_view(reinterpret_cast<const char*>(this) + sizeof(SetNode*) + 4, len);
  }
  static SetNode* Create(std::string_view member);
  static void Free(SetNode* n);
};
struct SetNodeTraits {
  static std::string_view Key(const SetNode* n) { return n->member(); }
};
using SetTable = HashTable<SetNode, SetNodeTraits>;

// Conversion thresholds (config set-max-intset-entries, set-max-listpack-*).
struct SetLimits {
  size_t max_intset_entries = 512;
  size_t max_packed_entries = 128;
  size_t max_packed_value = 64;
};

// A set value that is not (yet) in the keyspace, e.g. the result of SUNIONSTORE;
// an Entry's (enc, v.ptr) pair has the same meaning.
struct SetObj {
  Enc enc = Enc::kIntSet;
  void* ptr = nullptr;
};

// An empty container suited to a first member (intset for integers, as Redis's
// setTypeCreate), written to *enc / returned.
void* SetCreateFor(std::string_view first_member, Enc* enc);

// Core operations on (enc, ptr); they convert in place.
bool SetAdd(Enc& enc, void*& ptr, std::string_view member, const SetLimits& lim);
bool SetRemove(Enc& enc, void*& ptr, std::string_view member);
bool SetIsMember(Enc enc, const void* ptr, std::string_view member);
void SetConvertToTable(Enc& enc, void*& ptr);

inline bool SetAdd(Entry* e, std::string_view m, const SetLimits& lim) {
  return SetAdd(e->enc, e->v.ptr, m, lim);
}
inline bool SetRemove(Entry* e, std::string_view m) { return SetRemove(e->enc, e->v.ptr, m); }
inline bool SetIsMember(const Entry* e, std::string_view m) {
  return SetIsMember(e->enc, e->v.ptr, m);
}
size_t SetSize(const Entry* e);

// A random member of a non-empty set (copied: intset members are formatted).
std::string SetRandom(const Entry* e);

// Calls fn(std::string_view member) for every member; intset members are
// formatted into a scratch buffer valid only during the call.
template <typename Fn>
void SetForEach(Enc enc, const void* ptr, Fn&& fn) {
  if (enc == Enc::kIntSet) {
    const auto* is = static_cast<const IntSet*>(ptr);
    char buf[24];
    for (uint32_t i = 0; i < is->size(); i++) {
      size_t n = base::FormatInt64(buf, is->At(i));
      fn(std::string_view(buf, n));
    }
  } else if (enc == Enc::kPacked) {
    const auto* pl = static_cast<const PackedList*>(ptr);
    for (uint32_t off = pl->First(); off < pl->End(); off = pl->Next(off)) fn(pl->Get(off));
  } else {
    static_cast<const SetTable*>(ptr)->ForEach([&](const SetNode* n) { fn(n->member()); });
  }
}
template <typename Fn>
void SetForEach(const Entry* e, Fn&& fn) {
  SetForEach(e->enc, e->v.ptr, fn);
}

// Cursor scan: intset and packed sets yield everything and return 0.
template <typename Fn>
size_t SetScan(Entry* e, size_t cursor, Fn&& fn) {
  if (e->enc != Enc::kTable) {
    SetForEach(e, fn);
    return 0;
  }
  return e->as<SetTable>()->Scan(cursor, [&](SetNode* n) { fn(n->member()); });
}

// Keyspace hooks (value_ops.h).
void SetFree(Enc e, void* ptr);
void* SetClone(Enc e, const void* ptr);
size_t SetMemory(Enc e, const void* ptr);
size_t SetLength(Enc e, const void* ptr);
// Mixes the value into a Redis-compatible digest (see digest.h).
void SetDigest(Enc e, const void* ptr, unsigned char digest[20]);

}  // namespace cairn::store

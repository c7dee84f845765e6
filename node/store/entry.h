// Entry: one key of the keyspace in a single allocation — chain link, type and
// encoding tags, LRU clock, the key bytes and, for short strings, the value bytes
// too (Redis's embstr idea, taken further: key and value share one block).
//
// Layout: [Entry header 32 bytes][key bytes][inline value bytes]
// Values by (type, encoding):
//   kString/kInt     v.ival holds the integer
//   kString/kInline  value bytes follow the key; inline_len is their length
//   kString/kRaw     v.ptr -> StrBuf (growable buffer)
//   aggregates       v.ptr -> the container named by the encoding
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace cairn::store {

enum class ObjType : uint8_t {
  kString = 0,  // binary-safe string (Redis OBJ_STRING)
  kList = 1,    // QuickList
  kSet = 2,     // IntSet, PackedList or SetTable
  kZSet = 3,    // PackedList (member,score pairs) or ZSetIndex
  kHash = 4,    // PackedList (field,value pairs) or HashMapTable
};

enum class Enc : uint8_t {
  kInt = 0,        // string holding a 64-bit integer ("int")
  kInline = 1,     // string bytes inside the entry ("embstr")
  kRaw = 2,        // string in a separate StrBuf ("raw")
  kQuickList = 3,  // list ("quicklist")
  kPacked = 4,     // small hash/set/zset in one PackedList ("listpack")
  kIntSet = 5,     // set of integers ("intset")
  kTable = 6,      // hash/set in a HashTable ("hashtable")
  kSkipList = 7,   // zset as skiplist + table ("skiplist")
};

// Name OBJECT ENCODING reports.
const char* EncodingName(ObjType t, Enc e, size_t inline_len);
const char* TypeName(ObjType t);

// Strings longer than this live in a StrBuf (Redis's embstr limit is 44).
inline constexpr size_t kInlineStringMax = 44;

struct Entry {
  Entry* next;
  uint32_t key_len;
  ObjType type;
  Enc enc;
  uint8_t flags;  // kHasExpire
  uint8_t reserved;
  uint32_t lru;         // LRU clock in seconds (low 32 bits), for IDLETIME/eviction
  uint32_t inline_len;  // bytes of inline string value
  union {
    int64_t ival;
    void* ptr;
  } v;

  static constexpr uint8_t kHasExpire = 1;

  char* key_data() { return reinterpret_cast<char*>(this + 1); }
  const char* key_data() const { return reinterpret_cast<const char*>(this + 1); }
  std::string_view key() const { return std::string_view(key_data(), key_len); }
  std::string_view inline_value() const {
    return std::string_view(key_data() + key_len, inline_len);
  }
  bool has_expire() const { return flags & kHasExpire; }
  template <typename T>
  T* as() const {
    return static_cast<T*>(v.ptr);
  }
};
static_assert(sizeof(Entry) == 32, "Entry header layout");

struct EntryTraits {
  static std::string_view Key(const Entry* e) { return e->key(); }
};

// A growable string buffer for strings that do not fit inline or are appended
// to (Redis's raw sds).
struct StrBuf {
  uint32_t len;
  uint32_t cap;
  char* data() { return reinterpret_cast<char*>(this + 1); }
  const char* data() const { return reinterpret_cast<const char*>(this + 1); }
  std::string_view view() const { return std::string_view(data(), len); }

  static StrBuf* Create(std::string_view s, size_t extra = 0);
  // Ensures capacity for `need` bytes (greedy growth, as sdsMakeRoomFor); may move.
  static StrBuf* Reserve(StrBuf* b, size_t need);
  static void Free(StrBuf* b);
};

}  // namespace cairn::store

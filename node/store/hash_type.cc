// Hash values: packed and table encodings, conversion between them, and the
// keyspace hooks (free, clone, memory, length, Redis 7.0 digest).
#include "node/store/hash_type.h"

#include <cstring>

#include "node/base/memory.h"
#include "node/store/digest.h"

namespace cairn::store {
namespace {

// Offset of `field`'s entry in a packed hash (fields sit at even positions), or End().
uint32_t PackedFind(const PackedList* pl, std::string_view field) {
  return pl->Find(field, 1, pl->First());
}

void FreeTable(HashMap* m) {
  m->Clear([](HashNode* n) { HashNode::Free(n); });
  delete m;
}

}  // namespace

HashNode* HashNode::Create(std::string_view field, std::string_view value) {
  auto* n = static_cast<HashNode*>(base::ZMalloc(sizeof(HashNode) + field.size() + value.size()));
  n->next = nullptr;
  n->field_len = static_cast<uint32_t>(field.size());
  n->value_len = static_cast<uint32_t>(value.size());
  char* p = reinterpret_cast<char*>(n + 1);
  if (!field.empty()) std::memcpy(p, field.data(), field.size());
  if (!value.empty()) std::memcpy(p + field.size(), value.data(), value.size());
  return n;
}

void HashNode::Free(HashNode* n) { base::ZFree(n); }

void* HashCreate() { return new PackedList(); }

bool HashGet(const Entry* e, std::string_view field, std::string_view* value) {
  if (e->enc == Enc::kPacked) {
    const auto* pl = e->as<PackedList>();
    uint32_t off = PackedFind(pl, field);
    if (off >= pl->End()) return false;
    *value = pl->Get(pl->Next(off));
    return true;
  }
  HashNode* n = e->as<HashMap>()->Find(field);
  if (n == nullptr) return false;
  *value = n->value();
  return true;
}

bool HashExists(const Entry* e, std::string_view field) {
  std::string_view v;
  return HashGet(e, field, &v);
}

size_t HashSize(const Entry* e) { return HashLength(e->enc, e->v.ptr); }

void HashConvertToTable(Entry* e) {
  if (e->enc != Enc::kPacked) return;
  auto* pl = e->as<PackedList>();
  auto* m = new HashMap();
  HashForEach(e,
              [&](std::string_view f, std::string_view v) { m->Insert(HashNode::Create(f, v)); });
  delete pl;
  e->enc = Enc::kTable;
  e->v.ptr = m;
}

void HashConvertForArgs(Entry* e, const std::string_view* args, size_t n, const HashLimits& lim) {
  if (e->enc != Enc::kPacked) return;
  for (size_t i = 0; i < n; i++) {
    if (args[i].size() > lim.max_value) {
      HashConvertToTable(e);
      return;
    }
  }
}

bool HashSet(Entry* e, std::string_view field, std::string_view value, const HashLimits& lim) {
  if (e->enc == Enc::kPacked && (field.size() > lim.max_value || value.size() > lim.max_value)) {
    HashConvertToTable(e);
  }
  if (e->enc == Enc::kPacked) {
    auto* pl = e->as<PackedList>();
    uint32_t off = PackedFind(pl, field);
    if (off < pl->End()) {
      pl->Replace(pl->Next(off), value);
      return false;
    }
    pl->PushBack(field);
    pl->PushBack(value);
    if (pl->size() / 2 > lim.max_entries) HashConvertToTable(e);
    return true;
  }
  auto* m = e->as<HashMap>();
  HashNode* old = m->Find(field);
  if (old == nullptr) {
    m->Insert(HashNode::Create(field, value));
    return true;
  }
  if (old->value_len == value.size()) {
    if (!value.empty())
      std::memcpy(reinterpret_cast<char*>(old + 1) + old->field_len, value.data(), value.size());
    return false;
  }
  HashNode* fresh = HashNode::Create(field, value);
  m->Relink(old, fresh);
  HashNode::Free(old);
  return false;
}

bool HashDelete(Entry* e, std::string_view field) {
  if (e->enc == Enc::kPacked) {
    auto* pl = e->as<PackedList>();
    uint32_t off = PackedFind(pl, field);
    if (off >= pl->End()) return false;
    pl->Erase(off, 2);
    return true;
  }
  auto* m = e->as<HashMap>();
  HashNode* n = m->Remove(field);
  if (n == nullptr) return false;
  HashNode::Free(n);
  m->ShrinkIfSparse();
  return true;
}

void HashRandom(const Entry* e, std::string_view* field, std::string_view* value) {
  if (e->enc == Enc::kPacked) {
    const auto* pl = e->as<PackedList>();
    uint32_t pairs = pl->size() / 2;
    uint32_t off = pl->Seek(static_cast<int64_t>(RandomU64() % pairs) * 2);
    *field = pl->Get(off);
    *value = pl->Get(pl->Next(off));
    return;
  }
  HashNode* n = e->as<HashMap>()->Random();
  *field = n->field();
  *value = n->value();
}

void HashFree(Enc e, void* ptr) {
  if (ptr == nullptr) return;
  if (e == Enc::kPacked)
    delete static_cast<PackedList*>(ptr);
  else
    FreeTable(static_cast<HashMap*>(ptr));
}

void* HashClone(Enc e, const void* ptr) {
  if (e == Enc::kPacked) return new PackedList(static_cast<const PackedList*>(ptr)->Clone());
  auto* m = new HashMap();
  static_cast<const HashMap*>(ptr)->ForEach(
      [&](const HashNode* n) { m->Insert(HashNode::Create(n->field(), n->value())); });
  return m;
}

size_t HashMemory(Enc e, const void* ptr) {
  if (e == Enc::kPacked) {
    return sizeof(PackedList) + static_cast<const PackedList*>(ptr)->AllocatedBytes();
  }
  const auto* m = static_cast<const HashMap*>(ptr);
  size_t total = sizeof(HashMap) + m->BucketBytes();
  m->ForEach([&](const HashNode* n) { total += base::ZUsableSize(const_cast<HashNode*>(n)); });
  return total;
}

size_t HashLength(Enc e, const void* ptr) {
  if (e == Enc::kPacked) return static_cast<const PackedList*>(ptr)->size() / 2;
  return static_cast<const HashMap*>(ptr)->size();
}

void HashDigest(Enc e, const void* ptr, unsigned char digest[20]) {
  // Redis: per pair, SHA1-mix field then value into a fresh digest and xor it in.
  HashForEach(e, ptr, [&](std::string_view f, std::string_view v) {
    unsigned char pair[20] = {0};
    MixDigest(pair, f);
    MixDigest(pair, v);
    XorDigest(digest, std::string_view(reinterpret_cast<const char*>(pair), 20));
  });
}

}  // namespace cairn::store

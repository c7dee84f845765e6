// Set values: intset, packed and table encodings, the conversions between them,
// and the keyspace hooks (free, clone, memory, length, Redis 7.0 digest).
#include "node/store/set_type.h"

#include <algorithm>
#include <cstring>

#include "node/base/memory.h"
#include "node/store/digest.h"

namespace cairn::store {
namespace {

constexpr size_t kNodeHeader = sizeof(SetNode*) + sizeof(uint32_t);

size_t Digits(int64_t v) {
  char buf[24];
  return base::FormatInt64(buf, v);
}

void FreeTable(SetTable* t) {
  t->Clear([](SetNode* n) { SetNode::Free(n); });
  delete t;
}

void IntSetToPacked(Enc& enc, void*& ptr) {
  auto* is = static_cast<IntSet*>(ptr);
  auto* pl = new PackedList();
  SetForEach(enc, ptr, [&](std::string_view m) { pl->PushBack(m); });
  IntSet::Free(is);
  enc = Enc::kPacked;
  ptr = pl;
}

}  // namespace

SetNode* SetNode::Create(std::string_view member) {
  auto* n = static_cast<SetNode*>(base::ZMalloc(kNodeHeader + member.size()));
  n->next = nullptr;
  n->len = static_cast<uint32_t>(member.size());
  if (!member.empty()) std::memcpy(reinterpret_cast<char*>(n) + kNodeHeader, member.data(), n->len);
  return n;
}

void SetNode::Free(SetNode* n) { base::ZFree(n); }

void* SetCreateFor(std::string_view first_member, Enc* enc) {
  int64_t v;
  if (base::ParseInt64(first_member, &v)) {
    *enc = Enc::kIntSet;
    return IntSet::Create();
  }
  *enc = Enc::kPacked;
  return new PackedList();
}

void SetConvertToTable(Enc& enc, void*& ptr) {
  if (enc == Enc::kTable) return;
  auto* t = new SetTable();
  SetForEach(enc, ptr, [&](std::string_view m) { t->Insert(SetNode::Create(m)); });
  SetFree(enc, ptr);
  enc = Enc::kTable;
  ptr = t;
}

bool SetAdd(Enc& enc, void*& ptr, std::string_view member, const SetLimits& lim) {
  if (enc == Enc::kIntSet) {
    auto* is = static_cast<IntSet*>(ptr);
    int64_t v;
    if (base::ParseInt64(member, &v)) {
      bool added;
      is = IntSet::Add(is, v, &added);
      ptr = is;
      if (added && is->size() > lim.max_intset_entries) SetConvertToTable(enc, ptr);
      return added;
    }
    // A non-integer arrives: go to the packed encoding only if the result
    // stays within its limits (the widest integer is at either end).
    size_t widest = is->size() ? std::max(Digits(is->At(0)), Digits(is->At(is->size() - 1))) : 0;
    if (is->size() < lim.max_packed_entries && member.size() <= lim.max_packed_value &&
        widest <= lim.max_packed_value) {
      IntSetToPacked(enc, ptr);
    } else {
      SetConvertToTable(enc, ptr);
    }
  }
  if (enc == Enc::kPacked) {
    auto* pl = static_cast<PackedList*>(ptr);
    if (pl->Find(member) < pl->End()) return false;
    if (pl->size() < lim.max_packed_entries && member.size() <= lim.max_packed_value) {
      pl->PushBack(member);
      return true;
    }
    SetConvertToTable(enc, ptr);
  }
  auto* t = static_cast<SetTable*>(ptr);
  if (t->Find(member) != nullptr) return false;
  t->Insert(SetNode::Create(member));
  return true;
}

bool SetRemove(Enc& enc, void*& ptr, std::string_view member) {
  if (enc == Enc::kIntSet) {
    int64_t v;
    if (!base::ParseInt64(member, &v)) return false;
    bool removed;
    ptr = IntSet::Remove(static_cast<IntSet*>(ptr), v, &removed);
    return removed;
  }
  if (enc == Enc::kPacked) {
    auto* pl = static_cast<PackedList*>(ptr);
    uint32_t off = pl->Find(member);
    if (off >= pl->End()) return false;
    pl->Erase(off);
    return true;
  }
  auto* t = static_cast<SetTable*>(ptr);
  SetNode* n = t->Remove(member);
  if (n == nullptr) return false;
  SetNode::Free(n);
  t->ShrinkIfSparse();
  return true;
}

bool SetIsMember(Enc enc, const void* ptr, std::string_view member) {
  if (enc == Enc::kIntSet) {
    int64_t v;
    return base::ParseInt64(member, &v) && static_cast<const IntSet*>(ptr)->Contains(v);
  }
  if (enc == Enc::kPacked) {
    const auto* pl = static_cast<const PackedList*>(ptr);
    return pl->Find(member) < pl->End();
  }
  // Find may do a rehash step, which changes no member: logically const.
  return static_cast<SetTable*>(const_cast<void*>(ptr))->Find(member) != nullptr;
}

size_t SetSize(const Entry* e) { return SetLength(e->enc, e->v.ptr); }

std::string SetRandom(const Entry* e) {
  if (e->enc == Enc::kIntSet) {
    const auto* is = e->as<IntSet>();
    return base::Int64ToString(is->At(static_cast<uint32_t>(RandomU64() % is->size())));
  }
  if (e->enc == Enc::kPacked) {
    const auto* pl = e->as<PackedList>();
    return std::string(pl->Get(pl->Seek(static_cast<int64_t>(RandomU64() % pl->size()))));
  }
  return std::string(e->as<SetTable>()->Random()->member());
}

void SetFree(Enc e, void* ptr) {
  if (ptr == nullptr) return;
  if (e == Enc::kIntSet)
    IntSet::Free(static_cast<IntSet*>(ptr));
  else if (e == Enc::kPacked)
    delete static_cast<PackedList*>(ptr);
  else
    FreeTable(static_cast<SetTable*>(ptr));
}

void* SetClone(Enc e, const void* ptr) {
  if (e == Enc::kIntSet) return IntSet::Clone(static_cast<const IntSet*>(ptr));
  if (e == Enc::kPacked) return new PackedList(static_cast<const PackedList*>(ptr)->Clone());
  auto* t = new SetTable();
  static_cast<const SetTable*>(ptr)->ForEach(
      [&](const SetNode* n) { t->Insert(SetNode::Create(n->member())); });
  return t;
}

size_t SetMemory(Enc e, const void* ptr) {
  if (e == Enc::kIntSet) return static_cast<const IntSet*>(ptr)->AllocatedBytes();
  if (e == Enc::kPacked) {
    return sizeof(PackedList) + static_cast<const PackedList*>(ptr)->AllocatedBytes();
  }
  const auto* t = static_cast<const SetTable*>(ptr);
  size_t total = sizeof(SetTable) + t->BucketBytes();
  t->ForEach([&](const SetNode* n) { total += base::ZUsableSize(const_cast<SetNode*>(n)); });
  return total;
}

size_t SetLength(Enc e, const void* ptr) {
  if (e == Enc::kIntSet) return static_cast<const IntSet*>(ptr)->size();
  if (e == Enc::kPacked) return static_cast<const PackedList*>(ptr)->size();
  return static_cast<const SetTable*>(ptr)->size();
}

void SetDigest(Enc e, const void* ptr, unsigned char digest[20]) {
  // Redis: xor the SHA1 of each member (as a string) into the digest.
  SetForEach(e, ptr, [&](std::string_view m) { XorDigest(digest, m); });
}

}  // namespace cairn::store

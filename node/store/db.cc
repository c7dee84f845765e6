// Db implementation: entry allocation, string encodings, expiry, scanning.
#include "node/store/db.h"

#include <cstring>
#include <new>
#include <vector>

#include "node/base/clock.h"
#include "node/base/memory.h"
#include "node/base/number.h"
#include "node/store/value_ops.h"

namespace cairn::store {

KeyspaceStats& Stats() {
  static KeyspaceStats s;
  return s;
}

KeyspaceHooks& Hooks() {
  static KeyspaceHooks h;
  return h;
}

uint32_t LruClock() { return static_cast<uint32_t>(base::NowMs() / 1000); }

StrBuf* StrBuf::Create(std::string_view s, size_t extra) {
  size_t cap = s.size() + extra;
  auto* b = static_cast<StrBuf*>(base::ZMalloc(sizeof(StrBuf) + cap));
  b->len = static_cast<uint32_t>(s.size());
  b->cap = static_cast<uint32_t>(cap);
  if (!s.empty()) std::memcpy(b->data(), s.data(), s.size());
  return b;
}

StrBuf* StrBuf::Reserve(StrBuf* b, size_t need) {
  if (need <= b->cap) return b;
  // Greedy growth as sdsMakeRoomFor: double below 1MB, +1MB above.
  size_t cap = need < 1024 * 1024 ? need * 2 : need + 1024 * 1024;
  b = static_cast<StrBuf*>(base::ZRealloc(b, sizeof(StrBuf) + cap));
  b->cap = static_cast<uint32_t>(cap);
  return b;
}

void StrBuf::Free(StrBuf* b) { base::ZFree(b); }

const char* TypeName(ObjType t) {
  switch (t) {
    case ObjType::kString:
      return "string";
    case ObjType::kList:
      return "list";
    case ObjType::kSet:
      return "set";
    case ObjType::kZSet:
      return "zset";
    case ObjType::kHash:
      return "hash";
  }
  return "none";
}

const char* EncodingName(ObjType t, Enc e, size_t inline_len) {
  switch (e) {
    case Enc::kInt:
      return "int";
    case Enc::kInline:
      return "embstr";
    case Enc::kRaw:
      return "raw";
    case Enc::kQuickList:
      return "quicklist";
    case Enc::kPacked:
      return "listpack";
    case Enc::kIntSet:
      return "intset";
    case Enc::kTable:
      return "hashtable";
    case Enc::kSkipList:
      return "skiplist";
  }
  return "unknown";
}

Db::Db(int index) : index_(index) {}

Db::~Db() { Clear(); }

Entry* Db::NewEntry(std::string_view key, ObjType type, Enc enc, std::string_view inline_val) {
  size_t sz = sizeof(Entry) + key.size() + inline_val.size();
  auto* e = static_cast<Entry*>(base::ZMalloc(sz));
  e->next = nullptr;
  e->key_len = static_cast<uint32_t>(key.size());
  e->type = type;
  e->enc = enc;
  e->flags = 0;
  e->reserved = 0;
  e->lru = LruClock();
  e->inline_len = static_cast<uint32_t>(inline_val.size());
  e->v.ival = 0;
  std::memcpy(e->key_data(), key.data(), key.size());
  if (!inline_val.empty())
    std::memcpy(e->key_data() + key.size(), inline_val.data(), inline_val.size());
  return e;
}

void Db::FreeEntry(Entry* e) {
  if (e->type == ObjType::kString) {
    if (e->enc == Enc::kRaw) StrBuf::Free(e->as<StrBuf>());
  } else {
    FreeContainer(e->type, e->enc, e->v.ptr);
  }
  base::ZFree(e);
}

size_t Db::ValueLength(const Entry* e) {
  if (e->type != ObjType::kString) return ContainerLength(e->type, e->enc, e->v.ptr);
  switch (e->enc) {
    case Enc::kInt: {
      char buf[24];
      return base::FormatInt64(buf, e->v.ival);
    }
    case Enc::kInline:
      return e->inline_len;
    default:
      return e->as<StrBuf>()->len;
  }
}

std::string_view Db::StringValue(const Entry* e, std::string* scratch) {
  switch (e->enc) {
    case Enc::kInt:
      scratch->clear();
      base::AppendInt64(scratch, e->v.ival);
      return *scratch;
    case Enc::kInline:
      return e->inline_value();
    default:
      return e->as<StrBuf>()->view();
  }
}

Entry* Db::CloneEntry(const Entry* e, std::string_view new_key) {
  std::string_view inl = e->enc == Enc::kInline ? e->inline_value() : std::string_view();
  Entry* c = NewEntry(new_key, e->type, e->enc, inl);
  if (e->type == ObjType::kString) {
    if (e->enc == Enc::kInt) c->v.ival = e->v.ival;
    if (e->enc == Enc::kRaw) c->v.ptr = StrBuf::Create(e->as<StrBuf>()->view());
  } else {
    c->v.ptr = CloneContainer(e->type, e->enc, e->v.ptr);
  }
  return c;
}

bool Db::IsExpired(const Entry* e) const {
  if (!e->has_expire()) return false;
  if (Hooks().applying_replication) return false;
  int64_t when = GetExpire(e);
  // As Redis's keyIsExpired: a key is still live during its expiry millisecond.
  return when >= 0 && base::NowMs() > when;
}

void Db::ExpireKey(Entry* e) {
  std::string key(e->key());
  UnlinkAndFree(e);
  Stats().expired++;
  if (Hooks().on_expired) Hooks().on_expired(index_, key);
}

Entry* Db::LookupNoTouch(std::string_view key) {
  Entry* e = keys_.Find(key);
  if (e == nullptr) return nullptr;
  if (IsExpired(e)) {
    if (Hooks().is_replica) return nullptr;  // logically expired; the master deletes
    ExpireKey(e);
    return nullptr;
  }
  return e;
}

Entry* Db::Lookup(std::string_view key) {
  Entry* e = LookupNoTouch(key);
  if (e) e->lru = LruClock();
  return e;
}

Entry* Db::LookupRead(std::string_view key) {
  Entry* e = Lookup(key);
  if (e)
    Stats().hits++;
  else
    Stats().misses++;
  return e;
}

Entry* Db::AddContainer(std::string_view key, ObjType type, Enc enc, void* ptr) {
  Entry* e = NewEntry(key, type, enc, {});
  e->v.ptr = ptr;
  keys_.Insert(e);
  return e;
}

namespace {

// Redis's tryObjectEncoding rule for strings: <=20 chars that parse as a strict
// 64-bit integer become "int".
bool AsInt(std::string_view v, int64_t* out) { return v.size() <= 20 && base::ParseInt64(v, out); }

}  // namespace

Entry* Db::NewStringEntry(std::string_view key, std::string_view value, bool allow_int) {
  int64_t ival = 0;
  bool is_int = allow_int && AsInt(value, &ival);
  bool is_inline = !is_int && value.size() <= kInlineStringMax;
  Entry* e =
      NewEntry(key, ObjType::kString, is_int ? Enc::kInt : (is_inline ? Enc::kInline : Enc::kRaw),
               is_inline ? value : std::string_view());
  if (is_int) e->v.ival = ival;
  if (!is_int && !is_inline) e->v.ptr = StrBuf::Create(value);
  return e;
}

Entry* Db::AddString(std::string_view key, std::string_view value) {
  Entry* e = NewStringEntry(key, value, true);
  keys_.Insert(e);
  return e;
}

Entry* Db::SetString(std::string_view key, std::string_view value, bool keep_ttl, bool allow_int) {
  Entry* old = keys_.Find(key);
  Entry* e = NewStringEntry(key, value, allow_int);
  if (old == nullptr) {
    keys_.Insert(e);
    return e;
  }
  if (old->has_expire()) {
    if (keep_ttl)
      e->flags |= Entry::kHasExpire;
    else
      base::ZFree(expires_.Remove(key));
  }
  keys_.Relink(old, e);
  old->flags &= ~Entry::kHasExpire;
  FreeEntry(old);
  return e;
}

Entry* Db::ReplaceString(Entry* e, std::string_view value, bool allow_int) {
  int64_t ival;
  if (allow_int && AsInt(value, &ival)) return ReplaceInt(e, ival);
  if (value.size() > kInlineStringMax) {
    if (e->enc == Enc::kRaw) {
      StrBuf* b = StrBuf::Reserve(e->as<StrBuf>(), value.size());
      std::memcpy(b->data(), value.data(), value.size());
      b->len = static_cast<uint32_t>(value.size());
      e->v.ptr = b;
      return e;
    }
    StrBuf* b = StrBuf::Create(value);
    Entry* n = NewEntry(e->key(), ObjType::kString, Enc::kRaw, {});
    n->v.ptr = b;
    n->flags = e->flags;
    n->lru = e->lru;
    keys_.Relink(e, n);
    FreeEntry(e);
    return n;
  }
  Entry* n = NewEntry(e->key(), ObjType::kString, Enc::kInline, value);
  n->flags = e->flags;
  n->lru = e->lru;
  keys_.Relink(e, n);
  FreeEntry(e);
  return n;
}

Entry* Db::ReplaceInt(Entry* e, int64_t v) {
  if (e->enc == Enc::kInt) {
    e->v.ival = v;
    return e;
  }
  Entry* n = NewEntry(e->key(), ObjType::kString, Enc::kInt, {});
  n->v.ival = v;
  n->flags = e->flags;
  n->lru = e->lru;
  keys_.Relink(e, n);
  FreeEntry(e);
  return n;
}

StrBuf* Db::MakeRaw(Entry* e) {
  if (e->enc == Enc::kRaw) return e->as<StrBuf>();
  std::string scratch;
  std::string_view cur = StringValue(e, &scratch);
  StrBuf* b = StrBuf::Create(cur);
  // The inline bytes stay allocated behind the key until the entry is next
  // rebuilt; shrinking in place keeps the entry pointer stable for the caller.
  e->inline_len = 0;
  e->enc = Enc::kRaw;
  e->v.ptr = b;
  return b;
}

void Db::UnlinkAndFree(Entry* e) {
  std::string_view key = e->key();
  if (e->has_expire()) base::ZFree(expires_.Remove(key));
  Entry* removed = keys_.Remove(key);
  FreeEntry(removed);
}

bool Db::Delete(std::string_view key) {
  Entry* e = keys_.Find(key);
  if (e == nullptr) return false;
  UnlinkAndFree(e);
  return true;
}

bool Db::Rename(std::string_view from, std::string_view to) {
  Entry* e = keys_.Find(from);
  if (e == nullptr) return false;
  if (from == to) return true;  // Delete(to) below would free `e` itself
  int64_t when = GetExpire(e);
  Delete(to);
  Entry* moved = NewEntry(to, e->type, e->enc, e->enc == Enc::kInline ? e->inline_value() : "");
  moved->v = e->v;
  moved->lru = e->lru;
  // Detach the value from the old entry before freeing it.
  e->type = ObjType::kString;
  e->enc = Enc::kInt;
  UnlinkAndFree(e);
  keys_.Insert(moved);
  if (when >= 0) SetExpire(moved, when);
  return true;
}

Entry* Db::MoveTo(std::string_view key, Db* dst) {
  Entry* e = keys_.Find(key);
  if (e == nullptr) return nullptr;
  int64_t when = GetExpire(e);
  if (e->has_expire()) {
    base::ZFree(expires_.Remove(key));
    e->flags &= ~Entry::kHasExpire;
  }
  keys_.Remove(key);
  dst->keys_.Insert(e);
  if (when >= 0) dst->SetExpire(e, when);
  return e;
}

int64_t Db::GetExpire(const Entry* e) const {
  if (!e->has_expire()) return -1;
  auto* self = const_cast<Db*>(this);
  ExpireNode* n = self->expires_.Find(e->key());
  return n ? n->when_ms : -1;
}

int64_t Db::GetExpire(std::string_view key) {
  Entry* e = keys_.Find(key);
  return e ? GetExpire(e) : -1;
}

void Db::SetExpire(Entry* e, int64_t when_ms) {
  if (e->has_expire()) {
    ExpireNode* n = expires_.Find(e->key());
    if (n) {
      n->when_ms = when_ms;
      return;
    }
  }
  auto* n = static_cast<ExpireNode*>(base::ZMalloc(sizeof(ExpireNode) + e->key_len));
  n->next = nullptr;
  n->when_ms = when_ms;
  n->key_len = e->key_len;
  std::memcpy(n->key_data(), e->key_data(), e->key_len);
  expires_.Insert(n);
  e->flags |= Entry::kHasExpire;
}

bool Db::RemoveExpire(Entry* e) {
  if (!e->has_expire()) return false;
  base::ZFree(expires_.Remove(e->key()));
  e->flags &= ~Entry::kHasExpire;
  return true;
}

Entry* Db::RandomKey() {
  // On a master every expired pick is deleted, so the loop ends. A replica
  // cannot delete, so it bounds its retries and may return an expired key, as
  // Redis does.
  for (int tries = 0; keys_.size() > 0; tries++) {
    Entry* e = keys_.Random();
    if (!IsExpired(e)) return e;
    if (Hooks().is_replica) {
      if (tries >= 99) return e;
      continue;
    }
    ExpireKey(e);
  }
  return nullptr;
}

size_t Db::Scan(size_t cursor, const std::function<void(Entry*)>& fn) {
  return keys_.Scan(cursor, fn);
}

size_t Db::Clear() {
  size_t n = keys_.size();
  expires_.Clear([](ExpireNode* x) { base::ZFree(x); });
  keys_.Clear([](Entry* e) { FreeEntry(e); });
  avg_ttl_ms_ = 0;
  expire_cursor_ = 0;
  return n;
}

void Db::SwapContents(Db& other) {
  std::swap(keys_, other.keys_);
  std::swap(expires_, other.expires_);
  std::swap(expire_cursor_, other.expire_cursor_);
  std::swap(avg_ttl_ms_, other.avg_ttl_ms_);
}

size_t Db::ActiveExpire(size_t max_checks) {
  if (expires_.size() == 0) return 0;
  int64_t now = base::NowMs();
  std::vector<std::string> due;
  size_t checked = 0;
  int64_t ttl_sum = 0, ttl_samples = 0;
  // Visit whole buckets until enough nodes were sampled or the scan wrapped.
  do {
    expire_cursor_ = expires_.Scan(expire_cursor_, [&](ExpireNode* n) {
      checked++;
      if (n->when_ms < now) {
        due.emplace_back(n->key());
      } else {
        ttl_sum += n->when_ms - now;
        ttl_samples++;
      }
    });
  } while (checked < max_checks && expire_cursor_ != 0);
  if (ttl_samples > 0) {
    int64_t avg = ttl_sum / ttl_samples;
    avg_ttl_ms_ = avg_ttl_ms_ == 0 ? avg : (avg_ttl_ms_ / 50) * 49 + avg / 50;
  }
  size_t expired = 0;
  if (Hooks().is_replica) return 0;
  for (const auto& k : due) {
    Entry* e = keys_.Find(k);
    if (e && IsExpired(e)) {
      ExpireKey(e);
      expired++;
    }
  }
  return expired;
}

bool Db::RehashStep(int buckets) {
  bool a = keys_.Rehash(buckets);
  bool b = expires_.Rehash(buckets);
  return a || b;
}

void Db::ShrinkIfSparse() {
  keys_.ShrinkIfSparse();
  expires_.ShrinkIfSparse();
}

size_t Db::OverheadBytes() const {
  return keys_.BucketBytes() + expires_.BucketBytes() + keys_.size() * sizeof(Entry) +
         expires_.size() * sizeof(ExpireNode);
}

}  // namespace cairn::store

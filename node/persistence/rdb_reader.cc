// RDB loader: walks the opcodes of an RDB image, decodes every value type Redis 7.0
// loads, and builds Cairn's store objects through the type modules' public APIs.
#include "node/persistence/rdb_reader.h"

#include <lzf.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <iterator>

#include "node/base/clock.h"
#include "node/base/number.h"
#include "node/persistence/crc64.h"
#include "node/persistence/mapped_file.h"
#include "node/persistence/rdb_decode_blobs.h"
#include "node/persistence/rdb_format.h"
#include "node/store/list_type.h"
#include "node/store/quicklist.h"

namespace cairn::persist {
namespace {

using namespace rdb;  // NOLINT: the format constants

// A decoded value before it becomes a store object. Hashes keep field, value
// pairs flattened in `elems`; zsets keep members in `elems` and scores in `scores`.
struct Parsed {
  store::ObjType type = store::ObjType::kString;
  std::vector<std::string> elems;
  std::vector<double> scores;
  bool skipped = false;  // a stream passed over because of RdbLoadOptions::skip_streams
};

// The 9-character module type name packed in the top 54 bits of a module id.
std::string ModuleName(uint64_t id) {
  static constexpr char kCharset[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string name(9, '?');
  id >>= 10;
  for (int j = 8; j >= 0; j--) {
    name[j] = kCharset[id & 63];
    id >>= 6;
  }
  return name;
}

// Text for an error message: bytes outside printable ASCII as \xNN, at most ~64
// bytes shown, so a binary or hostile key cannot garble or flood the log.
std::string Printable(std::string_view s) {
  static constexpr size_t kMaxShown = 64;
  std::string out;
  for (size_t i = 0; i < s.size() && i < kMaxShown; i++) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'') {
      out += static_cast<char>(c);
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  if (s.size() > kMaxShown) out += "...(" + std::to_string(s.size()) + " bytes)";
  return out;
}

// "type 13, ziplist hash": how the value being read is encoded in the file.
std::string TypeName(uint8_t type) {
  static constexpr const char* kNames[] = {"string",
                                           "linked list",
                                           "set",
                                           "sorted set",
                                           "hash",
                                           "sorted set",
                                           "module value",
                                           "module value",
                                           "unknown",
                                           "zipmap hash",
                                           "ziplist list",
                                           "intset",
                                           "ziplist sorted set",
                                           "ziplist hash",
                                           "quicklist of ziplists",
                                           "stream",
                                           "listpack hash",
                                           "listpack sorted set",
                                           "quicklist",
                                           "stream"};
  const char* name = type < std::size(kNames) ? kNames[type] : "unknown";
  return "type " + std::to_string(type) + ", " + name;
}

// The blob format a value type embeds.
const char* BlobKind(uint8_t type) {
  switch (type) {
    case kTypeHashZipmap:
      return "zipmap";
    case kTypeSetIntset:
      return "intset";
    case kTypeListZiplist:
    case kTypeZSetZiplist:
    case kTypeHashZiplist:
    case kTypeListQuicklist:
      return "ziplist";
    default:
      return "listpack";
  }
}

class Loader {
 public:
  Loader(std::string_view data, std::vector<std::unique_ptr<store::Db>>& dbs,
         const RdbLoadOptions& opts, RdbLoadInfo* info)
      : d_(reinterpret_cast<const unsigned char*>(data.data())),
        n_(data.size()),
        dbs_(dbs),
        opts_(opts),
        info_(info) {}

  Status Run();

 private:
  size_t left() const { return n_ - pos_; }
  // "rdb: <what> at offset <at>[, key '<key>' (type N, name)]". The offset is where
  // the offending field starts; inside a key/value pair the key (or the fact that
  // the key itself was being read) and the value's type are named.
  Status ErrAt(size_t at, const std::string& what) const {
    std::string msg = "rdb: " + what + " at offset " + std::to_string(at);
    if (state_ == State::kKey)
      msg += ", reading the key of a value (" + TypeName(type_) + ")";
    else if (state_ == State::kValue)
      msg += ", key '" + Printable(key_) + "' (" + TypeName(type_) + ")";
    return Status::Corruption(std::move(msg));
  }
  Status Err(const std::string& what) const { return ErrAt(pos_, what); }
  // A count read at `at` that cannot fit in the bytes left when each element
  // takes at least `min_bytes`: refused before anything is allocated.
  Status CheckCount(uint64_t count, size_t min_bytes, size_t at, const char* what) const {
    if (count <= left() / min_bytes) return Status::Ok();
    return ErrAt(at, std::string(what) + " " + std::to_string(count) + " larger than the " +
                         std::to_string(left()) + " bytes left in the file");
  }
  bool Byte(uint8_t* b) {
    if (left() < 1) return false;
    *b = d_[pos_++];
    return true;
  }
  bool Fixed(void* out, size_t k) {
    if (left() < k) return false;
    std::memcpy(out, d_ + pos_, k);
    pos_ += k;
    return true;
  }
  Status Len(uint64_t* len, bool* encoded = nullptr);
  Status Str(std::string* out);
  Status TextDouble(double* out);
  Status Value(uint8_t type, Parsed* v);
  Status Blob(uint8_t type, size_t at, const std::string& blob, Parsed* v);
  Status Build(store::Db* db, Parsed& v, int64_t expire, int64_t idle, bool* empty);
  Status Elements(uint64_t count, std::vector<std::string>* out);
  Status SkipStream(uint8_t type);
  Status Lens(int n) {
    uint64_t ignored;
    for (int i = 0; i < n; i++) {
      if (Status s = Len(&ignored); !s.ok()) return s;
    }
    return Status::Ok();
  }
  Status Skip(size_t k) {
    if (left() < k) return Err("unexpected end of file");
    pos_ += k;
    return Status::Ok();
  }

  const unsigned char* d_;
  size_t n_;
  uint64_t crc_ = 0;  // CRC-64 of d_[0, crc_pos_)
  size_t crc_pos_ = 0;
  size_t pos_ = 0;
  std::vector<std::unique_ptr<store::Db>>& dbs_;
  const RdbLoadOptions& opts_;
  RdbLoadInfo* info_;
  enum class State { kTop, kKey, kValue };
  std::string key_;
  State state_ = State::kTop;
  uint8_t type_ = 0;     // value type of the pair being read
  size_t value_at_ = 0;  // offset of that pair's type byte
};

Status Loader::Len(uint64_t* len, bool* encoded) {
  if (encoded) *encoded = false;
  const size_t at = pos_;
  uint8_t b;
  if (!Byte(&b)) return Err("unexpected end of file");
  switch (b >> 6) {
    case kLen6Bit:
      *len = b & 0x3f;
      return Status::Ok();
    case kLen14Bit: {
      uint8_t b2;
      if (!Byte(&b2)) return Err("unexpected end of file");
      *len = (uint64_t{b & 0x3fu} << 8) | b2;
      return Status::Ok();
    }
    case kLenEncVal:
      if (!encoded) return ErrAt(at, "string encoding where a length belongs");
      *encoded = true;
      *len = b & 0x3f;
      return Status::Ok();
    default: {
      size_t k = b == kLen32 ? 4 : b == kLen64 ? 8 : 0;
      if (k == 0) return ErrAt(at, "bad length encoding " + std::to_string(b));
      unsigned char buf[8];
      if (!Fixed(buf, k)) return Err("unexpected end of file");
      uint64_t v = 0;
      for (size_t i = 0; i < k; i++) v = (v << 8) | buf[i];
      *len = v;
      return Status::Ok();
    }
  }
}

Status Loader::Str(std::string* out) {
  const size_t at = pos_;
  bool enc;
  uint64_t len;
  if (Status s = Len(&len, &enc); !s.ok()) return s;
  if (enc) {
    if (len <= kEncInt32) {
      size_t k = size_t{1} << len;
      unsigned char buf[4];
      if (!Fixed(buf, k)) return Err("unexpected end of file");
      uint64_t u = 0;
      for (size_t i = k; i-- > 0;) u = (u << 8) | buf[i];
      int64_t v = k == 1   ? static_cast<int8_t>(u)
                  : k == 2 ? static_cast<int16_t>(u)
                           : static_cast<int32_t>(u);
      *out = std::to_string(v);
      return Status::Ok();
    }
    if (len != kEncLzf) return ErrAt(at, "unknown string encoding " + std::to_string(len));
    uint64_t clen, ulen;
    if (Status s = Len(&clen); !s.ok()) return s;
    if (Status s = Len(&ulen); !s.ok()) return s;
    if (clen > left())
      return ErrAt(at, "LZF string of " + std::to_string(clen) +
                           " compressed bytes runs past the end of the file (" +
                           std::to_string(left()) + " bytes left)");
    // One LZF back-reference (3 bytes) yields at most 264 bytes, so a claimed size
    // above 100x the compressed size is corrupt; refusing it bounds the allocation.
    if (ulen == 0 || ulen > clen * 100 + 64 || ulen > UINT32_MAX || clen > UINT32_MAX)
      return ErrAt(at, "LZF string claims " + std::to_string(ulen) + " bytes from " +
                           std::to_string(clen) + " compressed bytes");
    out->resize(ulen);
    unsigned got = lzf_decompress(d_ + pos_, static_cast<unsigned>(clen), out->data(),
                                  static_cast<unsigned>(ulen));
    if (got != ulen)
      return ErrAt(
          at, "LZF data does not decompress to the claimed " + std::to_string(ulen) + " bytes");
    pos_ += clen;
    return Status::Ok();
  }
  if (len > left())
    return ErrAt(at, "string length " + std::to_string(len) + " runs past the end of the file (" +
                         std::to_string(left()) + " bytes left)");
  out->assign(reinterpret_cast<const char*>(d_ + pos_), len);
  pos_ += len;
  return Status::Ok();
}

Status Loader::TextDouble(double* out) {
  const size_t at = pos_;
  uint8_t len;
  if (!Byte(&len)) return Err("unexpected end of file");
  if (len == 253)
    *out = std::nan("");
  else if (len == 254)
    *out = INFINITY;
  else if (len == 255)
    *out = -INFINITY;
  else {
    if (len > left())
      return ErrAt(at, "score of " + std::to_string(len) + " bytes runs past the end of the file");
    std::string s(reinterpret_cast<const char*>(d_ + pos_), len);
    pos_ += len;
    char* end = nullptr;
    *out = std::strtod(s.c_str(), &end);
    if (s.empty() || end != s.c_str() + s.size())
      return ErrAt(at, "bad score '" + Printable(s) + "'");
  }
  return Status::Ok();
}

// Reads `count` strings (the caller has checked the count against the bytes left:
// every string takes at least one byte). The reserve is capped as well.
Status Loader::Elements(uint64_t count, std::vector<std::string>* out) {
  out->reserve(out->size() + std::min<uint64_t>(count, 65536));
  for (uint64_t i = 0; i < count; i++) {
    std::string s;
    if (Status st = Str(&s); !st.ok()) return st;
    out->push_back(std::move(s));
  }
  return Status::Ok();
}

// Decodes the blob (read at offset `at`) of a compact value type into `v`.
Status Loader::Blob(uint8_t type, size_t at, const std::string& blob, Parsed* v) {
  std::string why;
  bool ok;
  std::vector<std::string> items;
  switch (type) {
    case kTypeHashZipmap:
      ok = DecodeZipmap(blob, &items, &why);
      break;
    case kTypeSetIntset:
      ok = DecodeIntset(blob, &items, &why);
      break;
    case kTypeListZiplist:
    case kTypeZSetZiplist:
    case kTypeHashZiplist:
    case kTypeListQuicklist:
      ok = DecodeZiplist(blob, &items, &why);
      break;
    default:
      ok = DecodeListpack(blob, &items, &why);
      break;
  }
  if (!ok) return ErrAt(at, std::string("bad ") + BlobKind(type) + " blob (" + why + ")");
  if (v->type == store::ObjType::kZSet) {
    if (items.size() % 2)
      return ErrAt(at,
                   "odd element count " + std::to_string(items.size()) + " in a sorted set blob");
    for (size_t i = 0; i < items.size(); i += 2) {
      double score;
      if (!base::ParseDouble(items[i + 1], &score) || std::isnan(score))
        return ErrAt(at, "bad score '" + Printable(items[i + 1]) + "' in a sorted set blob");
      v->elems.push_back(std::move(items[i]));
      v->scores.push_back(score);
    }
    return Status::Ok();
  }
  if (v->type == store::ObjType::kHash && items.size() % 2)
    return ErrAt(at, "odd element count " + std::to_string(items.size()) + " in a hash blob");
  for (auto& s : items) v->elems.push_back(std::move(s));
  return Status::Ok();
}

// Walks over a stream value (listpacks, metadata, consumer groups) without keeping it.
Status Loader::SkipStream(uint8_t type) {
  const bool v2 = type == kTypeStreamListpacks2;
  size_t at = pos_;
  uint64_t count;
  if (Status s = Len(&count); !s.ok()) return s;
  if (Status s = CheckCount(count, 2, at, "stream listpack count"); !s.ok()) return s;
  std::string scratch;
  for (uint64_t i = 0; i < count; i++) {
    if (Status s = Str(&scratch); !s.ok()) return s;  // master ID
    if (Status s = Str(&scratch); !s.ok()) return s;  // listpack
  }
  if (Status s = Lens(v2 ? 8 : 3); !s.ok()) return s;  // length, ids, entries_added
  at = pos_;
  uint64_t groups;
  if (Status s = Len(&groups); !s.ok()) return s;
  if (Status s = CheckCount(groups, 4, at, "stream consumer group count"); !s.ok()) return s;
  for (uint64_t g = 0; g < groups; g++) {
    if (Status s = Str(&scratch); !s.ok()) return s;     // name
    if (Status s = Lens(v2 ? 3 : 2); !s.ok()) return s;  // last id, entries_read
    at = pos_;
    uint64_t pel;
    if (Status s = Len(&pel); !s.ok()) return s;
    if (Status s = CheckCount(pel, 16 + 8 + 1, at, "stream group PEL size"); !s.ok()) return s;
    for (uint64_t k = 0; k < pel; k++) {
      if (Status s = Skip(16 + 8); !s.ok()) return s;  // raw id, delivery time
      if (Status s = Lens(1); !s.ok()) return s;       // delivery count
    }
    at = pos_;
    uint64_t consumers;
    if (Status s = Len(&consumers); !s.ok()) return s;
    if (Status s = CheckCount(consumers, 1 + 8 + 1, at, "stream consumer count"); !s.ok()) return s;
    for (uint64_t c = 0; c < consumers; c++) {
      if (Status s = Str(&scratch); !s.ok()) return s;  // name
      if (Status s = Skip(8); !s.ok()) return s;        // seen time
      at = pos_;
      if (Status s = Len(&pel); !s.ok()) return s;
      if (Status s = CheckCount(pel, 16, at, "stream consumer PEL size"); !s.ok()) return s;
      if (Status s = Skip(pel * 16); !s.ok()) return s;
    }
  }
  return Status::Ok();
}

Status Loader::Value(uint8_t type, Parsed* v) {
  using store::ObjType;
  const size_t at = pos_;  // where the value's first length or string starts
  uint64_t len;
  switch (type) {
    case kTypeString: {
      v->type = ObjType::kString;
      v->elems.emplace_back();
      return Str(&v->elems.back());
    }
    case kTypeList:
    case kTypeSet:
      v->type = type == kTypeList ? ObjType::kList : ObjType::kSet;
      if (Status s = Len(&len); !s.ok()) return s;
      if (Status s = CheckCount(len, 1, at, type == kTypeList ? "list length" : "set size");
          !s.ok())
        return s;
      return Elements(len, &v->elems);
    case kTypeHash:
      v->type = ObjType::kHash;
      if (Status s = Len(&len); !s.ok()) return s;
      if (Status s = CheckCount(len, 2, at, "hash size"); !s.ok()) return s;
      return Elements(len * 2, &v->elems);
    case kTypeZSet:
    case kTypeZSet2: {
      v->type = ObjType::kZSet;
      if (Status s = Len(&len); !s.ok()) return s;
      // A member takes at least one byte, a score one (text) or eight (binary).
      if (Status s = CheckCount(len, type == kTypeZSet2 ? 9 : 2, at, "sorted set size"); !s.ok())
        return s;
      v->elems.reserve(std::min<uint64_t>(len, 65536));
      v->scores.reserve(std::min<uint64_t>(len, 65536));
      for (uint64_t i = 0; i < len; i++) {
        std::string m;
        if (Status s = Str(&m); !s.ok()) return s;
        double score;
        const size_t score_at = pos_;
        if (type == kTypeZSet2) {
          unsigned char buf[8];
          if (!Fixed(buf, 8)) return Err("unexpected end of file in a sorted set score");
          uint64_t u = 0;
          for (int k = 7; k >= 0; k--) u = (u << 8) | buf[k];
          std::memcpy(&score, &u, 8);
        } else if (Status s = TextDouble(&score); !s.ok()) {
          return s;
        }
        if (std::isnan(score)) return ErrAt(score_at, "NaN score");
        v->elems.push_back(std::move(m));
        v->scores.push_back(score);
      }
      return Status::Ok();
    }
    case kTypeHashZipmap:
    case kTypeHashZiplist:
    case kTypeHashListpack:
    case kTypeSetIntset:
    case kTypeListZiplist:
    case kTypeZSetZiplist:
    case kTypeZSetListpack: {
      v->type = type == kTypeSetIntset                                    ? ObjType::kSet
                : type == kTypeListZiplist                                ? ObjType::kList
                : (type == kTypeZSetZiplist || type == kTypeZSetListpack) ? ObjType::kZSet
                                                                          : ObjType::kHash;
      std::string blob;
      if (Status s = Str(&blob); !s.ok()) return s;
      return Blob(type, at, blob, v);
    }
    case kTypeListQuicklist:
    case kTypeListQuicklist2: {
      v->type = ObjType::kList;
      if (Status s = Len(&len); !s.ok()) return s;
      // A node takes at least one byte (two with the container in QUICKLIST_2).
      if (Status s =
              CheckCount(len, type == kTypeListQuicklist2 ? 2 : 1, at, "quicklist node count");
          !s.ok())
        return s;
      for (uint64_t i = 0; i < len; i++) {
        uint64_t container = kQuicklistNodePacked;
        if (type == kTypeListQuicklist2) {
          const size_t container_at = pos_;
          if (Status s = Len(&container); !s.ok()) return s;
          if (container != kQuicklistNodePacked && container != kQuicklistNodePlain)
            return ErrAt(container_at, "bad quicklist container " + std::to_string(container));
        }
        const size_t node_at = pos_;
        std::string blob;
        if (Status s = Str(&blob); !s.ok()) return s;
        if (container == kQuicklistNodePlain) {
          v->elems.push_back(std::move(blob));
          continue;
        }
        if (Status s = Blob(type, node_at, blob, v); !s.ok()) return s;
      }
      return Status::Ok();
    }
    case kTypeStreamListpacks:
    case kTypeStreamListpacks2:
      if (opts_.skip_streams) {
        v->skipped = true;
        return SkipStream(type);
      }
      return Status::NotSupported("rdb: key '" + Printable(key_) + "' holds a stream (type " +
                                  std::to_string(type) + "), which Cairn does not support");
    case kTypeModule:
    case kTypeModule2: {
      uint64_t id;
      if (Status s = Len(&id); !s.ok()) return s;
      return Status::NotSupported("rdb: key '" + Printable(key_) +
                                  "' holds a value of module type '" + ModuleName(id) + "' (type " +
                                  std::to_string(type) + "), which Cairn does not support");
    }
    default:
      return ErrAt(value_at_, "unknown value type " + std::to_string(type));
  }
}

Status Loader::Build(store::Db* db, Parsed& v, int64_t expire, int64_t idle, bool* empty) {
  using store::Enc;
  using store::ObjType;
  *empty = false;
  store::Entry* e = nullptr;
  switch (v.type) {
    case ObjType::kString:
      e = db->AddString(key_, v.elems[0]);  // Run() checked the key is new
      break;
    case ObjType::kList: {
      if (v.elems.empty()) break;
      auto* ql = new store::QuickList(opts_.list_fill);
      for (const auto& s : v.elems) ql->Push(store::QuickList::Where::kTail, s);
      e = db->AddContainer(key_, ObjType::kList, Enc::kQuickList, ql);
      break;
    }
    case ObjType::kSet: {
      if (v.elems.empty()) break;
      Enc enc;
      void* ptr = store::SetCreateFor(v.elems[0], &enc);
      for (const auto& s : v.elems) {
        if (!store::SetAdd(enc, ptr, s, opts_.set)) {
          store::SetFree(enc, ptr);
          return ErrAt(value_at_, "duplicate set member '" + Printable(s) + "'");
        }
      }
      e = db->AddContainer(key_, ObjType::kSet, enc, ptr);
      break;
    }
    case ObjType::kZSet: {
      if (v.elems.empty()) break;
      size_t max_len = 0;
      for (const auto& s : v.elems) max_len = std::max(max_len, s.size());
      Enc enc;
      void* ptr = store::ZSetCreate(v.elems.size(), max_len, opts_.zset, &enc);
      for (size_t i = 0; i < v.elems.size(); i++) {
        int out = 0;
        store::ZSetAdd(enc, ptr, v.scores[i], v.elems[i], store::kZAddNx, &out, nullptr,
                       opts_.zset);
        if (!(out & store::kZAddAdded)) {
          store::ZSetFree(enc, ptr);
          return ErrAt(value_at_, "duplicate sorted set member '" + Printable(v.elems[i]) + "'");
        }
      }
      e = db->AddContainer(key_, ObjType::kZSet, enc, ptr);
      break;
    }
    case ObjType::kHash: {
      if (v.elems.empty()) break;
      e = db->AddContainer(key_, ObjType::kHash, Enc::kPacked, store::HashCreate());
      if (v.elems.size() / 2 > opts_.hash.max_entries) store::HashConvertToTable(e);
      for (size_t i = 0; i < v.elems.size(); i += 2) {
        if (!store::HashSet(e, v.elems[i], v.elems[i + 1], opts_.hash)) {
          db->Delete(key_);
          return ErrAt(value_at_, "duplicate hash field '" + Printable(v.elems[i]) + "'");
        }
      }
      break;
    }
  }
  if (e == nullptr) {
    *empty = true;
    return Status::Ok();
  }
  if (expire >= 0) db->SetExpire(e, expire);
  if (idle >= 0) {
    // IDLE carries seconds since last access; Entry::lru is a clock in seconds.
    uint32_t clock = store::LruClock();
    e->lru = clock - static_cast<uint32_t>(std::min<int64_t>(idle, clock));
  }
  return Status::Ok();
}

Status Loader::Run() {
  if (n_ < 9 || std::memcmp(d_, "REDIS", 5) != 0)
    return ErrAt(0, n_ < 9 ? "not an RDB file (shorter than its 9-byte header)"
                           : "not an RDB file (bad magic)");
  int version = 0;
  for (int i = 5; i < 9; i++) {
    if (d_[i] < '0' || d_[i] > '9') return ErrAt(5, "bad RDB version");
    version = version * 10 + (d_[i] - '0');
  }
  if (version < 1 || version > kVersion)
    return Status::NotSupported("rdb: can't handle RDB format version " + std::to_string(version));
  info_->version = version;
  pos_ = 9;
  if (dbs_.empty()) {
    for (size_t i = 0; i < opts_.databases; i++) dbs_.push_back(std::make_unique<store::Db>(i));
  }
  const int64_t now = opts_.now_ms ? opts_.now_ms : base::NowMs();
  store::Db* db = dbs_[0].get();
  int64_t expire = -1;
  int64_t idle = -1;
  uint64_t keys_seen = 0;
  while (true) {
    uint8_t op;
    if (!Byte(&op)) return Err("unexpected end of file (no EOF opcode)");
    switch (op) {
      case kOpExpireTime: {
        unsigned char b[4];
        if (!Fixed(b, 4)) return Err("unexpected end of file");
        int32_t secs = static_cast<int32_t>(b[0] | b[1] << 8 | b[2] << 16 | uint32_t{b[3]} << 24);
        expire = int64_t{secs} * 1000;
        continue;
      }
      case kOpExpireTimeMs: {
        unsigned char b[8];
        if (!Fixed(b, 8)) return Err("unexpected end of file");
        uint64_t u = 0;
        for (int k = 7; k >= 0; k--) u = (u << 8) | b[k];
        expire = static_cast<int64_t>(u);
        continue;
      }
      case kOpFreq: {
        uint8_t f;
        if (!Byte(&f)) return Err("unexpected end of file");
        continue;
      }
      case kOpIdle: {
        uint64_t secs;
        if (Status s = Len(&secs); !s.ok()) return s;
        idle = static_cast<int64_t>(std::min<uint64_t>(secs, INT64_MAX));
        continue;
      }
      case kOpSelectDb: {
        const size_t at = pos_ - 1;
        uint64_t id;
        if (Status s = Len(&id); !s.ok()) return s;
        if (id >= dbs_.size())
          return ErrAt(at, "SELECTDB " + std::to_string(id) + " out of range (" +
                               std::to_string(dbs_.size()) + " databases)");
        db = dbs_[id].get();
        continue;
      }
      case kOpResizeDb: {
        uint64_t a, b;
        if (Status s = Len(&a); !s.ok()) return s;
        if (Status s = Len(&b); !s.ok()) return s;
        // Size the tables once instead of rehashing while loading. A key takes
        // at least 3 bytes of the file, which bounds what a hostile file gets.
        const uint64_t cap = left() / 3;
        db->Reserve(static_cast<size_t>(std::min(a, cap)), static_cast<size_t>(std::min(b, cap)));
        continue;
      }
      case kOpAux: {
        std::string k, v;
        if (Status s = Str(&k); !s.ok()) return s;
        if (Status s = Str(&v); !s.ok()) return s;
        info_->aux[k] = std::move(v);
        continue;
      }
      case kOpModuleAux: {
        uint64_t id;
        if (Status s = Len(&id); !s.ok()) return s;
        return Status::NotSupported("rdb: the file holds auxiliary data of module type '" +
                                    ModuleName(id) + "' (MODULE_AUX at offset " +
                                    std::to_string(pos_) + "), which Cairn does not support");
      }
      case kOpFunction:
        return Status::NotSupported("rdb: the pre-GA FUNCTION opcode (246) is not supported");
      case kOpFunction2: {
        std::string code;
        if (Status s = Str(&code); !s.ok()) return s;
        info_->functions.push_back(std::move(code));
        continue;
      }
      case kOpEof: {
        if (version >= 5) {
          size_t body = pos_;
          unsigned char b[8];
          if (!Fixed(b, 8))
            return Err("missing checksum (" + std::to_string(left()) + " of 8 bytes)");
          uint64_t stored = 0;
          for (int k = 7; k >= 0; k--) stored = (stored << 8) | b[k];
          if (stored != 0 && opts_.verify_checksum) {
            uint64_t crc = Crc64(crc_, d_ + crc_pos_, body - crc_pos_);
            if (crc != stored) return ErrAt(body, "checksum mismatch");
            info_->checksum_verified = true;
          }
        }
        return Status::Ok();
      }
      default:
        break;
    }
    // A key/value pair of type `op`.
    value_at_ = pos_ - 1;
    type_ = op;
    key_.clear();
    state_ = State::kKey;
    if (Status s = Str(&key_); !s.ok()) return s;
    const uint64_t hash = db->PrefetchKey(key_);  // the bucket loads while the value parses
    state_ = State::kValue;
    Parsed v;
    if (Status s = Value(op, &v); !s.ok()) return s;
    if (db->FindRaw(key_, hash) != nullptr) return ErrAt(value_at_, "duplicate key");
    if (v.skipped) {
      info_->streams_skipped++;
    } else if (expire >= 0 && expire < now && !opts_.keep_expired) {
      info_->keys_expired++;
    } else {
      bool empty;
      if (Status s = Build(db, v, expire, idle, &empty); !s.ok()) return s;
      if (empty)
        info_->empty_keys_skipped++;
      else
        info_->keys_loaded++;
      if (opts_.discard_keys && !empty) db->Delete(key_);
    }
    key_.clear();
    state_ = State::kTop;
    expire = -1;
    idle = -1;
    if (opts_.progress && ++keys_seen % 1024 == 0) {
      // The checksum runs behind the parser over bytes still in cache, and a
      // mapped file may then drop them (MappedFile::Release).
      if (opts_.verify_checksum) {
        crc_ = Crc64(crc_, d_ + crc_pos_, pos_ - crc_pos_);
        crc_pos_ = pos_;
      }
      if (!opts_.progress(pos_, n_))
        return Status::Aborted("rdb: loading aborted at offset " + std::to_string(pos_));
    }
  }
}

}  // namespace

Status LoadRdbBytes(std::string_view data, std::vector<std::unique_ptr<store::Db>>& dbs,
                    const RdbLoadOptions& opts, RdbLoadInfo* info) {
  RdbLoadInfo scratch;
  Loader loader(data, dbs, opts, info ? info : &scratch);
  return loader.Run();
}

Status LoadRdbFile(const std::string& path, std::vector<std::unique_ptr<store::Db>>& dbs,
                   const RdbLoadOptions& opts, RdbLoadInfo* info) {
  auto file = MappedFile::Open(path);
  if (!file.ok()) return Status::IOError("rdb: " + file.status().message());
  MappedFile* mapped = file.value().get();
  RdbLoadOptions o = opts;
  o.progress = [&opts, mapped](size_t done, size_t total) {
    mapped->Release(done);
    return opts.progress ? opts.progress(done, total) : true;
  };
  return LoadRdbBytes(mapped->view(), dbs, o, info);
}

}  // namespace cairn::persist

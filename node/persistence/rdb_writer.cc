// RDB writer: the encodings of Redis 7.0's rdb.c save path (lengths, strings
// with int/LZF encodings, binary doubles) and the file layout around them.
#include "node/persistence/rdb_writer.h"

#include <lzf.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <vector>

#include "node/base/number.h"
#include "node/persistence/crc64.h"
#include "node/persistence/rdb_format.h"
#include "node/store/hash_type.h"
#include "node/store/intset.h"
#include "node/store/list_type.h"
#include "node/store/quicklist.h"
#include "node/store/set_type.h"
#include "node/store/zset_type.h"

namespace cairn::persist {
namespace {

constexpr size_t kFlushAt = 64 * 1024;
constexpr size_t kMaxIntEncodedLen = 11;  // "-2147483648"
constexpr size_t kMinLzfLen = 21;         // Redis compresses only strings over 20 bytes
constexpr size_t kListNodeBytes = 8192;   // list-max-listpack-size -2

void PutLE64(char* out, uint64_t v) {
  for (int i = 0; i < 8; i++) out[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

// The bytes of a string that is a canonical 32-bit-or-smaller integer, as
// Redis's rdbTryIntegerEncoding; 0 when the string is not one.
size_t IntegerEncoding(std::string_view s, uint8_t out[5]) {
  int64_t v;
  if (s.empty() || s.size() > kMaxIntEncodedLen || !base::ParseInt64(s, &v)) return 0;
  char text[24];
  size_t n = base::FormatInt64(text, v);
  if (std::string_view(text, n) != s) return 0;
  constexpr uint8_t kEnc = rdb::kLenEncVal << 6;
  auto u = static_cast<uint64_t>(v);
  if (v >= INT8_MIN && v <= INT8_MAX) {
    out[0] = kEnc | rdb::kEncInt8;
    out[1] = u & 0xff;
    return 2;
  }
  if (v >= INT16_MIN && v <= INT16_MAX) {
    out[0] = kEnc | rdb::kEncInt16;
    out[1] = u & 0xff;
    out[2] = (u >> 8) & 0xff;
    return 3;
  }
  if (v >= INT32_MIN && v <= INT32_MAX) {
    out[0] = kEnc | rdb::kEncInt32;
    for (int i = 0; i < 4; i++) out[1 + i] = (u >> (8 * i)) & 0xff;
    return 5;
  }
  return 0;
}

rdb::Type TypeByte(const store::Entry* e, bool listpacks) {
  bool packed = listpacks && e->enc == store::Enc::kPacked;
  switch (e->type) {
    case store::ObjType::kString:
      return rdb::kTypeString;
    case store::ObjType::kList:
      return listpacks ? rdb::kTypeListQuicklist2 : rdb::kTypeList;
    case store::ObjType::kSet:
      return e->enc == store::Enc::kIntSet ? rdb::kTypeSetIntset : rdb::kTypeSet;
    case store::ObjType::kZSet:
      return packed ? rdb::kTypeZSetListpack : rdb::kTypeZSet2;
    case store::ObjType::kHash:
      return packed ? rdb::kTypeHashListpack : rdb::kTypeHash;
  }
  return rdb::kTypeString;
}

// Redis's intset blob: encoding (bytes per member) and count as little-endian
// uint32, then the members, sorted, little-endian at that width.
std::string IntSetBlob(const store::IntSet* is) {
  uint32_t width = is->width();
  uint32_t count = is->size();
  std::string blob(8 + size_t{count} * width, '\0');
  for (int i = 0; i < 4; i++) {
    blob[i] = static_cast<char>((width >> (8 * i)) & 0xff);
    blob[4 + i] = static_cast<char>((count >> (8 * i)) & 0xff);
  }
  char* p = blob.data() + 8;
  for (uint32_t i = 0; i < count; i++, p += width) {
    auto v = static_cast<uint64_t>(is->At(i));
    for (uint32_t b = 0; b < width; b++) p[b] = static_cast<char>((v >> (8 * b)) & 0xff);
  }
  return blob;
}

// Builds a listpack exactly as Redis 7.0 lays it out: [u32 total bytes][u16
// count] entries [0xFF], each entry an encoding+data part followed by its
// length as a reversed varint ("backlen"). Integer-looking strings are stored
// as integers in the narrowest form, as lpAppend does.
class Listpack {
 public:
  Listpack() : buf_(kHeader, '\0') {}
  uint32_t count() const { return count_; }
  size_t bytes() const { return buf_.size() + 1; }

  void Add(std::string_view s) {
    size_t start = buf_.size();
    int64_t v;
    if (!s.empty() && s.size() <= 20 && base::ParseInt64(s, &v)) {
      AddInt(v);
    } else if (s.size() < 64) {
      buf_.push_back(static_cast<char>(0x80 | s.size()));
      buf_.append(s);
    } else if (s.size() < 4096) {
      buf_.push_back(static_cast<char>(0xE0 | (s.size() >> 8)));
      buf_.push_back(static_cast<char>(s.size() & 0xff));
      buf_.append(s);
    } else {
      buf_.push_back(static_cast<char>(0xF0));
      PutLE(s.size(), 4);
      buf_.append(s);
    }
    AddBacklen(buf_.size() - start);
    count_++;
  }

  // Appends the terminator and fills in the header; the builder is spent.
  const std::string& Finish() {
    buf_.push_back(static_cast<char>(0xFF));
    uint64_t total = buf_.size();
    uint64_t n = count_ < 65535 ? count_ : 65535;
    for (int i = 0; i < 4; i++) buf_[i] = static_cast<char>((total >> (8 * i)) & 0xff);
    buf_[4] = static_cast<char>(n & 0xff);
    buf_[5] = static_cast<char>((n >> 8) & 0xff);
    return buf_;
  }

 private:
  static constexpr size_t kHeader = 6;

  void PutLE(uint64_t v, int n) {
    for (int i = 0; i < n; i++) buf_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }

  void AddInt(int64_t v) {
    auto u = static_cast<uint64_t>(v);
    if (v >= 0 && v <= 127) {
      buf_.push_back(static_cast<char>(v));
    } else if (v >= -4096 && v <= 4095) {
      uint64_t w = u & 0x1fff;
      buf_.push_back(static_cast<char>(0xC0 | (w >> 8)));
      buf_.push_back(static_cast<char>(w & 0xff));
    } else if (v >= INT16_MIN && v <= INT16_MAX) {
      buf_.push_back(static_cast<char>(0xF1));
      PutLE(u, 2);
    } else if (v >= -8388608 && v <= 8388607) {
      buf_.push_back(static_cast<char>(0xF2));
      PutLE(u, 3);
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
      buf_.push_back(static_cast<char>(0xF3));
      PutLE(u, 4);
    } else {
      buf_.push_back(static_cast<char>(0xF4));
      PutLE(u, 8);
    }
  }

  void AddBacklen(uint64_t l) {
    if (l <= 127) {
      buf_.push_back(static_cast<char>(l));
      return;
    }
    int n = l < 16383 ? 2 : l < 2097151 ? 3 : l < 268435455 ? 4 : 5;
    for (int i = n - 1; i >= 0; i--) {
      uint8_t b = (l >> (7 * i)) & 127;
      if (i != n - 1) b |= 128;
      buf_.push_back(static_cast<char>(b));
    }
  }

  std::string buf_;
  uint32_t count_ = 0;
};

}  // namespace

AuxFields StandardAuxFields(const RdbAuxInfo& info) {
  AuxFields aux;
  aux.emplace_back("redis-ver", kRdbRedisVersion);
  aux.emplace_back("redis-bits", "64");
  aux.emplace_back("ctime", std::to_string(info.ctime));
  aux.emplace_back("used-mem", std::to_string(info.used_mem));
  if (!info.repl_id.empty()) {
    aux.emplace_back("repl-stream-db", std::to_string(info.repl_stream_db));
    aux.emplace_back("repl-id", info.repl_id);
    aux.emplace_back("repl-offset", std::to_string(info.repl_offset));
  }
  aux.emplace_back("aof-base", info.aof_base ? "1" : "0");
  return aux;
}

RdbWriter::RdbWriter(RdbSink* sink, const RdbWriteOptions& opts) : sink_(sink), opts_(opts) {
  buf_.reserve(kFlushAt + 1024);
}

void RdbWriter::Flush() {
  if (buf_.empty()) return;
  if (status_.ok()) {
    if (opts_.checksum) crc_ = Crc64(crc_, buf_.data(), buf_.size());
    status_ = sink_->Write(buf_.data(), buf_.size());
  }
  buf_.clear();
}

void RdbWriter::PutRaw(const void* data, size_t len) {
  if (!status_.ok()) return;
  buf_.append(static_cast<const char*>(data), len);
  total_ += len;
  if (buf_.size() >= kFlushAt) Flush();
}

void RdbWriter::PutLen(uint64_t len) {
  uint8_t b[9];
  if (len < (1u << 6)) {
    b[0] = static_cast<uint8_t>(len);
    PutRaw(b, 1);
  } else if (len < (1u << 14)) {
    b[0] = static_cast<uint8_t>((rdb::kLen14Bit << 6) | (len >> 8));
    b[1] = static_cast<uint8_t>(len & 0xff);
    PutRaw(b, 2);
  } else if (len <= UINT32_MAX) {
    b[0] = rdb::kLen32;
    for (int i = 0; i < 4; i++) b[1 + i] = static_cast<uint8_t>((len >> (8 * (3 - i))) & 0xff);
    PutRaw(b, 5);
  } else {
    b[0] = rdb::kLen64;
    for (int i = 0; i < 8; i++) b[1 + i] = static_cast<uint8_t>((len >> (8 * (7 - i))) & 0xff);
    PutRaw(b, 9);
  }
}

void RdbWriter::PutString(std::string_view s) {
  uint8_t enc[5];
  if (size_t n = IntegerEncoding(s, enc)) {
    PutRaw(enc, n);
    return;
  }
  if (opts_.compression && s.size() >= kMinLzfLen) {
    // Worth it only when it saves at least four bytes, as Redis requires.
    size_t out_len = s.size() - 4;
    if (lzf_scratch_.size() < out_len + 1) lzf_scratch_.resize(out_len + 1);
    unsigned int clen = lzf_compress(s.data(), static_cast<unsigned int>(s.size()),
                                     lzf_scratch_.data(), static_cast<unsigned int>(out_len));
    if (clen > 0) {
      PutByte((rdb::kLenEncVal << 6) | rdb::kEncLzf);
      PutLen(clen);
      PutLen(s.size());
      PutRaw(lzf_scratch_.data(), clen);
      return;
    }
  }
  PutLen(s.size());
  PutRaw(s.data(), s.size());
}

void RdbWriter::PutBinaryDouble(double d) {
  uint64_t bits;
  std::memcpy(&bits, &d, 8);
  char out[8];
  PutLE64(out, bits);
  PutRaw(out, 8);
}

void RdbWriter::PutMillis(int64_t ms) {
  char out[8];
  PutLE64(out, static_cast<uint64_t>(ms));
  PutRaw(out, 8);
}

void RdbWriter::WriteHeader() {
  char magic[16];
  int n = std::snprintf(magic, sizeof(magic), "REDIS%04d", rdb::kVersion);
  PutRaw(magic, static_cast<size_t>(n));
  for (const auto& [key, value] : opts_.aux) WriteAux(key, value);
}

void RdbWriter::WriteAux(std::string_view key, std::string_view value) {
  PutByte(rdb::kOpAux);
  PutString(key);
  PutString(value);
}

void RdbWriter::WriteDb(const store::Db& db) {
  if (db.size() == 0) return;
  PutByte(rdb::kOpSelectDb);
  PutLen(static_cast<uint64_t>(db.index()));
  PutByte(rdb::kOpResizeDb);
  PutLen(db.size());
  PutLen(db.expires_size());
  db.ForEach([&](const store::Entry* e) {
    if (!status_.ok()) return;
    WriteKey(e->key(), e, e->has_expire() ? db.GetExpire(e) : -1);
  });
}

void RdbWriter::WriteKey(std::string_view key, const store::Entry* e, int64_t expire_ms) {
  if (expire_ms >= 0) {
    PutByte(rdb::kOpExpireTimeMs);
    PutMillis(expire_ms);
  }
  PutByte(TypeByte(e, opts_.listpacks));
  PutString(key);
  PutValue(e);
  if (opts_.key_save_delay_us > 0) usleep(static_cast<useconds_t>(opts_.key_save_delay_us));
}

void RdbWriter::PutValue(const store::Entry* e) {
  using store::Enc;
  using store::ObjType;
  switch (e->type) {
    case ObjType::kString:
      PutString(store::Db::StringValue(e, &int_scratch_));
      return;
    case ObjType::kList: {
      const auto* ql = e->as<store::QuickList>();
      if (!opts_.listpacks) {
        PutLen(ql->size());
        ql->ForEach([&](std::string_view v) { PutString(v); });
        return;
      }
      // Quicklist 2: packed nodes of about list-max-listpack-size -2 (8 KB).
      std::vector<std::string> nodes;
      Listpack lp;
      ql->ForEach([&](std::string_view v) {
        if (lp.count() > 0 &&
            (lp.bytes() + v.size() + 11 > kListNodeBytes || lp.count() >= 65535)) {
          nodes.push_back(lp.Finish());
          lp = Listpack();
        }
        lp.Add(v);
      });
      if (lp.count() > 0) nodes.push_back(lp.Finish());
      PutLen(nodes.size());
      for (const auto& n : nodes) {
        PutLen(rdb::kQuicklistNodePacked);
        PutString(n);
      }
      return;
    }
    case ObjType::kSet:
      if (e->enc == Enc::kIntSet) {
        PutString(IntSetBlob(e->as<store::IntSet>()));
        return;
      }
      PutLen(store::SetSize(e));
      store::SetForEach(e, [&](std::string_view m) { PutString(m); });
      return;
    case ObjType::kHash:
      if (opts_.listpacks && e->enc == Enc::kPacked) {
        Listpack lp;
        store::HashForEach(e, [&](std::string_view f, std::string_view v) {
          lp.Add(f);
          lp.Add(v);
        });
        PutString(lp.Finish());
        return;
      }
      PutLen(store::HashSize(e));
      store::HashForEach(e, [&](std::string_view f, std::string_view v) {
        PutString(f);
        PutString(v);
      });
      return;
    case ObjType::kZSet: {
      if (opts_.listpacks && e->enc == Enc::kPacked) {
        // Ascending (score, member) pairs, scores as d2string text.
        Listpack lp;
        for (store::ZCursor c = store::ZSetAtRank(e->enc, e->v.ptr, 0); c.valid(); c.Next()) {
          lp.Add(c.member());
          lp.Add(store::ZScoreString(c.score()));
        }
        PutString(lp.Finish());
        return;
      }
      PutLen(store::ZSetLength(e->enc, e->v.ptr));
      // Highest score first, as Redis does, so a loader appending to a
      // skiplist in file order inserts at the head.
      size_t n = store::ZSetLength(e->enc, e->v.ptr);
      if (n == 0) return;
      for (store::ZCursor c = store::ZSetAtRank(e->enc, e->v.ptr, n - 1); c.valid(); c.Prev()) {
        PutString(c.member());
        PutBinaryDouble(c.score());
      }
      return;
    }
  }
}

Status RdbWriter::Finish() {
  PutByte(rdb::kOpEof);
  Flush();
  if (!status_.ok()) return status_;
  char out[8];
  PutLE64(out, opts_.checksum ? crc_ : 0);
  total_ += 8;
  status_ = sink_->Write(out, 8);
  return status_;
}

Status WriteRdb(const std::vector<std::unique_ptr<store::Db>>& dbs, const RdbWriteOptions& opts,
                RdbSink* sink) {
  RdbWriter w(sink, opts);
  w.WriteHeader();
  for (const auto& db : dbs) {
    if (!w.status().ok()) break;
    if (db) w.WriteDb(*db);
  }
  return w.Finish();
}

Status SaveRdbFile(const std::string& path, const std::vector<std::unique_ptr<store::Db>>& dbs,
                   const RdbWriteOptions& opts) {
  auto sink = FileSink::Create(path);
  if (!sink.ok()) return sink.status();
  Status s = WriteRdb(dbs, opts, sink->get());
  if (!s.ok()) return s;
  return (*sink)->Commit();
}

}  // namespace cairn::persist

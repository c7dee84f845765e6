// RDB writer: serializes the keyspace into a Redis 7.0 (RDB version 10) byte
// stream through an RdbSink, so one code path serves files, replication
// transfers and AOF preambles.
//
// What is written (all loadable by stock Redis 7.0 and accepted by
// redis-check-rdb): "REDIS0010", AUX fields, then per non-empty db SELECTDB +
// RESIZEDB and its keys (EXPIRETIME_MS before keys with a TTL), EOF and the
// CRC-64 (little-endian; zero when checksums are off). Values: STRING (0) with
// Redis's int8/16/32 and LZF string encodings; lists as QUICKLIST_2 (18) of
// listpack nodes; SET (2), or SET_INTSET (11) for intset-encoded sets; packed
// hashes/zsets as HASH_LISTPACK (16) / ZSET_LISTPACK (17), the others as HASH
// (4) and ZSET_2 (5). With listpacks off, lists are LIST (1) and every hash and
// zset uses the plain type.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "node/base/status.h"
#include "node/persistence/rdb_write_sink.h"
#include "node/store/db.h"
#include "node/store/entry.h"

namespace cairn::persist {

// The version Redis tools expect in the redis-ver AUX field.
inline constexpr char kRdbRedisVersion[] = "7.0.15";
// Cairn's own AUX field naming the writer.
inline constexpr char kRdbCairnVersionField[] = "cairn-ver";

using AuxFields = std::vector<std::pair<std::string, std::string>>;

struct RdbWriteOptions {
  bool compression = true;  // rdbcompression: LZF for strings over 20 bytes
  bool checksum = true;     // rdbchecksum: CRC-64 trailer (zero when off)
  // Redis 7.0's compact forms: lists as QUICKLIST_2 of listpacks, packed
  // hashes and zsets as HASH_LISTPACK / ZSET_LISTPACK. Off: the plain types.
  bool listpacks = true;
  AuxFields aux;  // written in order right after the header
  // rdb-key-save-delay: microseconds slept after each key (tests use it to
  // keep a BGSAVE running; 0 = none).
  int64_t key_save_delay_us = 0;
};

// The state Redis records in its standard AUX fields.
struct RdbAuxInfo {
  int64_t ctime = 0;  // unix seconds
  uint64_t used_mem = 0;
  bool aof_base = false;  // true when the RDB is an AOF preamble
  // Replication (written only when repl_id is non-empty).
  std::string repl_id;
  int64_t repl_offset = 0;
  int repl_stream_db = 0;
};

// redis-ver, redis-bits, ctime, used-mem, [repl-stream-db, repl-id,
// repl-offset], aof-base — in Redis's order.
AuxFields StandardAuxFields(const RdbAuxInfo& info);

// Streaming encoder. Errors are sticky: after a failed sink write every call
// is a no-op and Finish() returns the first error.
class RdbWriter {
 public:
  RdbWriter(RdbSink* sink, const RdbWriteOptions& opts);
  RdbWriter(const RdbWriter&) = delete;
  RdbWriter& operator=(const RdbWriter&) = delete;

  // "REDIS0010" and the option's AUX fields.
  void WriteHeader();
  void WriteAux(std::string_view key, std::string_view value);
  // SELECTDB, RESIZEDB and every key of `db` (nothing when it is empty).
  void WriteDb(const store::Db& db);
  // One key: EXPIRETIME_MS when expire_ms >= 0, type, key, value.
  void WriteKey(std::string_view key, const store::Entry* e, int64_t expire_ms);
  // EOF, checksum, flush; returns the first error of the whole stream.
  Status Finish();

  // Primitive encodings (public for tests and for later AOF/replication use).
  void PutByte(uint8_t b) { PutRaw(&b, 1); }
  void PutRaw(const void* data, size_t len);
  void PutLen(uint64_t len);
  // A string as rdbSaveRawString: int encoding, then LZF, then verbatim.
  void PutString(std::string_view s);
  void PutBinaryDouble(double d);
  void PutMillis(int64_t ms);

  const Status& status() const { return status_; }
  uint64_t bytes_written() const { return total_; }

 private:
  void PutValue(const store::Entry* e);
  void Flush();

  RdbSink* sink_;
  RdbWriteOptions opts_;
  std::string buf_;
  std::string lzf_scratch_;
  std::string int_scratch_;
  uint64_t crc_ = 0;
  uint64_t total_ = 0;
  Status status_;
};

// Writes the whole dataset (dbs in vector order, each under its index()).
Status WriteRdb(const std::vector<std::unique_ptr<store::Db>>& dbs, const RdbWriteOptions& opts,
                RdbSink* sink);
// WriteRdb into `path`, atomically (FileSink).
Status SaveRdbFile(const std::string& path, const std::vector<std::unique_ptr<store::Db>>& dbs,
                   const RdbWriteOptions& opts);

}  // namespace cairn::persist

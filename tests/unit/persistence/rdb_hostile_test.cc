// Hostile RDB input: every truncation and single-bit flip of small files, huge
// length prefixes, lying blob headers, wrong types and long opcode runs must give a
// Corruption status naming the offset (and key), never a crash or a huge allocation.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "node/persistence/crc64.h"
#include "node/persistence/rdb_reader.h"
#include "node/persistence/rdb_write_sink.h"
#include "node/persistence/rdb_writer.h"

namespace cairn::persist {
namespace {

namespace fs = std::filesystem;

using Dbs = std::vector<std::unique_ptr<store::Db>>;

fs::path VectorsDir() {
  if (const char* env = std::getenv("CAIRN_VECTORS")) return fs::path(env) / "rdb";
  for (const char* p : {"../shared/vectors", "../../shared/vectors", "/work/shared/vectors"}) {
    if (fs::exists(fs::path(p) / "rdb")) return fs::path(p) / "rdb";
  }
  return "/work/shared/vectors/rdb";
}

// The fuzz seed corpus, found from this file's own path (tests/unit/persistence/).
fs::path SeedDir() {
  fs::path here = fs::path(__FILE__).parent_path();
  fs::path dir = here / ".." / ".." / "fuzz" / "corpus" / "rdb";
  if (fs::exists(dir)) return dir;
  return fs::path("tests/fuzz/corpus/rdb");
}

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<fs::path> Seeds() {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(SeedDir()))
    if (e.path().extension() == ".rdb") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

RdbLoadOptions Opts(bool verify, bool skip_streams = true) {
  RdbLoadOptions o;
  o.verify_checksum = verify;
  o.skip_streams = skip_streams;
  o.keep_expired = true;
  o.now_ms = 1;
  return o;
}

Status Load(std::string_view data, bool verify = true, bool skip_streams = true) {
  Dbs dbs;
  RdbLoadInfo info;
  return LoadRdbBytes(data, dbs, Opts(verify, skip_streams), &info);
}

// The number after " at offset " in an error message (npos when absent).
size_t OffsetOf(const std::string& msg) {
  size_t at = msg.find(" at offset ");
  if (at == std::string::npos) return std::string::npos;
  return std::strtoull(msg.c_str() + at + 11, nullptr, 10);
}

bool Has(const Status& s, const std::string& part) {
  return s.message().find(part) != std::string::npos;
}

std::string Le(uint64_t v, int n) {
  std::string s;
  for (int i = 0; i < n; i++) s += static_cast<char>(v >> (8 * i));
  return s;
}

// RDB length encodings.
std::string Len6(int n) { return std::string(1, static_cast<char>(n)); }
std::string Len14(int n) {
  return std::string(1, static_cast<char>(0x40 | (n >> 8))) + static_cast<char>(n & 0xff);
}
std::string Len32(uint32_t n) {
  std::string s = "\x80";
  for (int i = 3; i >= 0; i--) s += static_cast<char>(n >> (8 * i));
  return s;
}
std::string Len64(uint64_t n) {
  std::string s = "\x81";
  for (int i = 7; i >= 0; i--) s += static_cast<char>(n >> (8 * i));
  return s;
}
std::string RStr(const std::string& s) { return Len6(static_cast<int>(s.size())) + s; }

// "REDIS0010", SELECTDB 0, `body`, EOF and a correct CRC. The first pair's type byte
// is at offset 11, its key "k" (RStr) at 12, its value at 14.
std::string Rdb(const std::string& body) {
  std::string s = std::string("REDIS0010\xfe\x00", 11) + body + "\xff";
  return s + Le(Crc64(0, s.data(), s.size()), 8);
}

std::string Pair(uint8_t type, const std::string& value, const std::string& key = "k") {
  return std::string(1, static_cast<char>(type)) + RStr(key) + value;
}

std::string Listpack(const std::vector<std::string>& small_strings) {
  std::string body;
  for (const auto& e : small_strings) {
    std::string entry = std::string(1, static_cast<char>(0x80 | e.size())) + e;
    body += entry + static_cast<char>(entry.size());
  }
  return Le(6 + body.size() + 1, 4) + Le(small_strings.size(), 2) + body + "\xff";
}

// A file with one key of every type Redis 7.0 writes, made by Cairn's writer from
// the seed "everything.rdb" in both writer modes.
std::vector<std::string> WrittenFiles() {
  std::vector<std::string> out;
  Dbs dbs;
  RdbLoadInfo info;
  Status s = LoadRdbBytes(ReadAll(SeedDir() / "everything.rdb"), dbs, Opts(true), &info);
  REQUIRE(s.ok());
  for (bool listpacks : {true, false}) {
    RdbWriteOptions w;
    w.listpacks = listpacks;
    StringSink sink;
    REQUIRE(WriteRdb(dbs, w, &sink).ok());
    out.push_back(sink.data());
  }
  return out;
}

}  // namespace

TEST_CASE("rdb hostile: every fuzz seed loads, and every prefix of it fails cleanly",
          "[rdb_hostile]") {
  std::vector<std::pair<std::string, std::string>> files;
  for (const auto& f : Seeds()) files.emplace_back(f.filename().string(), ReadAll(f));
  REQUIRE(files.size() >= 15);
  files.emplace_back("expires.rdb", ReadAll(VectorsDir() / "expires.rdb"));
  for (auto& w : WrittenFiles()) files.emplace_back("written", w);
  for (const auto& [name, data] : files) {
    INFO(name);
    Status whole = Load(data);
    INFO(whole.message());
    REQUIRE(whole.ok());
    for (size_t cut = 0; cut < data.size(); cut++) {
      for (bool skip : {true, false}) {
        Status s = Load(std::string_view(data).substr(0, cut), true, skip);
        INFO("cut " << cut << ": " << s.message());
        REQUIRE_FALSE(s.ok());
        CHECK(s.message().rfind("rdb: ", 0) == 0);
        if (s.code() == StatusCode::kNotSupported) continue;  // a stream, not skipped
        CHECK(s.code() == StatusCode::kCorruption);
        size_t at = OffsetOf(s.message());
        REQUIRE(at != std::string::npos);
        CHECK(at <= cut);
      }
    }
  }
}

TEST_CASE("rdb hostile: single-bit flips fail on the checksum or cleanly", "[rdb_hostile]") {
  std::vector<std::pair<std::string, std::string>> files;
  for (const char* name : {"everything.rdb", "legacy_ziplists_v7.rdb", "legacy_intsets_v6.rdb",
                           "multidb.rdb", "streams.rdb", "list_plain.rdb", "zset_skiplist.rdb"})
    files.emplace_back(name, ReadAll(SeedDir() / name));
  files.emplace_back("expires.rdb", ReadAll(VectorsDir() / "expires.rdb"));
  size_t caught_by_crc = 0, caught_by_parser = 0;
  for (const auto& [name, data] : files) {
    INFO(name);
    REQUIRE(Load(data).ok());
    for (size_t bit = 0; bit < data.size() * 8; bit++) {
      std::string bad = data;
      bad[bit / 8] = static_cast<char>(bad[bit / 8] ^ (1 << (bit % 8)));
      INFO("bit " << bit);
      Status off = Load(bad, /*verify=*/false);  // must simply not crash
      Status on = Load(bad, /*verify=*/true);
      INFO(on.message());
      if (on.ok()) {
        // Only a version digit turned below 5 can pass: such files carry no checksum.
        REQUIRE(bit / 8 >= 5);
        REQUIRE(bit / 8 < 9);
        REQUIRE(bad.compare(5, 4, "0005") < 0);
        continue;
      }
      CHECK(on.message().rfind("rdb: ", 0) == 0);
      if (off.ok()) {
        // Only the checksum can tell this flip from valid data.
        CHECK(Has(on, "checksum mismatch"));
        caught_by_crc++;
      } else {
        caught_by_parser++;
      }
    }
  }
  // Both paths were exercised: flips in lengths and blobs break parsing, flips in
  // string bytes only break the checksum.
  CHECK(caught_by_crc > 100);
  CHECK(caught_by_parser > 100);
}

TEST_CASE("rdb hostile: huge length prefixes are refused before any allocation", "[rdb_hostile]") {
  const uint64_t kHuge = uint64_t{1} << 40;
  struct Case {
    uint8_t type;
    std::string value;
    std::string reason;
  };
  std::vector<Case> cases = {
      {0, Len64(kHuge) + "abc", "string length 1099511627776 runs past the end of the file"},
      {0, Len32(0xffffffff) + "abc", "string length 4294967295 runs past the end of the file"},
      {1, Len64(kHuge) + "\x01x", "list length 1099511627776 larger than the 11 bytes left"},
      {2, Len64(kHuge) + "\x01x", "set size 1099511627776 larger than the 11 bytes left"},
      {4, Len64(kHuge) + "\x01x\x01y", "hash size 1099511627776 larger than the 13 bytes left"},
      // Four members would need 4 * 9 bytes in ZSET_2: refused from the count alone.
      {5, Len6(4) + std::string("\x01m", 2) + Le(0, 8),
       "sorted set size 4 larger than the 19 bytes left"},
      {3,
       Len64(kHuge) + "\x01m\x01"
                      "1",
       "sorted set size 1099511627776 larger than"},
      {14, Len64(kHuge), "quicklist node count 1099511627776 larger than the 9 bytes left"},
      {18, Len32(1000) + "\x02\x01x", "quicklist node count 1000 larger than the 12 bytes left"},
      // LZF: 2 compressed bytes claiming a terabyte, and a compressed length past the end.
      {0, std::string("\xc3\x02", 2) + Len64(kHuge) + "ab", "LZF string claims 1099511627776"},
      {0, std::string("\xc3", 1) + Len32(100000) + Len6(5) + "ab", "LZF string of 100000"},
      // A stream (skipped) whose listpack count and group count are absurd.
      {19, Len64(kHuge), "stream listpack count 1099511627776 larger than"},
  };
  for (const auto& c : cases) {
    std::string file = Rdb(Pair(c.type, c.value));
    Status s = Load(file);
    INFO("type " << int(c.type) << ": " << s.message());
    REQUIRE_FALSE(s.ok());
    CHECK(s.code() == StatusCode::kCorruption);
    CHECK(Has(s, c.reason));
    CHECK(Has(s, " at offset 14, key 'k' (type " + std::to_string(c.type) + ", "));
  }
  // The same lengths inside blobs: an intset whose header claims 2^30 elements of 8
  // bytes (with 16 bytes behind it), a listpack whose 32-bit string runs past its end.
  std::string intset = Le(8, 4) + Le(1u << 30, 4) + Le(1, 8) + Le(2, 8);
  Status is = Load(Rdb(Pair(11, RStr(intset))));
  INFO(is.message());
  CHECK(Has(is,
            "bad intset blob (intset header claims 1073741824 elements of 8 bytes, blob has "
            "16 bytes after it at blob byte 4) at offset 14, key 'k' (type 11, intset)"));
  std::string lp = Listpack({"ab"});
  lp[6] = '\xf0';  // a 32-bit string length whose 4 bytes run into the terminator
  Status l = Load(Rdb(Pair(16, RStr(lp))));
  INFO(l.message());
  CHECK(Has(l, "bad listpack blob (listpack entry past end at blob byte 6) at offset 14"));
}

TEST_CASE("rdb hostile: blob headers that lie are refused naming the blob byte", "[rdb_hostile]") {
  struct Case {
    uint8_t type;
    std::string blob;
    std::string reason;
  };
  std::string lp = Listpack({"f", "v"});
  std::string lp_size = lp;
  lp_size[0] = static_cast<char>(lp.size() + 1);
  std::string lp_count = lp;
  lp_count[4] = 7;
  std::string lp_back = lp;
  lp_back[8] = 9;  // the first entry's back-length
  // Ziplist "a", "b": 10-byte header, entries of 3 bytes, tail at 13.
  std::string zl = Le(17, 4) + Le(13, 4) + Le(2, 2) +
                   std::string(
                       "\x00\x01"
                       "a\x03\x01"
                       "b\xff",
                       7);
  std::string zl_tail = zl;
  zl_tail[4] = 12;
  std::string zl_prev = zl;
  zl_prev[13] = 5;
  std::string zm = std::string(
      "\x01\x01"
      "f\x01\x00v\xff",
      7);
  std::string zm_long = zm;
  zm_long[1] = 100;  // key length past the end
  std::vector<Case> cases = {
      {16, lp_size, "listpack header claims 14 bytes, blob has 13 at blob byte 0"},
      {16, lp_count, "listpack header claims 7 entries, found 2 at blob byte 4"},
      {16, lp_back, "listpack bad back-length at blob byte 8"},
      {16, lp.substr(0, lp.size() - 1), "listpack header claims 13 bytes, blob has 12"},
      {13, zl_tail, "ziplist bad tail offset 12 at blob byte 4"},
      {13, zl_prev, "ziplist bad prevlen 5 at blob byte 13"},
      {9, zm_long, "zipmap entry past end at blob byte 1"},
      {11, Le(3, 4) + Le(1, 4) + "abc", "intset bad encoding 3 at blob byte 0"},
      {11, Le(2, 4) + Le(2, 4) + Le(9, 2) + Le(9, 2),
       "intset not sorted or has duplicates at "
       "blob byte 10"},
      // Wrong blob for the type: a listpack where an intset or ziplist belongs.
      {11, lp, "bad intset blob"},
      {13, lp, "bad ziplist blob"},
      // Right blob, wrong shape: a hash listpack with an odd count, a zset with a bad score.
      {16, Listpack({"f", "v", "g"}), "odd element count 3 in a hash blob"},
      {17, Listpack({"m", "x"}), "bad score 'x' in a sorted set blob"},
  };
  for (const auto& c : cases) {
    Status s = Load(Rdb(Pair(c.type, RStr(c.blob))));
    INFO("type " << int(c.type) << ": " << s.message());
    REQUIRE_FALSE(s.ok());
    CHECK(s.code() == StatusCode::kCorruption);
    CHECK(Has(s, c.reason));
    CHECK(Has(s, " at offset 14, key 'k' (type " + std::to_string(c.type)));
  }
  // The unmodified blobs load, so each failure above is the lie itself.
  CHECK(Load(Rdb(Pair(16, RStr(lp)))).ok());
  CHECK(Load(Rdb(Pair(13, RStr(zl)))).ok());
  CHECK(Load(Rdb(Pair(9, RStr(zm)))).ok());
}

TEST_CASE("rdb hostile: wrong types, bad encodings and binary keys", "[rdb_hostile]") {
  Status unknown = Load(Rdb(Pair(8, RStr("v"))));
  CHECK(Has(unknown, "unknown value type 8 at offset 11, key 'k' (type 8, unknown)"));
  Status high = Load(Rdb(Pair(200, RStr("v"))));
  CHECK(Has(high, "unknown value type 200 at offset 11"));
  // A string encoding (0xc0 | 5) where a list length belongs, and as a string.
  Status enc_len = Load(Rdb(Pair(1, "\xc5")));
  CHECK(Has(enc_len, "string encoding where a length belongs at offset 14, key 'k'"));
  Status enc_str = Load(Rdb(Pair(0, "\xc5")));
  CHECK(Has(enc_str, "unknown string encoding 5 at offset 14"));
  Status bad_len = Load(Rdb(Pair(1, "\x85")));
  CHECK(Has(bad_len, "bad length encoding 133 at offset 14"));
  // A quicklist node with container 3.
  Status container = Load(Rdb(Pair(18, Len6(1) + Len6(3) + RStr("x"))));
  CHECK(Has(container, "bad quicklist container 3 at offset 15, key 'k' (type 18, quicklist)"));
  // Text and binary NaN scores.
  Status nan_text = Load(Rdb(Pair(3, Len6(1) + RStr("m") + "\xfd")));
  CHECK(Has(nan_text, "NaN score at offset 17"));
  Status junk_text = Load(Rdb(Pair(3, Len6(1) + RStr("m") +
                                          "\x03"
                                          "1x2")));
  CHECK(Has(junk_text, "bad score '1x2' at offset 17"));
  Status nan_bin = Load(Rdb(Pair(5, Len6(1) + RStr("m") + Le(0x7ff8000000000000ull, 8))));
  CHECK(Has(nan_bin, "NaN score at offset 17"));
  // A binary, newline-carrying key is escaped in the message.
  Status bin_key = Load(Rdb(Pair(1, Len64(1ull << 40), std::string("a\n\xff'", 4))));
  CHECK(Has(bin_key, "key 'a\\x0a\\xff\\x27'"));
  // A truncated key names what was being read, not a half-read key.
  Status in_key =
      Load(std::string("REDIS0010\x00\x05"
                       "ab",
                       13));
  CHECK(Has(in_key,
            "string length 5 runs past the end of the file (2 bytes left) at offset 10, "
            "reading the key of a value (type 0, string)"));
  // Duplicates name the member and point at the pair.
  Status dup = Load(Rdb(Pair(2, Len6(2) + RStr("a") + RStr("a"), "s")));
  CHECK(Has(dup, "duplicate set member 'a' at offset 11, key 's' (type 2, set)"));
  Status dup_key = Load(Rdb(Pair(0, RStr("v")) + Pair(0, RStr("w"))));
  CHECK(Has(dup_key, "duplicate key at offset 16, key 'k'"));
  Status db = Load(Rdb(std::string("\xfe\x40\x10", 3)));
  CHECK(Has(db, "SELECTDB 16 out of range (16 databases) at offset 11"));
  Status crc = Load(Rdb(Pair(0, RStr("v"))).substr(0, 16) + "\xff" + Le(12345, 8));
  INFO(crc.message());
  CHECK(Has(crc, "checksum mismatch at offset 17"));
}

TEST_CASE("rdb hostile: long runs and nested encodings stay iterative", "[rdb_hostile]") {
  // 200k opcodes before one key: the loader loops, it never recurses.
  std::string run;
  for (int i = 0; i < 100000; i++) run += std::string("\xf9\x05\xf8\x01", 4);
  Status many = Load(Rdb(run + Pair(0, RStr("v"))));
  INFO(many.message());
  CHECK(many.ok());
  // A quicklist node whose payload is itself a quicklist value, and a listpack whose
  // element is a listpack: the outer decoders treat inner bytes as plain data or fail.
  std::string inner = Len6(1) + Len6(2) + RStr(Listpack({"x"}));
  Status nested = Load(Rdb(Pair(18, Len6(1) + Len6(2) + RStr(inner))));
  CHECK(Has(nested, "bad listpack blob"));
  Status lp_in_lp = Load(Rdb(Pair(18, Len6(1) + Len6(2) + RStr(Listpack({Listpack({"y"})})))));
  CHECK(lp_in_lp.ok());
  // 10k single-byte set members: a big but honest count loads.
  std::string members;
  for (int i = 0; i < 10000; i++) members += RStr("m" + std::to_string(i));
  Status big = Load(Rdb(Pair(2, Len14(10000) + members)));
  INFO(big.message());
  CHECK(big.ok());
}

}  // namespace cairn::persist

// Hash containers: listpack -> hashtable conversion at the entry and value
// limits, a seeded random model check against std::map, scan coverage across a
// growing table, clone/digest/memory hooks.
#include "node/store/hash_type.h"

#include <catch2/catch.hpp>
#include <cstdio>
#include <map>
#include <random>
#include <set>
#include <string>

#include "node/base/memory.h"
#include "node/store/db.h"
#include "node/store/digest.h"

using namespace cairn::store;

namespace {

std::map<std::string, std::string> Contents(const Entry* e) {
  std::map<std::string, std::string> out;
  HashForEach(e, [&](std::string_view f, std::string_view v) { out.emplace(f, v); });
  return out;
}

Entry* NewHash(Db& db, std::string_view key) {
  return db.AddContainer(key, ObjType::kHash, Enc::kPacked, HashCreate());
}

}  // namespace

TEST_CASE("Hash converts to a table past the limits") {
  InitHashSeed();
  Db db(0);
  HashLimits lim;
  lim.max_entries = 3;
  lim.max_value = 4;
  Entry* e = NewHash(db, "h");

  SECTION("entry count") {
    for (int i = 0; i < 3; i++) REQUIRE(HashSet(e, "f" + std::to_string(i), "v", lim));
    REQUIRE(e->enc == Enc::kPacked);
    REQUIRE_FALSE(HashSet(e, "f0", "w", lim));  // update, not growth
    REQUIRE(e->enc == Enc::kPacked);
    REQUIRE(HashSet(e, "f3", "v", lim));
    REQUIRE(e->enc == Enc::kTable);
    REQUIRE(HashSize(e) == 4);
    std::string_view v;
    REQUIRE(HashGet(e, "f0", &v));
    REQUIRE(v == "w");
  }
  SECTION("value length") {
    HashSet(e, "a", "1234", lim);
    REQUIRE(e->enc == Enc::kPacked);
    HashSet(e, "b", "12345", lim);
    REQUIRE(e->enc == Enc::kTable);
  }
  SECTION("field length") {
    HashSet(e, "abcde", "1", lim);
    REQUIRE(e->enc == Enc::kTable);
  }
  SECTION("arguments are checked before writing") {
    std::string_view args[] = {"x", "toolong"};
    HashConvertForArgs(e, args, 2, lim);
    REQUIRE(e->enc == Enc::kTable);
  }
  SECTION("deleting keeps the encoding") {
    for (int i = 0; i < 5; i++) HashSet(e, "f" + std::to_string(i), "v", lim);
    for (int i = 0; i < 4; i++) REQUIRE(HashDelete(e, "f" + std::to_string(i)));
    REQUIRE_FALSE(HashDelete(e, "f0"));
    REQUIRE(e->enc == Enc::kTable);
    REQUIRE(HashSize(e) == 1);
  }
}

TEST_CASE("Hash operations match a std::map model (seeded)") {
  InitHashSeed();
  const uint32_t seed = 777;
  std::mt19937 rng(seed);
  INFO("seed " << seed);
  Db db(0);
  HashLimits lim;
  lim.max_entries = 30;
  lim.max_value = 10;
  Entry* e = NewHash(db, "h");
  std::map<std::string, std::string> model;
  for (int step = 0; step < 20000; step++) {
    std::string f = "f" + std::to_string(rng() % 120);
    std::string v(rng() % (rng() % 40 == 0 ? 20 : 8), static_cast<char>('a' + rng() % 26));
    int r = static_cast<int>(rng() % 100);
    if (r < 50) {
      bool fresh = model.count(f) == 0;
      model[f] = v;
      REQUIRE(HashSet(e, f, v, lim) == fresh);
    } else if (r < 90) {
      REQUIRE(HashDelete(e, f) == (model.erase(f) == 1));
    } else {
      std::string_view got;
      bool found = HashGet(e, f, &got);
      REQUIRE(found == (model.count(f) == 1));
      if (found) REQUIRE(got == model[f]);
    }
    REQUIRE(HashSize(e) == model.size());
    if (step % 991 == 0) REQUIRE(Contents(e) == model);
  }
  REQUIRE(Contents(e) == model);
}

TEST_CASE("Hash scan returns every field while the table grows") {
  InitHashSeed();
  Db db(0);
  HashLimits lim;
  lim.max_entries = 8;
  Entry* e = NewHash(db, "h");
  for (int i = 0; i < 300; i++) HashSet(e, "a" + std::to_string(i), std::to_string(i), lim);
  REQUIRE(e->enc == Enc::kTable);
  std::set<std::string> seen;
  size_t cursor = 0;
  int round = 0;
  do {
    cursor = HashScan(e, cursor, [&](std::string_view f, std::string_view) { seen.emplace(f); });
    if (round < 12)
      for (int k = 0; k < 25; k++) HashSet(e, "b" + std::to_string(round * 25 + k), "x", lim);
    round++;
  } while (cursor != 0);
  for (int i = 0; i < 300; i++) REQUIRE(seen.count("a" + std::to_string(i)) == 1);
}

TEST_CASE("Packed hash scan returns everything with cursor 0") {
  Db db(0);
  Entry* e = NewHash(db, "h");
  HashLimits lim;
  HashSet(e, "a", "1", lim);
  HashSet(e, "b", "2", lim);
  int n = 0;
  REQUIRE(HashScan(e, 0, [&](std::string_view, std::string_view) { n++; }) == 0);
  REQUIRE(n == 2);
}

TEST_CASE("Hash clone, digest and memory hooks") {
  InitHashSeed();
  Db db(0);
  HashLimits lim;
  Entry* a = NewHash(db, "a");
  Entry* b = NewHash(db, "b");
  for (int i = 0; i < 5; i++) HashSet(a, "f" + std::to_string(i), "v" + std::to_string(i), lim);
  for (int i = 4; i >= 0; i--) HashSet(b, "f" + std::to_string(i), "v" + std::to_string(i), lim);
  HashConvertToTable(b);
  unsigned char da[20] = {0}, dbg[20] = {0}, expect[20] = {0};
  HashDigest(a->enc, a->v.ptr, da);
  HashDigest(b->enc, b->v.ptr, dbg);
  REQUIRE(DigestHex(da) == DigestHex(dbg));
  for (int i = 0; i < 5; i++) {
    unsigned char pair[20] = {0};
    MixDigest(pair, "f" + std::to_string(i));
    MixDigest(pair, "v" + std::to_string(i));
    XorDigest(expect, std::string_view(reinterpret_cast<const char*>(pair), 20));
  }
  REQUIRE(DigestHex(da) == DigestHex(expect));
  for (Entry* e : {a, b}) {
    void* c = HashClone(e->enc, e->v.ptr);
    REQUIRE(HashLength(e->enc, c) == 5);
    REQUIRE(HashMemory(e->enc, e->v.ptr) > 0);
    HashFree(e->enc, c);
  }
  HashSet(b, "f1", "a-much-longer-value", lim);  // node reallocated and relinked
  std::string_view v;
  REQUIRE(HashGet(b, "f1", &v));
  REQUIRE(v == "a-much-longer-value");
}

TEST_CASE("Memory per field of a 5-field hash") {
  HashLimits lim;
  for (int table = 0; table < 2; table++) {
    size_t before = cairn::base::UsedMemory();
    Enc enc = Enc::kPacked;
    Entry fake{};
    fake.type = ObjType::kHash;
    fake.enc = enc;
    fake.v.ptr = HashCreate();
    if (table) HashConvertToTable(&fake);
    for (int i = 1; i <= 5; i++)
      HashSet(&fake, "field" + std::to_string(i), "value" + std::to_string(i), lim);
    size_t used = cairn::base::UsedMemory() - before;
    std::printf("hash of 5 fields (6-byte field, 6-byte value, %s): %zu bytes, %.1f per field\n",
                table ? "hashtable" : "listpack", used, used / 5.0);
    REQUIRE(used < (table ? 600u : 200u));
    HashFree(fake.enc, fake.v.ptr);
  }
}

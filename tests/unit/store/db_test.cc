// Tests of store::Db, the keyspace: string encodings chosen by SetString, lazy
// and active expiry on a fake clock, Rename/MoveTo, SwapContents, Clear, Scan
// and RandomKey.
#include "node/store/db.h"

#include <catch2/catch.hpp>
#include <set>
#include <string>
#include <vector>

#include "node/base/clock.h"
#include "node/store/hash_table.h"

namespace cairn::store {
namespace {

constexpr int64_t kT0 = 1'700'000'000'000;  // fixed "now" for expiry tests

// Freezes the wall clock and restores clock and keyspace hooks afterwards, so
// tests stay independent in random order.
struct FakeTime {
  explicit FakeTime(int64_t ms) {
    InitHashSeed();
    base::SetFakeWallMs(ms);
  }
  ~FakeTime() {
    base::SetFakeWallMs(std::nullopt);
    Hooks() = KeyspaceHooks{};
  }
  void Set(int64_t ms) { base::SetFakeWallMs(ms); }
};

std::string Str(const Entry* e) {
  std::string scratch;
  return std::string(Db::StringValue(e, &scratch));
}

std::set<std::string> ScanAll(Db& db) {
  std::set<std::string> seen;
  size_t cursor = 0;
  do {
    cursor = db.Scan(cursor, [&](Entry* e) { seen.emplace(e->key()); });
  } while (cursor != 0);
  return seen;
}

}  // namespace

TEST_CASE("SetString picks Redis's int/embstr/raw encodings", "[db]") {
  FakeTime clock(kT0);
  Db db(0);
  struct Case {
    std::string value;
    Enc enc;
    const char* name;
  };
  std::vector<Case> cases = {
      {"123", Enc::kInt, "int"},
      {"-42", Enc::kInt, "int"},
      {"0", Enc::kInt, "int"},
      {"9223372036854775807", Enc::kInt, "int"},
      {"-9223372036854775808", Enc::kInt, "int"},
      {"9223372036854775808", Enc::kInline, "embstr"},  // overflows int64
      {"0123", Enc::kInline, "embstr"},                 // leading zero
      {"+1", Enc::kInline, "embstr"},
      {" 1", Enc::kInline, "embstr"},
      {"-0", Enc::kInline, "embstr"},
      {"", Enc::kInline, "embstr"},
      {"hello", Enc::kInline, "embstr"},
      {std::string(44, 'x'), Enc::kInline, "embstr"},
      {std::string(45, 'x'), Enc::kRaw, "raw"},
      {std::string(1000, 'y'), Enc::kRaw, "raw"},
  };
  for (const auto& c : cases) {
    INFO("value '" << c.value << "'");
    Entry* e = db.SetString("k", c.value);
    CHECK(e->type == ObjType::kString);
    CHECK(e->enc == c.enc);
    CHECK(std::string(EncodingName(e->type, e->enc, e->inline_len)) == c.name);
    CHECK(Str(e) == c.value);
    CHECK(Db::ValueLength(e) == c.value.size());
    CHECK(db.Lookup("k") == e);
  }
  CHECK(db.size() == 1);
}

TEST_CASE("SetString drops the TTL unless asked to keep it", "[db]") {
  FakeTime clock(kT0);
  Db db(0);
  Entry* e = db.SetString("k", "v1");
  db.SetExpire(e, kT0 + 5000);
  CHECK(db.expires_size() == 1);

  e = db.SetString("k", "v2", /*keep_ttl=*/true);
  CHECK(db.GetExpire(e) == kT0 + 5000);
  CHECK(Str(e) == "v2");

  e = db.SetString("k", std::string(100, 'z'));
  CHECK(db.GetExpire(e) == -1);
  CHECK(db.expires_size() == 0);
  CHECK(!e->has_expire());
}

TEST_CASE("Expired keys vanish lazily on lookup", "[db][expire]") {
  FakeTime clock(kT0);
  Db db(3);
  std::vector<std::pair<int, std::string>> expired;
  Hooks().on_expired = [&](int idx, std::string_view k) { expired.emplace_back(idx, k); };
  uint64_t expired_before = Stats().expired;

  Entry* e = db.SetString("k", "v");
  db.SetExpire(e, kT0 + 1000);
  CHECK(db.GetExpire("k") == kT0 + 1000);

  SECTION("alive up to and including the expiry millisecond") {
    clock.Set(kT0 + 1000);
    CHECK(db.Lookup("k") != nullptr);
    CHECK(expired.empty());
  }
  SECTION("gone one millisecond later, with stats and hook") {
    clock.Set(kT0 + 1001);
    CHECK(db.FindRaw("k") != nullptr);
    CHECK(db.LookupNoTouch("k") == nullptr);
    CHECK(db.FindRaw("k") == nullptr);
    CHECK(db.size() == 0);
    CHECK(db.expires_size() == 0);
    CHECK(Stats().expired == expired_before + 1);
    REQUIRE(expired.size() == 1);
    CHECK(expired[0] == std::make_pair(3, std::string("k")));
  }
  SECTION("a replica hides the key but waits for the master's DEL") {
    Hooks().is_replica = true;
    clock.Set(kT0 + 2000);
    CHECK(db.Lookup("k") == nullptr);
    CHECK(db.FindRaw("k") != nullptr);
    CHECK(db.size() == 1);
    CHECK(expired.empty());
  }
  SECTION("TTLs are not enforced while applying the master's stream") {
    Hooks().applying_replication = true;
    clock.Set(kT0 + 2000);
    CHECK(db.Lookup("k") != nullptr);
  }
}

TEST_CASE("SetExpire updates, RemoveExpire clears", "[db][expire]") {
  FakeTime clock(kT0);
  Db db(0);
  Entry* e = db.SetString("k", "v");
  CHECK(db.GetExpire(e) == -1);
  CHECK(!db.RemoveExpire(e));
  db.SetExpire(e, kT0 + 10);
  db.SetExpire(e, kT0 + 20);
  CHECK(db.expires_size() == 1);
  CHECK(db.GetExpire(e) == kT0 + 20);
  CHECK(db.RemoveExpire(e));
  CHECK(db.GetExpire(e) == -1);
  CHECK(db.expires_size() == 0);
  clock.Set(kT0 + 1'000'000);
  CHECK(db.Lookup("k") != nullptr);
}

TEST_CASE("ActiveExpire deletes every due key and keeps the rest", "[db][expire]") {
  FakeTime clock(kT0);
  Db db(0);
  for (int i = 0; i < 200; i++) {
    Entry* e = db.SetString("k" + std::to_string(i), "v");
    // Even keys are due at kT0+100, odd ones an hour later.
    db.SetExpire(e, kT0 + (i % 2 == 0 ? 100 : 3'600'000));
  }
  db.SetString("persistent", "v");
  clock.Set(kT0 + 101);
  size_t total = 0;
  for (int pass = 0; pass < 50 && db.expires_size() > 100; pass++) total += db.ActiveExpire(1000);
  CHECK(total == 100);
  CHECK(db.size() == 101);
  CHECK(db.expires_size() == 100);
  for (int i = 0; i < 200; i++) {
    INFO(i);
    CHECK((db.FindRaw("k" + std::to_string(i)) != nullptr) == (i % 2 == 1));
  }
  CHECK(db.avg_ttl_ms() > 0);

  SECTION("a replica expires nothing actively") {
    Hooks().is_replica = true;
    clock.Set(kT0 + 7'200'000);
    CHECK(db.ActiveExpire(1000) == 0);
    CHECK(db.size() == 101);
  }
}

TEST_CASE("Delete removes value and TTL", "[db]") {
  FakeTime clock(kT0);
  Db db(0);
  Entry* e = db.SetString("k", std::string(100, 'r'));
  db.SetExpire(e, kT0 + 100);
  CHECK(db.Delete("k"));
  CHECK(!db.Delete("k"));
  CHECK(db.size() == 0);
  CHECK(db.expires_size() == 0);
}

TEST_CASE("Rename moves value and TTL and replaces the target", "[db]") {
  FakeTime clock(kT0);
  Db db(0);
  Entry* src = db.SetString("src", "hello");
  db.SetExpire(src, kT0 + 500);

  SECTION("onto a new name") {
    REQUIRE(db.Rename("src", "dst"));
    CHECK(db.Lookup("src") == nullptr);
    Entry* d = db.Lookup("dst");
    REQUIRE(d != nullptr);
    CHECK(Str(d) == "hello");
    CHECK(d->key() == "dst");
    CHECK(db.GetExpire(d) == kT0 + 500);
    CHECK(db.size() == 1);
    CHECK(db.expires_size() == 1);
  }
  SECTION("over an existing key with its own TTL") {
    Entry* old = db.SetString("dst", std::string(60, 'o'));
    db.SetExpire(old, kT0 + 99);
    db.RemoveExpire(db.Lookup("src"));
    REQUIRE(db.Rename("src", "dst"));
    Entry* d = db.Lookup("dst");
    CHECK(Str(d) == "hello");
    CHECK(db.GetExpire(d) == -1);
    CHECK(db.size() == 1);
    CHECK(db.expires_size() == 0);
  }
  SECTION("raw and int values survive") {
    db.SetString("big", std::string(300, 'b'));
    db.SetString("num", "12345");
    REQUIRE(db.Rename("big", "big2"));
    REQUIRE(db.Rename("num", "num2"));
    CHECK(Str(db.Lookup("big2")) == std::string(300, 'b'));
    CHECK(db.Lookup("big2")->enc == Enc::kRaw);
    CHECK(Str(db.Lookup("num2")) == "12345");
    CHECK(db.Lookup("num2")->enc == Enc::kInt);
  }
  SECTION("to itself is a no-op") {
    REQUIRE(db.Rename("src", "src"));
    Entry* s = db.Lookup("src");
    REQUIRE(s != nullptr);
    CHECK(Str(s) == "hello");
    CHECK(db.GetExpire(s) == kT0 + 500);
  }
  SECTION("a missing source fails") { CHECK(!db.Rename("nope", "x")); }
}

TEST_CASE("MoveTo carries the entry and its TTL to another db", "[db]") {
  FakeTime clock(kT0);
  Db a(0), b(1);
  Entry* e = a.SetString("k", std::string(50, 'm'));
  a.SetExpire(e, kT0 + 700);
  a.SetString("other", "x");

  Entry* moved = a.MoveTo("k", &b);
  REQUIRE(moved != nullptr);
  CHECK(a.FindRaw("k") == nullptr);
  CHECK(a.size() == 1);
  CHECK(a.expires_size() == 0);
  CHECK(b.Lookup("k") == moved);
  CHECK(Str(moved) == std::string(50, 'm'));
  CHECK(b.GetExpire(moved) == kT0 + 700);
  CHECK(b.expires_size() == 1);
  CHECK(a.MoveTo("missing", &b) == nullptr);

  clock.Set(kT0 + 701);
  CHECK(b.Lookup("k") == nullptr);
  CHECK(b.size() == 0);
}

TEST_CASE("SwapContents exchanges keys and TTLs, not indexes", "[db]") {
  FakeTime clock(kT0);
  Db a(0), b(5);
  a.SetExpire(a.SetString("x", "1"), kT0 + 100);
  a.SetString("y", "2");
  b.SetString("z", "3");
  a.SwapContents(b);
  CHECK(a.index() == 0);
  CHECK(b.index() == 5);
  CHECK(a.size() == 1);
  CHECK(Str(a.Lookup("z")) == "3");
  CHECK(b.size() == 2);
  CHECK(b.GetExpire("x") == kT0 + 100);
  CHECK(b.expires_size() == 1);
  CHECK(a.expires_size() == 0);
  clock.Set(kT0 + 101);
  CHECK(b.Lookup("x") == nullptr);
}

TEST_CASE("Clear empties keys and TTLs and reports the count", "[db]") {
  FakeTime clock(kT0);
  Db db(0);
  for (int i = 0; i < 40; i++) {
    Entry* e = db.SetString("k" + std::to_string(i), std::string(i * 3, 'c'));
    if (i % 4 == 0) db.SetExpire(e, kT0 + 1000);
  }
  CHECK(db.Clear() == 40);
  CHECK(db.size() == 0);
  CHECK(db.expires_size() == 0);
  CHECK(db.Clear() == 0);
  // Still usable afterwards.
  db.SetString("again", "1");
  CHECK(db.Lookup("again") != nullptr);
}

TEST_CASE("Scan visits every key, even when the table grows mid-scan", "[db][scan]") {
  FakeTime clock(kT0);
  Db db(0);
  std::set<std::string> want;
  for (int i = 0; i < 500; i++) {
    want.insert("key:" + std::to_string(i));
    db.SetString("key:" + std::to_string(i), "v");
  }
  CHECK(ScanAll(db) == want);

  std::set<std::string> seen;
  size_t cursor = 0;
  int step = 0;
  do {
    cursor = db.Scan(cursor, [&](Entry* e) { seen.emplace(e->key()); });
    // Grow the table (and trigger rehashing) during the first calls; growing
    // forever would outrun the cursor.
    if (step++ < 60 && step % 3 == 0) {
      for (int j = 0; j < 50; j++) db.SetString("new:" + std::to_string(step * 100 + j), "v");
    }
  } while (cursor != 0);
  for (const auto& k : want) {
    INFO(k);
    CHECK(seen.count(k) == 1);
  }

  Db empty(1);
  CHECK(empty.Scan(0, [](Entry*) { FAIL("empty db visited a key"); }) == 0);
}

TEST_CASE("RandomKey skips and deletes expired keys", "[db]") {
  FakeTime clock(kT0);
  Db db(0);
  CHECK(db.RandomKey() == nullptr);
  for (int i = 0; i < 300; i++) db.SetExpire(db.SetString("e" + std::to_string(i), "v"), kT0 + 1);
  db.SetString("live", "v");
  clock.Set(kT0 + 2);
  Entry* e = db.RandomKey();
  REQUIRE(e != nullptr);
  CHECK(e->key() == "live");

  SECTION("all expired: nothing left") {
    db.Delete("live");
    CHECK(db.RandomKey() == nullptr);
    CHECK(db.size() == 0);
  }
}

TEST_CASE("CloneEntry deep-copies strings", "[db]") {
  FakeTime clock(kT0);
  Db db(0);
  for (std::string v : {std::string("77"), std::string("short"), std::string(80, 'q')}) {
    Entry* e = db.SetString("k", v);
    Entry* c = Db::CloneEntry(e, "copy");
    CHECK(c->key() == "copy");
    CHECK(c->enc == e->enc);
    CHECK(Str(c) == v);
    Db::FreeEntry(c);
  }
}

}  // namespace cairn::store

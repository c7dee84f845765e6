// HashTable: insert/find/remove while incremental rehashing is under way, Redis's
// SCAN guarantee (every element present for the whole scan is returned) while the
// table grows and shrinks between calls, Random() coverage, Relink and Clear.
#include "node/store/hash_table.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

using cairn::store::HashTable;

namespace {

struct TNode {
  TNode* next = nullptr;
  std::string key;
};

struct TTraits {
  static std::string_view Key(const TNode* n) { return n->key; }
};

using Table = HashTable<TNode, TTraits>;

// Owns the nodes of a table for the test.
struct Fixture {
  Fixture() { cairn::store::InitHashSeed(); }
  ~Fixture() {
    t.Clear([](TNode*) {});
  }
  TNode* Add(const std::string& k) {
    auto& n = nodes[k];
    REQUIRE(n == nullptr);
    n = std::make_unique<TNode>();
    n->key = k;
    t.Insert(n.get());
    return n.get();
  }
  void Del(const std::string& k) {
    TNode* n = t.Remove(k);
    REQUIRE(n != nullptr);
    REQUIRE(n->key == k);
    nodes.erase(k);
  }
  std::set<std::string> ScanAll(size_t* calls = nullptr) {
    std::set<std::string> seen;
    size_t cursor = 0, n = 0;
    do {
      cursor = t.Scan(cursor, [&](TNode* node) { seen.insert(node->key); });
      n++;
    } while (cursor != 0);
    if (calls) *calls = n;
    return seen;
  }
  Table t;
  std::map<std::string, std::unique_ptr<TNode>> nodes;
};

std::string K(int i) { return "key:" + std::to_string(i); }

}  // namespace

TEST_CASE("empty table", "[hash_table]") {
  Fixture f;
  CHECK(f.t.size() == 0);
  CHECK(f.t.Find("x") == nullptr);
  CHECK(f.t.Remove("x") == nullptr);
  CHECK(f.t.Random() == nullptr);
  CHECK(f.t.Scan(0, [](TNode*) { FAIL("visited a node of an empty table"); }) == 0);
}

TEST_CASE("insert, find and remove across many rehashes", "[hash_table]") {
  Fixture f;
  bool saw_rehash = false;
  for (int i = 0; i < 20000; i++) {
    f.Add(K(i));
    saw_rehash |= f.t.rehashing();
    if (i % 97 == 0) {
      for (int j = 0; j <= i; j += 1 + i / 50) {
        TNode* n = f.t.Find(K(j));
        REQUIRE(n != nullptr);
        REQUIRE(n->key == K(j));
      }
      REQUIRE(f.t.Find(K(i + 1)) == nullptr);
    }
  }
  CHECK(saw_rehash);
  CHECK(f.t.size() == 20000);
  CHECK(f.t.buckets() >= 20000);
  // Remove every other key while rehashing keeps going.
  for (int i = 0; i < 20000; i += 2) f.Del(K(i));
  CHECK(f.t.size() == 10000);
  for (int i = 0; i < 20000; i++) {
    TNode* n = f.t.Find(K(i));
    REQUIRE((n != nullptr) == (i % 2 == 1));
  }
  // Shrinking keeps every element reachable.
  for (int i = 1; i < 20000; i += 2) {
    if (i % 1000 != 1) f.Del(K(i));
  }
  CHECK(f.t.size() == 20);
  f.t.ShrinkIfSparse();
  while (f.t.Rehash(100)) {
  }
  CHECK(f.t.buckets() < 1000);
  for (int i = 1; i < 20000; i += 1000) REQUIRE(f.t.Find(K(i)) != nullptr);
  CHECK(f.ScanAll().size() == 20);
}

TEST_CASE("a full scan returns every element exactly as stored", "[hash_table]") {
  Fixture f;
  for (int i = 0; i < 3000; i++) f.Add(K(i));
  auto seen = f.ScanAll();
  CHECK(seen.size() == 3000);
  size_t visits = 0;
  f.t.ForEach([&](TNode*) { visits++; });
  CHECK(visits == 3000);
}

TEST_CASE("scan guarantee while the table grows mid-scan", "[hash_table]") {
  auto seed = GENERATE(1, 7, 99);
  Fixture f;
  std::mt19937 rng(seed);
  for (int i = 0; i < 500; i++) f.Add(K(i));
  std::set<std::string> seen;
  size_t cursor = 0;
  int next_key = 500;
  int calls = 0;
  do {
    cursor = f.t.Scan(cursor, [&](TNode* n) { seen.insert(n->key); });
    // Grow by a random amount between calls, sometimes a lot (forcing resizes
    // while a rehash from the previous resize may still be under way).
    // Growth is capped, or a scan visiting one bucket per call could chase an
    // ever-doubling table forever.
    int add = next_key < 20000 ? static_cast<int>(rng() % (calls % 7 == 0 ? 400 : 20)) : 0;
    for (int i = 0; i < add; i++) f.Add(K(next_key++));
    calls++;
    REQUIRE(calls < 1000000);
  } while (cursor != 0);
  for (int i = 0; i < 500; i++) REQUIRE(seen.count(K(i)) == 1);
}

TEST_CASE("scan guarantee while the table shrinks mid-scan", "[hash_table]") {
  auto seed = GENERATE(3, 11, 2024);
  Fixture f;
  std::mt19937 rng(seed);
  for (int i = 0; i < 8000; i++) f.Add(K(i));
  while (f.t.Rehash(100)) {
  }
  // Keys 0..99 stay for the whole scan; others are removed while scanning.
  std::vector<int> doomed;
  for (int i = 100; i < 8000; i++) doomed.push_back(i);
  std::shuffle(doomed.begin(), doomed.end(), rng);
  std::set<std::string> seen;
  size_t cursor = 0;
  int calls = 0;
  do {
    cursor = f.t.Scan(cursor, [&](TNode* n) { seen.insert(n->key); });
    for (int i = 0; i < 200 && !doomed.empty(); i++) {
      f.Del(K(doomed.back()));
      doomed.pop_back();
    }
    f.t.ShrinkIfSparse();
    if (rng() % 2) f.t.Rehash(static_cast<int>(rng() % 5));
    calls++;
    REQUIRE(calls < 1000000);
  } while (cursor != 0);
  for (int i = 0; i < 100; i++) REQUIRE(seen.count(K(i)) == 1);
}

TEST_CASE("scan guarantee with growth and shrink alternating", "[hash_table]") {
  Fixture f;
  std::mt19937 rng(5);
  for (int i = 0; i < 64; i++) f.Add(K(i));
  std::set<std::string> seen;
  std::vector<int> extra;
  int next_key = 64;
  size_t cursor = 0;
  int calls = 0;
  do {
    cursor = f.t.Scan(cursor, [&](TNode* n) { seen.insert(n->key); });
    if ((calls / 5) % 2 == 0) {
      for (int i = 0; i < 300; i++) {
        f.Add(K(next_key));
        extra.push_back(next_key++);
      }
    } else {
      while (!extra.empty()) {
        f.Del(K(extra.back()));
        extra.pop_back();
      }
      f.t.ShrinkIfSparse();
    }
    calls++;
    REQUIRE(calls < 100000);
  } while (cursor != 0);
  for (int i = 0; i < 64; i++) REQUIRE(seen.count(K(i)) == 1);
}

TEST_CASE("Random returns members and covers all of them", "[hash_table]") {
  Fixture f;
  for (int i = 0; i < 50; i++) f.Add(K(i));
  std::set<std::string> seen;
  for (int i = 0; i < 20000; i++) {
    TNode* n = f.t.Random();
    REQUIRE(n != nullptr);
    REQUIRE(f.nodes.count(n->key) == 1);
    seen.insert(n->key);
  }
  CHECK(seen.size() == 50);
  // Also while a rehash is in progress.
  for (int i = 50; i < 1000; i++) f.Add(K(i));
  bool checked_during_rehash = false;
  for (int i = 1000; i < 5000 && !checked_during_rehash; i++) {
    f.Add(K(i));
    if (f.t.rehashing()) {
      for (int j = 0; j < 200; j++) REQUIRE(f.nodes.count(f.t.Random()->key) == 1);
      checked_during_rehash = true;
    }
  }
  CHECK(checked_during_rehash);
}

TEST_CASE("Relink swaps a node in place", "[hash_table]") {
  Fixture f;
  for (int i = 0; i < 100; i++) f.Add(K(i));
  TNode* old_node = f.t.Find(K(42));
  auto replacement = std::make_unique<TNode>();
  replacement->key = K(42);
  f.t.Relink(old_node, replacement.get());
  CHECK(f.t.Find(K(42)) == replacement.get());
  CHECK(f.t.size() == 100);
  for (int i = 0; i < 100; i++) REQUIRE(f.t.Find(K(i)) != nullptr);
  // Put the fixture's node back so teardown frees the right one.
  f.t.Relink(replacement.get(), old_node);
  CHECK(f.t.Find(K(42)) == old_node);
}

TEST_CASE("NextCursor walks every bucket once in reverse-binary order", "[hash_table]") {
  for (size_t size : {4u, 8u, 64u, 1024u}) {
    std::set<size_t> visited;
    size_t c = 0;
    do {
      REQUIRE(visited.insert(c).second);
      c = Table::NextCursor(c, size - 1);
    } while (c != 0);
    CHECK(visited.size() == size);
  }
  // mask 7: 0 -> 4 -> 2 -> 6 -> 1 -> 5 -> 3 -> 7 -> 0
  CHECK(Table::NextCursor(0, 7) == 4);
  CHECK(Table::NextCursor(4, 7) == 2);
  CHECK(Table::NextCursor(2, 7) == 6);
  CHECK(Table::NextCursor(7, 7) == 0);
}

TEST_CASE("Clear calls the free function on every node", "[hash_table]") {
  Table t;
  std::vector<std::unique_ptr<TNode>> nodes;
  for (int i = 0; i < 777; i++) {
    nodes.push_back(std::make_unique<TNode>());
    nodes.back()->key = K(i);
    t.Insert(nodes.back().get());
  }
  std::set<TNode*> freed;
  t.Clear([&](TNode* n) { freed.insert(n); });
  CHECK(freed.size() == 777);
  CHECK(t.size() == 0);
  CHECK(t.buckets() == 0);
  CHECK(t.Find(K(1)) == nullptr);
}

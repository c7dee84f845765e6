// QuickList and the list hooks: ends across node boundaries, plain nodes for big
// elements, and a seeded random sequence of operations checked against a
// std::deque<std::string> model.
#include "node/store/list_type.h"

#include <catch2/catch.hpp>
#include <deque>
#include <random>
#include <string>
#include <vector>

#include "node/store/digest.h"
#include "node/store/quicklist.h"

using cairn::store::QuickList;
using Where = QuickList::Where;

namespace {

std::vector<std::string> Contents(const QuickList& q) {
  std::vector<std::string> out;
  q.ForEach([&](std::string_view v) { out.emplace_back(v); });
  return out;
}

std::vector<std::string> ModelContents(const std::deque<std::string>& m) {
  return std::vector<std::string>(m.begin(), m.end());
}

// Walks the list both ways through Seek/Next/Prev and compares with the model.
void CheckAgainst(const QuickList& q, const std::deque<std::string>& m) {
  REQUIRE(q.Valid());
  REQUIRE(q.size() == m.size());
  REQUIRE(Contents(q) == ModelContents(m));
  if (m.empty()) return;
  QuickList::Pos p;
  REQUIRE(q.Seek(-1, &p));
  for (size_t i = m.size(); i-- > 0;) {
    REQUIRE(q.Get(p) == m[i]);
    bool more = q.Prev(&p);
    REQUIRE(more == (i > 0));
  }
}

}  // namespace

TEST_CASE("QuickList pushes and pops at both ends across nodes", "[list]") {
  QuickList q(4);  // at most 4 entries per node
  std::deque<std::string> m;
  for (int i = 0; i < 50; i++) {
    q.Push(Where::kTail, "t" + std::to_string(i));
    m.push_back("t" + std::to_string(i));
    q.Push(Where::kHead, "h" + std::to_string(i));
    m.push_front("h" + std::to_string(i));
  }
  CheckAgainst(q, m);
  REQUIRE(q.node_count() == 25);  // both ends share the first node: 100 / 4
  for (size_t i = 0; i < q.node_count(); i++) REQUIRE(q.NodeSize(i) <= 4);
  for (int i = 0; i < 30; i++) {
    REQUIRE(q.Pop(Where::kHead) == m.front());
    m.pop_front();
    REQUIRE(q.Pop(Where::kTail) == m.back());
    m.pop_back();
  }
  CheckAgainst(q, m);
  while (!m.empty()) {
    REQUIRE(q.Pop(Where::kHead) == m.front());
    m.pop_front();
  }
  REQUIRE(q.empty());
  REQUIRE(q.node_count() == 0);
}

TEST_CASE("QuickList byte limits and plain nodes", "[list]") {
  QuickList q(-1);  // 4 KB nodes
  std::string big(10000, 'x');
  for (int i = 0; i < 1000; i++) q.Push(Where::kTail, "element-" + std::to_string(i));
  for (size_t i = 0; i < q.node_count(); i++) {
    REQUIRE(q.NodeBytes(i) <= 4096);
    REQUIRE_FALSE(q.NodeIsPlain(i));
  }
  size_t nodes = q.node_count();
  REQUIRE(nodes > 2);
  q.Push(Where::kHead, big);
  q.Push(Where::kTail, big);
  REQUIRE(q.node_count() == nodes + 2);
  REQUIRE(q.NodeIsPlain(0));
  REQUIRE(q.NodeIsPlain(q.node_count() - 1));
  // Small pushes never go into a plain node.
  q.Push(Where::kHead, "small");
  REQUIRE(q.NodeSize(0) == 1);
  REQUIRE(q.NodeIsPlain(1));
  // A big element inserted in the middle splits its node.
  QuickList::Pos p;
  REQUIRE(q.Seek(500, &p));
  q.Insert(p, false, big);
  REQUIRE(q.Seek(500, &p));
  REQUIRE(q.Get(p) == big);
  REQUIRE(q.Valid());
  // LSET-style replace with a big value keeps the order.
  REQUIRE(q.Seek(100, &p));
  REQUIRE(q.Get(p) == "element-98");  // "small", big, then element-0...
  REQUIRE(q.Replace(100, big));
  REQUIRE(q.Seek(100, &p));
  REQUIRE(q.Get(p) == big);
  REQUIRE(q.Seek(101, &p));
  REQUIRE(q.Get(p) == "element-99");
  REQUIRE(q.Seek(99, &p));
  REQUIRE(q.Get(p) == "element-97");
  REQUIRE(q.Valid());
  REQUIRE(q.size() == 1004);
  REQUIRE(q.Pop(Where::kTail) == big);
  REQUIRE(q.Pop(Where::kHead) == "small");
  REQUIRE(q.Pop(Where::kHead) == big);
}

TEST_CASE("QuickList memory stays close to a listpack", "[list]") {
  QuickList q(-2);
  for (int i = 0; i < 100000; i++) q.Push(Where::kTail, std::to_string(i));
  // Entries are 1-5 digit strings: 2 bytes of framing each, plus node headers
  // and allocator slack; a deque<std::string> would need 32+ bytes each.
  double per = static_cast<double>(q.MemoryUsage()) / 100000;
  REQUIRE(per < 10.0);
}

TEST_CASE("QuickList DeleteRange, Remove and Find", "[list]") {
  QuickList q(3);
  std::deque<std::string> m;
  for (int i = 0; i < 40; i++) {
    std::string v = (i % 3 == 0) ? "x" : std::to_string(i);
    q.Push(Where::kTail, v);
    m.push_back(v);
  }
  REQUIRE(q.Remove("x", 2) == 2);  // first two from the head
  for (int k = 0; k < 2; k++) m.erase(std::find(m.begin(), m.end(), "x"));
  CheckAgainst(q, m);
  REQUIRE(q.Remove("x", -3) == 3);  // last three from the tail
  for (int k = 0; k < 3; k++) {
    auto it = std::find(m.rbegin(), m.rend(), "x");
    m.erase(std::next(it).base());
  }
  CheckAgainst(q, m);
  REQUIRE(q.Remove("x", 0) == 9);
  m.erase(std::remove(m.begin(), m.end(), "x"), m.end());
  CheckAgainst(q, m);
  REQUIRE(q.Remove("nope", 0) == 0);

  QuickList::Pos p;
  REQUIRE(q.Find("20", &p));
  REQUIRE(q.Get(p) == "20");
  REQUIRE_FALSE(q.Find("x", &p));

  REQUIRE(q.DeleteRange(-5, 100) == 5);
  m.erase(m.end() - 5, m.end());
  CheckAgainst(q, m);
  REQUIRE(q.DeleteRange(2, 7) == 7);
  m.erase(m.begin() + 2, m.begin() + 9);
  CheckAgainst(q, m);
  REQUIRE(q.DeleteRange(100, 1) == 0);
  REQUIRE(q.DeleteRange(0, q.size()) == m.size());
  REQUIRE(q.empty());
  REQUIRE(q.node_count() == 0);
}

TEST_CASE("QuickList random operations match a deque model", "[list]") {
  auto fill = GENERATE(as<int64_t>{}, 1, 2, 5, 128, -1, -2);
  uint32_t seed = std::random_device{}();
  INFO("seed " << seed << " fill " << fill);
  std::mt19937 rng(seed);
  auto rnd = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  auto value = [&]() {
    size_t r = rnd(100);
    if (r < 2) return std::string(5000 + rnd(5000), static_cast<char>('a' + rnd(26)));
    if (r < 10) return std::string(100 + rnd(400), static_cast<char>('a' + rnd(26)));
    return std::to_string(rnd(20));
  };
  QuickList q(fill);
  std::deque<std::string> m;
  for (int step = 0; step < 3000; step++) {
    size_t op = rnd(11);
    int64_t n = static_cast<int64_t>(m.size());
    if (op <= 2) {
      std::string v = value();
      bool head = rnd(2) == 0;
      q.Push(head ? Where::kHead : Where::kTail, v);
      if (head)
        m.push_front(v);
      else
        m.push_back(v);
    } else if (op == 3 && n > 0) {
      bool head = rnd(2) == 0;
      std::string got = q.Pop(head ? Where::kHead : Where::kTail);
      REQUIRE(got == (head ? m.front() : m.back()));
      if (head)
        m.pop_front();
      else
        m.pop_back();
    } else if (op == 4 && n > 0) {
      int64_t idx = static_cast<int64_t>(rnd(2 * n)) - n;
      QuickList::Pos p;
      REQUIRE(q.Seek(idx, &p));
      REQUIRE(q.Get(p) == m[idx < 0 ? idx + n : idx]);
      REQUIRE_FALSE(q.Seek(n, &p));
      REQUIRE_FALSE(q.Seek(-n - 1, &p));
    } else if (op == 5 && n > 0) {
      int64_t idx = static_cast<int64_t>(rnd(n));
      std::string v = value();
      REQUIRE(q.Replace(idx, v));
      m[idx] = v;
    } else if (op == 6 && n > 0) {
      std::string pivot = m[rnd(n)];
      std::string v = value();
      bool after = rnd(2) == 0;
      QuickList::Pos p;
      REQUIRE(q.Find(pivot, &p));
      q.Insert(p, after, v);
      auto it = std::find(m.begin(), m.end(), pivot);
      m.insert(after ? it + 1 : it, v);
    } else if (op == 7) {
      std::string v = std::to_string(rnd(20));
      int64_t limit = static_cast<int64_t>(rnd(5)) - 2;
      size_t removed = q.Remove(v, limit);
      size_t expect = 0;
      if (limit >= 0) {
        for (auto it = m.begin(); it != m.end();) {
          if (*it == v && (limit == 0 || expect < static_cast<size_t>(limit))) {
            it = m.erase(it);
            expect++;
          } else {
            ++it;
          }
        }
      } else {
        for (int64_t i = n - 1; i >= 0 && expect < static_cast<size_t>(-limit); i--) {
          if (m[i] == v) {
            m.erase(m.begin() + i);
            expect++;
          }
        }
      }
      REQUIRE(removed == expect);
    } else if (op == 8 && n > 0) {
      int64_t start = static_cast<int64_t>(rnd(2 * n)) - n;
      size_t count = rnd(n / 2 + 2);
      size_t removed = q.DeleteRange(start, count);
      int64_t s = start < 0 ? start + n : start;
      size_t expect = std::min<size_t>(count, n - s);
      REQUIRE(removed == expect);
      m.erase(m.begin() + s, m.begin() + s + expect);
    } else if (op == 9 && n > 0) {
      // Forward walk of a range, as LRANGE does.
      int64_t start = static_cast<int64_t>(rnd(n));
      QuickList::Pos p;
      REQUIRE(q.Seek(start, &p));
      for (int64_t i = start; i < n; i++) {
        REQUIRE(q.Get(p) == m[i]);
        REQUIRE(q.Next(&p) == (i + 1 < n));
      }
    } else if (op == 10) {
      QuickList* c = q.Clone();
      REQUIRE(Contents(*c) == ModelContents(m));
      delete c;
    }
    if (step % 50 == 0) CheckAgainst(q, m);
  }
  CheckAgainst(q, m);
}

TEST_CASE("List hooks: length, clone, digest as Redis mixes it", "[list]") {
  auto* q = new QuickList(-2);
  q->Push(Where::kTail, "a");
  q->Push(Where::kTail, "b");
  using cairn::store::Enc;
  REQUIRE(cairn::store::ListLength(Enc::kQuickList, q) == 2);
  REQUIRE(cairn::store::ListMemory(Enc::kQuickList, q) > 0);

  unsigned char d1[20] = {0}, d2[20] = {0}, d3[20] = {0};
  cairn::store::ListDigest(Enc::kQuickList, q, d1);
  cairn::store::MixDigest(d2, "a");
  cairn::store::MixDigest(d2, "b");
  REQUIRE(std::equal(d1, d1 + 20, d2));
  // Order matters.
  auto* r = new QuickList(-2);
  r->Push(Where::kTail, "b");
  r->Push(Where::kTail, "a");
  cairn::store::ListDigest(Enc::kQuickList, r, d3);
  REQUIRE_FALSE(std::equal(d1, d1 + 20, d3));

  void* c = cairn::store::ListClone(Enc::kQuickList, q);
  REQUIRE(Contents(*static_cast<QuickList*>(c)) == std::vector<std::string>{"a", "b"});
  cairn::store::ListFree(Enc::kQuickList, c);
  cairn::store::ListFree(Enc::kQuickList, q);
  cairn::store::ListFree(Enc::kQuickList, r);
}

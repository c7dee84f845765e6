// ReplBacklog against a reference model: Redis's offsets (the first byte of a
// fresh backlog at end 0 has offset 1), growth up to the capacity, wrapping,
// CopyFrom over the whole valid range [first, end + 1] and nothing outside it,
// chunks larger than the ring, and Resize keeping the newest bytes.
#include "node/replication/backlog.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <random>
#include <string>

using cairn::repl::ReplBacklog;

namespace {

// What a backlog must hold: every byte ever appended, and the offset of the
// byte before the first one.
struct Model {
  std::string all;
  int64_t start;  // end offset before the first append
  size_t cap;

  int64_t End() const { return start + static_cast<int64_t>(all.size()); }
  size_t Hist() const { return std::min(all.size(), cap); }
  int64_t First() const { return End() - static_cast<int64_t>(Hist()) + 1; }
  // The bytes from offset `from` to the end (from within [First(), End() + 1]).
  std::string From(int64_t from) const { return all.substr(static_cast<size_t>(from - start - 1)); }
  // Drops the bytes the backlog no longer holds (offsets unchanged).
  void Forget() {
    const int64_t end = End();
    all = From(First());
    start = end - static_cast<int64_t>(all.size());
  }
};

std::string Bytes(std::mt19937_64& rng, size_t n) {
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

// Checks the offsets, every valid CopyFrom start and the rejections around the
// range against the model. Stride > 1 samples the valid starts (big rings).
void CheckAgainst(const ReplBacklog& b, const Model& m, int64_t stride = 1) {
  REQUIRE(b.end_offset() == m.End());
  REQUIRE(b.histlen() == m.Hist());
  REQUIRE(b.first_offset() == m.First());
  REQUIRE(b.capacity() == m.cap);
  for (int64_t from = m.First(); from <= m.End() + 1; from += stride) {
    std::string out = "keep:";
    REQUIRE(b.CopyFrom(from, &out));
    INFO("CopyFrom(" << from << ") first=" << m.First() << " end=" << m.End());
    REQUIRE(out == "keep:" + m.From(from));
  }
  std::string whole;
  REQUIRE(b.CopyFrom(m.First(), &whole));
  REQUIRE(whole == m.From(m.First()));
  std::string tail;
  REQUIRE(b.CopyFrom(m.End() + 1, &tail));
  REQUIRE(tail.empty());
  for (int64_t bad :
       {m.First() - 1, m.First() - 1000, m.End() + 2, m.End() + 1000, int64_t{-1}, int64_t{0}}) {
    if (bad >= m.First() && bad <= m.End() + 1) continue;  // 0/-1 can be valid starts
    std::string out = "untouched";
    INFO("CopyFrom(" << bad << ") first=" << m.First() << " end=" << m.End());
    REQUIRE_FALSE(b.CopyFrom(bad, &out));
    REQUIRE(out == "untouched");
  }
}

}  // namespace

TEST_CASE("a fresh backlog: first byte offset end + 1, nothing held") {
  ReplBacklog b(1024, 0);
  REQUIRE(b.end_offset() == 0);
  REQUIRE(b.histlen() == 0);
  REQUIRE(b.first_offset() == 1);  // repl_backlog_first_byte_offset:1
  std::string out;
  REQUIRE(b.CopyFrom(1, &out));  // PSYNC <id> 1 on an empty history: +CONTINUE, no bytes
  REQUIRE(out.empty());
  REQUIRE_FALSE(b.CopyFrom(0, &out));
  REQUIRE_FALSE(b.CopyFrom(2, &out));

  SECTION("created at a later offset (a backlog made when the first replica attaches)") {
    ReplBacklog later(1024, 155);
    REQUIRE(later.first_offset() == 156);
    REQUIRE(later.CopyFrom(156, &out));
    REQUIRE_FALSE(later.CopyFrom(155, &out));
    later.Append("*1\r\n$4\r\nping\r\n");
    REQUIRE(later.end_offset() == 169);
    REQUIRE(later.first_offset() == 156);
    REQUIRE(later.CopyFrom(156, &out));
    REQUIRE(out == "*1\r\n$4\r\nping\r\n");
  }
}

TEST_CASE("offsets follow Redis's arithmetic (a1: SELECT 0, SET, INCR -> 94)") {
  ReplBacklog b(1 << 20, 0);
  const std::string select0 = "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n";
  const std::string set = "*3\r\n$3\r\nSET\r\n$10\r\nafter:sync\r\n$1\r\n1\r\n";
  const std::string incr = "*2\r\n$4\r\nINCR\r\n$13\r\nafter:counter\r\n";
  b.Append(select0);
  REQUIRE(b.end_offset() == 23);
  b.Append(set);
  REQUIRE(b.end_offset() == 60);
  b.Append(incr);
  REQUIRE(b.end_offset() == 94);
  REQUIRE(b.histlen() == 94);
  REQUIRE(b.first_offset() == 1);
  std::string out;
  REQUIRE(b.CopyFrom(61, &out));  // a replica that acknowledged 60 asks for 61
  REQUIRE(out == incr);
  out.clear();
  REQUIRE(b.CopyFrom(24, &out));
  REQUIRE(out == set + incr);
}

TEST_CASE("the ring grows with what was written, not with its capacity") {
  ReplBacklog b(64 << 20, 0);
  b.Append("hello");
  REQUIRE(b.histlen() == 5);
  REQUIRE(b.memory() < 4096);
  std::string chunk(100000, 'x');
  for (int i = 0; i < 10; i++) b.Append(chunk);
  REQUIRE(b.histlen() == 1000005);
  REQUIRE(b.memory() >= 1000005);
  REQUIRE(b.memory() < (64u << 20));
}

TEST_CASE("filling exactly to capacity, then one more byte") {
  Model m{"", 0, 16};
  ReplBacklog b(16, 0);
  m.all = "0123456789abcdef";
  b.Append(m.all);
  CheckAgainst(b, m);
  REQUIRE(b.first_offset() == 1);
  b.Append("g");
  m.all += "g";
  CheckAgainst(b, m);
  REQUIRE(b.first_offset() == 2);
  REQUIRE(b.histlen() == 16);
}

TEST_CASE("a chunk bigger than the capacity keeps only its last capacity bytes") {
  std::mt19937_64 rng(7);
  const size_t cap = 100;
  for (int64_t start : {int64_t{0}, int64_t{12345}}) {
    for (size_t prefill : {size_t{0}, size_t{30}, size_t{100}, size_t{170}}) {
      for (size_t big : {cap, cap + 1, 2 * cap + 37, 10 * cap}) {
        Model m{"", start, cap};
        ReplBacklog b(cap, start);
        std::string pre = Bytes(rng, prefill);
        b.Append(pre);
        m.all += pre;
        std::string chunk = Bytes(rng, big);
        b.Append(chunk);
        m.all += chunk;
        INFO("start " << start << " prefill " << prefill << " chunk " << big);
        CheckAgainst(b, m);
        std::string out;
        REQUIRE(b.CopyFrom(b.first_offset(), &out));
        REQUIRE(out == chunk.substr(chunk.size() - cap));
      }
    }
  }
}

TEST_CASE("wrapping many times with random chunk sizes matches the model") {
  auto seed = GENERATE(1u, 2u, 3u, 4u, 5u);
  std::mt19937_64 rng(seed);
  const size_t caps[] = {1, 2, 7, 64, 1000};
  const size_t cap = caps[rng() % 5];
  const int64_t start = static_cast<int64_t>(rng() % 3 == 0 ? 0 : rng() % (1ULL << 40));
  Model m{"", start, cap};
  ReplBacklog b(cap, start);
  INFO("seed " << seed << " cap " << cap << " start " << start);
  for (int step = 0; step < 400; step++) {
    size_t n;
    switch (rng() % 6) {
      case 0:
        n = 0;
        break;
      case 1:
        n = 1;
        break;
      case 2:
        n = cap;
        break;
      case 3:
        n = cap + 1 + rng() % (2 * cap + 1);
        break;  // larger than the ring
      default:
        n = rng() % (cap / 2 + 2);
        break;
    }
    std::string chunk = Bytes(rng, n);
    b.Append(chunk);
    m.all += chunk;
    INFO("step " << step << " chunk " << n);
    CheckAgainst(b, m);
  }
  REQUIRE(m.all.size() > 4 * cap);  // it really wrapped around several times
}

TEST_CASE("Resize keeps the newest bytes") {
  std::mt19937_64 rng(11);
  // Bring the ring to a state where its oldest byte is not at index 0.
  Model m{"", 500, 50};
  ReplBacklog b(50, 500);
  for (int i = 0; i < 7; i++) {
    std::string c = Bytes(rng, 13);
    b.Append(c);
    m.all += c;
  }
  CheckAgainst(b, m);
  m.Forget();  // the 41 oldest bytes are gone whatever the new capacity

  SECTION("smaller: the newest capacity bytes survive, offsets unchanged at the end") {
    b.Resize(20);
    m.cap = 20;
    CheckAgainst(b, m);
    REQUIRE(b.histlen() == 20);
    REQUIRE(b.end_offset() == 591);
    REQUIRE(b.first_offset() == 572);
    // And it keeps working as a 20-byte ring.
    for (int i = 0; i < 30; i++) {
      std::string c = Bytes(rng, rng() % 9);
      b.Append(c);
      m.all += c;
      CheckAgainst(b, m);
    }
  }
  SECTION("larger: everything held stays, and it grows up to the new capacity") {
    b.Resize(200);
    m.cap = 200;
    CheckAgainst(b, m);
    REQUIRE(b.histlen() == 50);  // bytes already dropped do not come back
    REQUIRE(b.first_offset() == 542);
    for (int i = 0; i < 40; i++) {
      std::string c = Bytes(rng, rng() % 17);
      b.Append(c);
      m.all += c;
      CheckAgainst(b, m);
    }
    REQUIRE(b.histlen() == 200);
  }
  SECTION("the same capacity changes nothing") {
    b.Resize(50);
    CheckAgainst(b, m);
  }
  SECTION("a backlog that never wrapped, resized both ways") {
    Model g{"", 0, 1000};
    ReplBacklog small(1000, 0);
    g.all = Bytes(rng, 300);
    small.Append(g.all);
    small.Resize(5000);
    g.cap = 5000;
    CheckAgainst(small, g);
    small.Resize(120);
    g.cap = 120;
    CheckAgainst(small, g);
    REQUIRE(small.first_offset() == 181);
  }
}

TEST_CASE("random interleaving of appends and resizes") {
  auto seed = GENERATE(21u, 22u, 23u);
  std::mt19937_64 rng(seed);
  Model m{"", static_cast<int64_t>(rng() % 100000), 1 + rng() % 300};
  ReplBacklog b(m.cap, m.start);
  INFO("seed " << seed);
  for (int step = 0; step < 300; step++) {
    if (rng() % 10 == 0) {
      // Bytes the ring dropped are gone for good, whatever the new capacity:
      // the model forgets them too (before and after the change).
      m.Forget();
      m.cap = 1 + rng() % 400;
      b.Resize(m.cap);
      m.Forget();
    } else {
      std::string c = Bytes(rng, rng() % (m.cap + 50));
      b.Append(c);
      m.all += c;
    }
    INFO("step " << step << " cap " << m.cap);
    CheckAgainst(b, m, 3);
  }
}

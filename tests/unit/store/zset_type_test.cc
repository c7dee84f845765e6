// Sorted-set containers: the skiplist+table and the packed form checked
// against a std::set model (random operations, ranks, score/lex ranges,
// conversions, digest independence of the encoding).
#include "node/store/zset_type.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

using namespace cairn::store;

namespace {

using Model = std::set<std::pair<double, std::string>>;

struct ZVal {
  Enc enc;
  void* ptr;
  ZVal(size_t max_entries, size_t max_value) : lim{max_entries, max_value} {
    ptr = ZSetCreate(1, 0, lim, &enc);
  }
  ~ZVal() { ZSetFree(enc, ptr); }
  ZSetLimits lim;
};

std::vector<std::pair<std::string, double>> Dump(Enc enc, const void* ptr) {
  std::vector<std::pair<std::string, double>> v;
  for (ZCursor c = ZSetAtRank(enc, ptr, 0); c.valid(); c.Next())
    v.emplace_back(std::string(c.member()), c.score());
  return v;
}

std::vector<std::pair<std::string, double>> DumpModel(const Model& m) {
  std::vector<std::pair<std::string, double>> v;
  for (auto& [s, mem] : m) v.emplace_back(mem, s);
  return v;
}

void CheckAgainstModel(Enc enc, const void* ptr, const Model& model) {
  REQUIRE(ZSetLength(enc, ptr) == model.size());
  REQUIRE(Dump(enc, ptr) == DumpModel(model));
  // Reverse walk from the last rank matches too.
  std::vector<std::string> rev;
  if (!model.empty()) {
    for (ZCursor c = ZSetAtRank(enc, ptr, model.size() - 1); c.valid(); c.Prev())
      rev.emplace_back(c.member());
  }
  REQUIRE(rev.size() == model.size());
  size_t i = model.size();
  for (auto& [s, mem] : model) {
    REQUIRE(rev[--i] == mem);
  }
}

void RunRandomOps(size_t max_entries, uint32_t seed, int ops, bool expect_skiplist) {
  INFO("seed " << seed);
  ZVal z(max_entries, 64);
  Model model;
  std::map<std::string, double> scores;
  std::mt19937 rng(seed);
  for (int i = 0; i < ops; i++) {
    std::string m = "m" + std::to_string(rng() % 300);
    double s = static_cast<double>(static_cast<int>(rng() % 50)) / 2.0;
    int op = rng() % 10;
    if (op < 6) {
      int out = 0;
      double ns = 0;
      REQUIRE(ZSetAdd(z.enc, z.ptr, s, m, kZAddNone, &out, &ns, z.lim));
      auto it = scores.find(m);
      if (it == scores.end()) {
        REQUIRE(out == kZAddAdded);
      } else {
        REQUIRE(out == (it->second == s ? 0 : kZAddUpdated));
        model.erase({it->second, m});
      }
      scores[m] = s;
      model.insert({s, m});
    } else if (op < 9) {
      bool present = scores.count(m) > 0;
      REQUIRE(ZSetRemove(z.enc, z.ptr, m) == present);
      if (present) {
        model.erase({scores[m], m});
        scores.erase(m);
      }
    } else {
      double got = 0;
      bool present = scores.count(m) > 0;
      REQUIRE(ZSetScore(z.enc, z.ptr, m, &got) == present);
      if (present) REQUIRE(got == scores[m]);
    }
    if (i % 97 == 0) CheckAgainstModel(z.enc, z.ptr, model);
  }
  CheckAgainstModel(z.enc, z.ptr, model);
  REQUIRE((z.enc == Enc::kSkipList) == expect_skiplist);
  // Ranks both ways.
  int64_t rank = 0;
  for (auto& [s, m] : model) {
    REQUIRE(ZSetRank(z.enc, z.ptr, m, false) == rank);
    REQUIRE(ZSetRank(z.enc, z.ptr, m, true) == static_cast<int64_t>(model.size()) - 1 - rank);
    ZCursor c = ZSetAtRank(z.enc, z.ptr, rank);
    REQUIRE(c.valid());
    REQUIRE(c.member() == m);
    rank++;
  }
  REQUIRE(ZSetRank(z.enc, z.ptr, "absent", false) == -1);
  REQUIRE_FALSE(ZSetAtRank(z.enc, z.ptr, model.size()).valid());
  // Score ranges with every combination of exclusive bounds.
  for (int k = 0; k < 200; k++) {
    ZScoreRange r;
    r.min = static_cast<int>(rng() % 30) / 2.0 - 1;
    r.max = r.min + static_cast<int>(rng() % 10) / 2.0;
    r.minex = rng() % 2;
    r.maxex = rng() % 2;
    std::vector<std::string> want;
    for (auto& [s, m] : model)
      if (ScoreGteMin(s, r) && ScoreLteMax(s, r)) want.push_back(m);
    std::vector<std::string> got;
    for (ZCursor c = ZSetFirstInRange(z.enc, z.ptr, r); c.valid() && ScoreLteMax(c.score(), r);
         c.Next())
      got.emplace_back(c.member());
    REQUIRE(got == want);
    std::vector<std::string> got_rev;
    for (ZCursor c = ZSetLastInRange(z.enc, z.ptr, r); c.valid() && ScoreGteMin(c.score(), r);
         c.Prev())
      got_rev.emplace_back(c.member());
    REQUIRE(std::vector<std::string>(got_rev.rbegin(), got_rev.rend()) == want);
    REQUIRE(ZSetCount(z.enc, z.ptr, r) == want.size());
  }
}

}  // namespace

TEST_CASE("zset packed form matches model", "[zset]") {
  // 1000 entries allowed: stays packed however many members appear.
  RunRandomOps(1000, 7, 3000, false);
}

TEST_CASE("zset skiplist matches model and converts past the limit", "[zset]") {
  RunRandomOps(16, 11, 6000, true);
  RunRandomOps(0, 12345, 2000, true);
}

TEST_CASE("zset conversion keeps content and obeys value length", "[zset]") {
  ZVal z(4, 8);
  int out = 0;
  for (int i = 0; i < 4; i++) {
    REQUIRE(ZSetAdd(z.enc, z.ptr, i, "e" + std::to_string(i), kZAddNone, &out, nullptr, z.lim));
  }
  REQUIRE(z.enc == Enc::kPacked);
  REQUIRE(ZSetAdd(z.enc, z.ptr, 1.5, "longer-than-8", kZAddNone, &out, nullptr, z.lim));
  REQUIRE(z.enc == Enc::kSkipList);
  auto d = Dump(z.enc, z.ptr);
  REQUIRE(d.size() == 5);
  REQUIRE(d[2].first == "longer-than-8");
  // Shrinking back fits only when the longest member does.
  REQUIRE(ZSetRemove(z.enc, z.ptr, "longer-than-8"));
  ZSetShrinkIfFits(z.enc, z.ptr, 13, z.lim);
  REQUIRE(z.enc == Enc::kSkipList);
  ZSetShrinkIfFits(z.enc, z.ptr, 2, z.lim);
  REQUIRE(z.enc == Enc::kPacked);
  REQUIRE(Dump(z.enc, z.ptr).size() == 4);
}

TEST_CASE("zset add flags", "[zset]") {
  ZVal z(128, 64);
  int out = 0;
  double ns = 0;
  REQUIRE(ZSetAdd(z.enc, z.ptr, 5, "a", kZAddXx, &out, &ns, z.lim));
  REQUIRE(out == kZAddNop);
  REQUIRE(ZSetLength(z.enc, z.ptr) == 0);
  REQUIRE(ZSetAdd(z.enc, z.ptr, 5, "a", kZAddNx, &out, &ns, z.lim));
  REQUIRE(out == kZAddAdded);
  REQUIRE(ZSetAdd(z.enc, z.ptr, 9, "a", kZAddNx, &out, &ns, z.lim));
  REQUIRE(out == kZAddNop);
  REQUIRE(ZSetAdd(z.enc, z.ptr, 3, "a", kZAddGt, &out, &ns, z.lim));
  REQUIRE(out == kZAddNop);
  REQUIRE(ZSetAdd(z.enc, z.ptr, 3, "a", kZAddLt, &out, &ns, z.lim));
  REQUIRE(out == kZAddUpdated);
  REQUIRE(ZSetAdd(z.enc, z.ptr, 2, "a", kZAddIncr, &out, &ns, z.lim));
  REQUIRE(ns == 5);
  REQUIRE(ZSetAdd(z.enc, z.ptr, INFINITY, "a", kZAddNone, &out, &ns, z.lim));
  REQUIRE_FALSE(ZSetAdd(z.enc, z.ptr, -INFINITY, "a", kZAddIncr, &out, &ns, z.lim));
  REQUIRE(out == kZAddNaN);
  REQUIRE_FALSE(ZSetAdd(z.enc, z.ptr, NAN, "b", kZAddNone, &out, &ns, z.lim));
  double s = 0;
  REQUIRE(ZSetScore(z.enc, z.ptr, "a", &s));
  REQUIRE(std::isinf(s));
}

TEST_CASE("zset lex ranges and parsing", "[zset]") {
  for (size_t max_entries : {size_t{128}, size_t{0}}) {
    ZVal z(max_entries, 64);
    int out = 0;
    for (const char* m : {"a", "b", "c", "d", "e"})
      ZSetAdd(z.enc, z.ptr, 0, m, kZAddNone, &out, nullptr, z.lim);
    auto lex = [&](const char* mn, const char* mx) {
      ZLexRange r;
      REQUIRE(ParseLexRange(mn, mx, &r));
      std::string s;
      for (ZCursor c = ZSetFirstInLex(z.enc, z.ptr, r); c.valid() && LexLteMax(c.member(), r);
           c.Next())
        s += c.member();
      std::string rs;
      for (ZCursor c = ZSetLastInLex(z.enc, z.ptr, r); c.valid() && LexGteMin(c.member(), r);
           c.Prev())
        rs.insert(0, c.member());
      REQUIRE(rs == s);
      REQUIRE(ZSetLexCount(z.enc, z.ptr, r) == s.size());
      return s;
    };
    CHECK(lex("-", "+") == "abcde");
    CHECK(lex("[b", "[d") == "bcd");
    CHECK(lex("(b", "(d") == "c");
    CHECK(lex("(b", "+") == "cde");
    CHECK(lex("-", "(c") == "ab");
    CHECK(lex("+", "-") == "");
    CHECK(lex("[d", "[b") == "");
    CHECK(lex("[aa", "[bb") == "b");
  }
  ZLexRange r;
  CHECK_FALSE(ParseLexRange("a", "+", &r));
  CHECK_FALSE(ParseLexRange("-x", "+", &r));
  CHECK_FALSE(ParseLexRange("", "+", &r));
  ZScoreRange sr;
  REQUIRE(ParseScoreRange("(1.5", "+inf", &sr));
  CHECK(sr.minex);
  CHECK_FALSE(sr.maxex);
  CHECK(sr.min == 1.5);
  CHECK(std::isinf(sr.max));
  CHECK_FALSE(ParseScoreRange("nan", "1", &sr));
  CHECK_FALSE(ParseScoreRange("1x", "1", &sr));
  CHECK_FALSE(ParseScoreRange("1", "((1", &sr));
}

TEST_CASE("zset digest and clone do not depend on encoding", "[zset]") {
  ZVal small(128, 64), big(0, 64);
  int out = 0;
  for (int i = 0; i < 50; i++) {
    std::string m = "k" + std::to_string(i * 7 % 50);
    ZSetAdd(small.enc, small.ptr, i * 0.25, m, kZAddNone, &out, nullptr, small.lim);
    ZSetAdd(big.enc, big.ptr, i * 0.25, m, kZAddNone, &out, nullptr, big.lim);
  }
  REQUIRE(small.enc == Enc::kPacked);
  REQUIRE(big.enc == Enc::kSkipList);
  unsigned char d1[20] = {0}, d2[20] = {0};
  ZSetDigest(small.enc, small.ptr, d1);
  ZSetDigest(big.enc, big.ptr, d2);
  REQUIRE(std::memcmp(d1, d2, 20) == 0);
  REQUIRE(std::any_of(d1, d1 + 20, [](unsigned char c) { return c != 0; }));
  void* copy = ZSetClone(big.enc, big.ptr);
  REQUIRE(Dump(big.enc, copy) == Dump(big.enc, big.ptr));
  REQUIRE(Dump(small.enc, small.ptr) == Dump(big.enc, big.ptr));
  ZSetFree(big.enc, copy);
  REQUIRE(ZSetMemory(big.enc, big.ptr) > 50 * 8);
}

TEST_CASE("zset score strings follow d2string", "[zset]") {
  CHECK(ZScoreString(1) == "1");
  CHECK(ZScoreString(-0.0) == "-0");
  CHECK(ZScoreString(1.5) == "1.5");
  CHECK(ZScoreString(1e17) == "100000000000000000");
  CHECK(ZScoreString(1e20) == "1e+20");
  CHECK(ZScoreString(INFINITY) == "inf");
  CHECK(ZScoreString(0.1) == "0.10000000000000001");
}

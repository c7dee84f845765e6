// PackedList against a std::vector model: seeded random inserts, erases and
// replaces, walked forwards and backwards, with entry lengths around every varint
// boundary (0, 127/128, 16383/16384) and a large 70000-byte entry.
#include "node/store/packed_list.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <random>
#include <string>
#include <vector>

using cairn::store::PackedList;

namespace {

const size_t kLengths[] = {0, 1, 127, 128, 16383, 16384, 70000};

std::string Value(std::mt19937_64& rng) {
  size_t len = rng() % 4 == 0 ? kLengths[rng() % 7] : rng() % 20;
  std::string v(len, '\0');
  for (auto& c : v) c = static_cast<char>('a' + rng() % 26);
  if (!v.empty()) v[0] = static_cast<char>(rng());  // any byte value
  return v;
}

// Checks the list equals the model walking both directions and by index.
void Verify(const PackedList& pl, const std::vector<std::string>& model) {
  REQUIRE(pl.size() == model.size());
  REQUIRE(pl.empty() == model.empty());
  size_t i = 0;
  for (uint32_t off = pl.First(); off != pl.End(); off = pl.Next(off), i++) {
    REQUIRE(i < model.size());
    REQUIRE(pl.Get(off) == model[i]);
  }
  REQUIRE(i == model.size());
  if (!model.empty()) {
    size_t j = model.size();
    uint32_t off = pl.End();
    while (j > 0) {
      off = pl.Prev(off);
      j--;
      REQUIRE(pl.Get(off) == model[j]);
    }
    REQUIRE(off == pl.First());
    REQUIRE(pl.Get(pl.Last()) == model.back());
  } else {
    REQUIRE(pl.First() == pl.End());
    REQUIRE(pl.Last() == pl.End());
  }
  size_t sum = PackedList::kHeader;
  for (const auto& v : model) sum += PackedList::EntrySize(v.size());
  REQUIRE(pl.bytes() == sum);
}

}  // namespace

TEST_CASE("empty list", "[packed_list]") {
  PackedList pl;
  CHECK(pl.size() == 0);
  CHECK(pl.bytes() == PackedList::kHeader);
  CHECK(pl.Seek(0) == pl.End());
  CHECK(pl.Seek(-1) == pl.End());
  CHECK(pl.Find("x") == pl.End());
  CHECK(pl.AllocatedBytes() >= pl.bytes());
}

TEST_CASE("entry sizes at varint boundaries", "[packed_list]") {
  for (size_t len : kLengths) {
    PackedList pl;
    std::string v(len, 'x');
    pl.PushBack("before");
    pl.PushBack(v);
    pl.PushBack("after");
    INFO("len " << len);
    Verify(pl, {"before", v, "after"});
    REQUIRE(pl.Get(pl.Seek(1)) == v);
    REQUIRE(pl.Get(pl.Seek(-2)) == v);
    REQUIRE(pl.Get(pl.Prev(pl.Seek(2))) == v);
  }
  // Varint widths: 1 byte up to 127, 2 up to 16383, 3 above.
  CHECK(PackedList::EntrySize(0) == 2);
  CHECK(PackedList::EntrySize(126) == 126 + 1 + 1);
  CHECK(PackedList::EntrySize(127) == 127 + 1 + 2);  // backlen covers 128 bytes
  CHECK(PackedList::EntrySize(128) == 128 + 2 + 2);
  CHECK(PackedList::EntrySize(16384) == 16384 + 3 + 3);
}

TEST_CASE("Seek, Find with skip, Erase ranges", "[packed_list]") {
  PackedList pl;
  std::vector<std::string> model;
  for (int i = 0; i < 10; i++) {
    model.push_back("f" + std::to_string(i));
    model.push_back("v" + std::to_string(i));
    pl.PushBack(model[model.size() - 2]);
    pl.PushBack(model.back());
  }
  Verify(pl, model);
  for (int i = -25; i < 25; i++) {
    uint32_t off = pl.Seek(i);
    int idx = i < 0 ? i + 20 : i;
    if (idx < 0 || idx >= 20)
      CHECK(off == pl.End());
    else
      CHECK(pl.Get(off) == model[idx]);
  }
  // Field lookup as a hash does it: compare only every other entry.
  CHECK(pl.Get(pl.Find("f3", 1)) == "f3");
  CHECK(pl.Get(pl.Next(pl.Find("f3", 1))) == "v3");
  CHECK(pl.Find("v3", 1) == pl.End());  // values are skipped
  CHECK(pl.Get(pl.Find("v3", 1, pl.Next(pl.First()))) == "v3");
  // Erase 4 entries from index 2.
  uint32_t after = pl.Erase(pl.Seek(2), 4);
  model.erase(model.begin() + 2, model.begin() + 6);
  CHECK(pl.Get(after) == model[2]);
  Verify(pl, model);
  // Erasing more than remain stops at the end.
  after = pl.Erase(pl.Seek(-2), 10);
  model.resize(model.size() - 2);
  CHECK(after == pl.End());
  Verify(pl, model);
}

TEST_CASE("Clone and move", "[packed_list]") {
  PackedList a;
  a.PushBack("x");
  a.PushBack(std::string(200, 'y'));
  PackedList b = a.Clone();
  a.Replace(a.First(), "changed");
  Verify(b, {"x", std::string(200, 'y')});
  Verify(a, {"changed", std::string(200, 'y')});
  PackedList c = std::move(a);
  Verify(c, {"changed", std::string(200, 'y')});
  b = std::move(c);
  Verify(b, {"changed", std::string(200, 'y')});
}

TEST_CASE("random operations match a vector model", "[packed_list]") {
  auto seed = GENERATE(1, 2, 3, 42, 1234);
  std::mt19937_64 rng(seed);
  PackedList pl;
  std::vector<std::string> model;
  for (int step = 0; step < 600; step++) {
    INFO("seed " << seed << " step " << step);
    int op = static_cast<int>(rng() % 10);
    if (op < 4 || model.empty()) {
      size_t idx = model.empty() ? 0 : rng() % (model.size() + 1);
      std::string v = Value(rng);
      uint32_t off = idx == model.size() ? pl.End() : pl.Seek(static_cast<int64_t>(idx));
      uint32_t at = pl.Insert(off, v);
      REQUIRE(pl.Get(at) == v);
      model.insert(model.begin() + idx, v);
    } else if (op < 6) {
      size_t idx = rng() % model.size();
      size_t n = 1 + rng() % 3;
      pl.Erase(pl.Seek(static_cast<int64_t>(idx)), static_cast<uint32_t>(n));
      model.erase(model.begin() + idx, model.begin() + std::min(model.size(), idx + n));
    } else if (op < 8) {
      size_t idx = rng() % model.size();
      std::string v = Value(rng);
      uint32_t off = pl.Seek(-static_cast<int64_t>(model.size() - idx));
      REQUIRE(pl.Replace(off, v) == off);
      model[idx] = v;
    } else if (op == 8) {
      if (rng() % 2) {
        pl.PushFront("head");
        model.insert(model.begin(), "head");
      } else {
        pl.PushBack("tail");
        model.push_back("tail");
      }
    } else {
      size_t idx = rng() % model.size();
      uint32_t found = pl.Find(model[idx]);
      REQUIRE(found != pl.End());
      REQUIRE(pl.Get(found) == model[idx]);
      size_t first = std::find(model.begin(), model.end(), model[idx]) - model.begin();
      REQUIRE(found == pl.Seek(static_cast<int64_t>(first)));
    }
    if (step % 25 == 0) Verify(pl, model);
  }
  Verify(pl, model);
  while (!model.empty()) {
    pl.Erase(pl.First());
    model.erase(model.begin());
  }
  Verify(pl, model);
}

TEST_CASE("PackedList count saturates past 65535 and is then counted by walking") {
  cairn::store::PackedList pl;
  for (int i = 0; i < 70000; i++) pl.PushBack(i % 2 ? "x" : "");
  REQUIRE(pl.size() == 70000);
  REQUIRE(pl.Get(pl.Seek(69999)) == "x");
  pl.Erase(pl.First(), 10000);
  REQUIRE(pl.size() == 60000);
  pl.PushFront("head");
  REQUIRE(pl.size() == 60001);
  REQUIRE(pl.Get(pl.First()) == "head");
  // 30000 "x" (3 bytes each), 30000 "" (2 bytes each) and "head".
  REQUIRE(pl.bytes() == cairn::store::PackedList::kHeader + 30000 * 3 + 30000 * 2 +
                            cairn::store::PackedList::EntrySize(4));
}

// Sorted-set range commands and set algebra: ZRANGE (BYSCORE/BYLEX/REV/LIMIT/
// WITHSCORES) and its older spellings, ZRANGESTORE, ZCOUNT, ZLEXCOUNT,
// ZREMRANGEBY*, ZUNION/ZINTER/ZDIFF[STORE] and ZINTERCARD, as Redis 7.0
// (plain sets are accepted as inputs to the algebra, with score 1).
#include <algorithm>
#include <cmath>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "node/commands/zset_common.h"
#include "node/store/set_type.h"

namespace cairn::cmd {

namespace {

namespace err = protocol::err;
using store::Enc;
using store::Entry;
using store::ObjType;

constexpr std::string_view kNotFloatRange = "min or max is not a float";
constexpr std::string_view kNotLexRange = "min or max not valid string range item";

enum class RangeType { kAuto, kRank, kScore, kLex };
enum class Direction { kAuto, kForward, kReverse };

using Result = std::vector<std::pair<std::string, double>>;

// Replaces `dst` with a sorted set built from `items` (already in order), or
// deletes it when empty; replies the count, as Redis's store paths do.
void StoreResult(Context& ctx, std::string_view dst, const Result& items) {
  if (items.empty()) {
    ctx.reply().Int(0);
    if (ctx.db().Delete(dst)) ctx.KeyModified(dst);
    return;
  }
  size_t max_len = 0;
  for (const auto& it : items) max_len = std::max(max_len, it.first.size());
  store::ZSetLimits lim = ZLimits(ctx);
  Enc enc;
  void* ptr = store::ZSetCreate(items.size(), max_len, lim, &enc);
  for (const auto& [member, score] : items) {
    int out;
    store::ZSetAdd(enc, ptr, score, member, store::kZAddNone, &out, nullptr, lim);
  }
  ctx.db().Delete(dst);
  ctx.db().AddContainer(dst, ObjType::kZSet, enc, ptr);
  ctx.reply().Int(static_cast<int64_t>(items.size()));
  ctx.KeyModified(dst);
  ctx.KeyReady(dst);
}

void ReplyResult(Context& ctx, const Result& items, bool withscores) {
  ZReplyArrayLen(ctx, items.size(), withscores);
  for (const auto& [member, score] : items) ZReplyMember(ctx, member, score, withscores);
}

void RangeByRank(const Entry* e, int64_t start, int64_t end, bool reverse, Result* out) {
  auto llen = static_cast<int64_t>(store::ZSetLength(e->enc, e->v.ptr));
  if (start < 0) start += llen;
  if (end < 0) end += llen;
  if (start < 0) start = 0;
  if (start > end || start >= llen) return;
  if (end >= llen) end = llen - 1;
  int64_t n = end - start + 1;
  store::ZCursor c = store::ZSetAtRank(e->enc, e->v.ptr, reverse ? llen - 1 - start : start);
  for (; n > 0 && c.valid(); n--) {
    out->emplace_back(std::string(c.member()), c.score());
    if (reverse)
      c.Prev();
    else
      c.Next();
  }
}

// Shared walk of ZRANGEBYSCORE / ZRANGEBYLEX: skip `offset` (negative skips
// everything, as Redis's loop does), then take up to `limit` (negative: all)
// while `in_range` holds.
template <typename InRange>
void WalkRange(store::ZCursor c, bool reverse, int64_t offset, int64_t limit, InRange in_range,
               Result* out) {
  if (offset < 0) return;
  auto step = [&] {
    if (reverse)
      c.Prev();
    else
      c.Next();
  };
  while (c.valid() && offset > 0) {
    step();
    offset--;
  }
  while (c.valid() && limit != 0) {
    if (!in_range(c)) break;
    out->emplace_back(std::string(c.member()), c.score());
    step();
    if (limit > 0) limit--;
  }
}

// ZRANGE and friends; `argc_start` is the source key's index, `dst` is set
// for ZRANGESTORE.
void ZRangeGeneric(Context& ctx, size_t argc_start, std::string_view dst, bool store,
                   RangeType type, Direction dir) {
  std::string_view key = ctx.arg(argc_start);
  size_t minidx = argc_start + 1, maxidx = argc_start + 2;
  bool withscores = false;
  int64_t offset = 0, limit = -1;
  for (size_t j = argc_start + 3; j < ctx.argc(); j++) {
    size_t left = ctx.argc() - j - 1;
    std::string_view a = ctx.arg(j);
    if (!store && base::EqualsNoCase(a, "withscores")) {
      withscores = true;
    } else if (base::EqualsNoCase(a, "limit") && left >= 2) {
      if (!ctx.ParseInt(ctx.arg(j + 1), &offset) || !ctx.ParseInt(ctx.arg(j + 2), &limit)) return;
      j += 2;
    } else if (dir == Direction::kAuto && base::EqualsNoCase(a, "rev")) {
      dir = Direction::kReverse;
    } else if (type == RangeType::kAuto && base::EqualsNoCase(a, "bylex")) {
      type = RangeType::kLex;
    } else if (type == RangeType::kAuto && base::EqualsNoCase(a, "byscore")) {
      type = RangeType::kScore;
    } else {
      return ctx.reply().Error(err::kSyntax);
    }
  }
  if (dir == Direction::kAuto) dir = Direction::kForward;
  if (type == RangeType::kAuto) type = RangeType::kRank;
  if (limit != -1 && type == RangeType::kRank) {
    return ctx.reply().Error(
        "syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
  }
  if (withscores && type == RangeType::kLex) {
    return ctx.reply().Error("syntax error, WITHSCORES not supported in combination with BYLEX");
  }
  bool reverse = dir == Direction::kReverse;
  if (reverse && type != RangeType::kRank) std::swap(minidx, maxidx);

  int64_t start = 0, end = 0;
  store::ZScoreRange srange;
  store::ZLexRange lrange;
  switch (type) {
    case RangeType::kAuto:
    case RangeType::kRank:
      if (!ctx.ParseInt(ctx.arg(minidx), &start) || !ctx.ParseInt(ctx.arg(maxidx), &end)) return;
      break;
    case RangeType::kScore:
      if (!store::ParseScoreRange(ctx.arg(minidx), ctx.arg(maxidx), &srange))
        return ctx.reply().Error(kNotFloatRange);
      break;
    case RangeType::kLex:
      if (!store::ParseLexRange(ctx.arg(minidx), ctx.arg(maxidx), &lrange))
        return ctx.reply().Error(kNotLexRange);
      break;
  }

  bool wrong;
  Entry* e = ctx.LookupRead(key, ObjType::kZSet, &wrong);
  if (wrong) return;
  Result items;
  if (e != nullptr) {
    size_t len = store::ZSetLength(e->enc, e->v.ptr);
    if (type == RangeType::kRank) {
      RangeByRank(e, start, end, reverse, &items);
    } else if (offset > 0 && static_cast<uint64_t>(offset) >= len) {
      // Redis answers an offset past the end at once.
    } else if (type == RangeType::kScore) {
      store::ZCursor c = reverse ? store::ZSetLastInRange(e->enc, e->v.ptr, srange)
                                 : store::ZSetFirstInRange(e->enc, e->v.ptr, srange);
      WalkRange(
          c, reverse, offset, limit,
          [&](const store::ZCursor& x) {
            return reverse ? store::ScoreGteMin(x.score(), srange)
                           : store::ScoreLteMax(x.score(), srange);
          },
          &items);
    } else {
      store::ZCursor c = reverse ? store::ZSetLastInLex(e->enc, e->v.ptr, lrange)
                                 : store::ZSetFirstInLex(e->enc, e->v.ptr, lrange);
      WalkRange(
          c, reverse, offset, limit,
          [&](const store::ZCursor& x) {
            return reverse ? store::LexGteMin(x.member(), lrange)
                           : store::LexLteMax(x.member(), lrange);
          },
          &items);
    }
  }
  if (store)
    StoreResult(ctx, dst, items);
  else
    ReplyResult(ctx, items, withscores);
}

void CmdZRange(Context& ctx) {
  ZRangeGeneric(ctx, 1, {}, false, RangeType::kAuto, Direction::kAuto);
}
void CmdZRangeStore(Context& ctx) {
  ZRangeGeneric(ctx, 2, ctx.arg(1), true, RangeType::kAuto, Direction::kAuto);
}
void CmdZRevRange(Context& ctx) {
  ZRangeGeneric(ctx, 1, {}, false, RangeType::kRank, Direction::kReverse);
}
void CmdZRangeByScore(Context& ctx) {
  ZRangeGeneric(ctx, 1, {}, false, RangeType::kScore, Direction::kForward);
}
void CmdZRevRangeByScore(Context& ctx) {
  ZRangeGeneric(ctx, 1, {}, false, RangeType::kScore, Direction::kReverse);
}
void CmdZRangeByLex(Context& ctx) {
  ZRangeGeneric(ctx, 1, {}, false, RangeType::kLex, Direction::kForward);
}
void CmdZRevRangeByLex(Context& ctx) {
  ZRangeGeneric(ctx, 1, {}, false, RangeType::kLex, Direction::kReverse);
}

void CmdZCount(Context& ctx) {
  store::ZScoreRange r;
  if (!store::ParseScoreRange(ctx.arg(2), ctx.arg(3), &r)) return ctx.reply().Error(kNotFloatRange);
  bool wrong;
  Entry* e = ctx.LookupRead(ctx.arg(1), ObjType::kZSet, &wrong);
  if (wrong) return;
  ctx.reply().Int(e ? static_cast<int64_t>(store::ZSetCount(e->enc, e->v.ptr, r)) : 0);
}

void CmdZLexCount(Context& ctx) {
  store::ZLexRange r;
  if (!store::ParseLexRange(ctx.arg(2), ctx.arg(3), &r)) return ctx.reply().Error(kNotLexRange);
  bool wrong;
  Entry* e = ctx.LookupRead(ctx.arg(1), ObjType::kZSet, &wrong);
  if (wrong) return;
  ctx.reply().Int(e ? static_cast<int64_t>(store::ZSetLexCount(e->enc, e->v.ptr, r)) : 0);
}

void ZRemRangeGeneric(Context& ctx, RangeType type) {
  std::string_view key = ctx.arg(1);
  int64_t start = 0, end = 0;
  store::ZScoreRange srange;
  store::ZLexRange lrange;
  if (type == RangeType::kRank) {
    if (!ctx.ParseInt(ctx.arg(2), &start) || !ctx.ParseInt(ctx.arg(3), &end)) return;
  } else if (type == RangeType::kScore) {
    if (!store::ParseScoreRange(ctx.arg(2), ctx.arg(3), &srange))
      return ctx.reply().Error(kNotFloatRange);
  } else if (!store::ParseLexRange(ctx.arg(2), ctx.arg(3), &lrange)) {
    return ctx.reply().Error(kNotLexRange);
  }
  bool wrong;
  Entry* e = ctx.LookupWrite(key, ObjType::kZSet, &wrong);
  if (wrong) return;
  if (e == nullptr) return ctx.reply().Int(0);
  Result victims;
  if (type == RangeType::kRank) {
    RangeByRank(e, start, end, false, &victims);
  } else if (type == RangeType::kScore) {
    WalkRange(
        store::ZSetFirstInRange(e->enc, e->v.ptr, srange), false, 0, -1,
        [&](const store::ZCursor& x) { return store::ScoreLteMax(x.score(), srange); }, &victims);
  } else {
    WalkRange(
        store::ZSetFirstInLex(e->enc, e->v.ptr, lrange, false), false, 0, -1,
        [&](const store::ZCursor& x) { return store::LexLteMax(x.member(), lrange); }, &victims);
  }
  for (const auto& v : victims) store::ZSetRemove(e->enc, e->v.ptr, v.first);
  if (!victims.empty()) {
    if (store::ZSetLength(e->enc, e->v.ptr) == 0) ctx.db().Delete(key);
    ctx.KeyModified(key, static_cast<int64_t>(victims.size()));
  }
  ctx.reply().Int(static_cast<int64_t>(victims.size()));
}
void CmdZRemRangeByRank(Context& ctx) { ZRemRangeGeneric(ctx, RangeType::kRank); }
void CmdZRemRangeByScore(Context& ctx) { ZRemRangeGeneric(ctx, RangeType::kScore); }
void CmdZRemRangeByLex(Context& ctx) { ZRemRangeGeneric(ctx, RangeType::kLex); }

// --- set algebra ---------------------------------------------------------------

enum class SetOp { kUnion, kInter, kDiff };
enum class Aggregate { kSum, kMin, kMax };

// One input of ZUNION & co.: a sorted set, a plain set (scores 1) or nothing.
struct Source {
  const Entry* e = nullptr;
  double weight = 1.0;
  size_t Length() const {
    if (e == nullptr) return 0;
    return e->type == ObjType::kZSet ? store::ZSetLength(e->enc, e->v.ptr)
                                     : store::SetLength(e->enc, e->v.ptr);
  }
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    if (e == nullptr) return;
    if (e->type == ObjType::kZSet) {
      for (store::ZCursor c = store::ZSetAtRank(e->enc, e->v.ptr, 0); c.valid(); c.Next())
        fn(c.member(), c.score());
    } else {
      store::SetForEach(e->enc, e->v.ptr, [&](std::string_view m) { fn(m, 1.0); });
    }
  }
  bool Find(std::string_view member, double* score) const {
    if (e == nullptr) return false;
    if (e->type == ObjType::kZSet) return store::ZSetScore(e->enc, e->v.ptr, member, score);
    if (!store::SetIsMember(e->enc, e->v.ptr, member)) return false;
    *score = 1.0;
    return true;
  }
};

void AggregateInto(double* target, double v, Aggregate agg) {
  switch (agg) {
    case Aggregate::kSum:
      *target += v;
      if (std::isnan(*target)) *target = 0;
      break;
    case Aggregate::kMin:
      *target = v < *target ? v : *target;
      break;
    case Aggregate::kMax:
      *target = v > *target ? v : *target;
      break;
  }
}

void SortResult(Result* r) {
  std::sort(r->begin(), r->end(), [](const auto& a, const auto& b) {
    return store::ZCompare(a.second, a.first, b.second, b.first) < 0;
  });
}

void ZSetOpGeneric(Context& ctx, std::string_view dst, bool store_result, size_t numkeys_idx,
                   SetOp op, bool cardinality_only) {
  int64_t setnum;
  if (!ctx.ParseInt(ctx.arg(numkeys_idx), &setnum)) return;
  if (setnum < 1) {
    std::string msg = "at least 1 input key is needed for '" + ctx.cmd().fullname() + "' command";
    return ctx.reply().Error(msg);
  }
  if (setnum > static_cast<int64_t>(ctx.argc() - (numkeys_idx + 1)))
    return ctx.reply().Error(err::kSyntax);
  std::vector<Source> src(setnum);
  size_t j = numkeys_idx + 1;
  for (int64_t i = 0; i < setnum; i++, j++) {
    Entry* e = ctx.db().LookupRead(ctx.arg(j));
    if (e && e->type != ObjType::kZSet && e->type != ObjType::kSet)
      return ctx.reply().Error(err::kWrongType);
    src[i].e = e;
  }
  Aggregate agg = Aggregate::kSum;
  bool withscores = false;
  int64_t limit = 0;
  while (j < ctx.argc()) {
    size_t remaining = ctx.argc() - j;
    std::string_view a = ctx.arg(j);
    if (op != SetOp::kDiff && !cardinality_only && remaining >= static_cast<size_t>(setnum) + 1 &&
        base::EqualsNoCase(a, "weights")) {
      j++;
      for (int64_t i = 0; i < setnum; i++, j++) {
        if (!base::ParseDouble(ctx.arg(j), &src[i].weight))
          return ctx.reply().Error("weight value is not a float");
      }
    } else if (op != SetOp::kDiff && !cardinality_only && remaining >= 2 &&
               base::EqualsNoCase(a, "aggregate")) {
      std::string_view v = ctx.arg(j + 1);
      if (base::EqualsNoCase(v, "sum"))
        agg = Aggregate::kSum;
      else if (base::EqualsNoCase(v, "min"))
        agg = Aggregate::kMin;
      else if (base::EqualsNoCase(v, "max"))
        agg = Aggregate::kMax;
      else
        return ctx.reply().Error(err::kSyntax);
      j += 2;
    } else if (!store_result && !cardinality_only && base::EqualsNoCase(a, "withscores")) {
      withscores = true;
      j++;
    } else if (cardinality_only && remaining >= 2 && base::EqualsNoCase(a, "limit")) {
      if (!ZParsePositive(ctx, ctx.arg(j + 1), "LIMIT can't be negative", &limit)) return;
      j += 2;
    } else {
      return ctx.reply().Error(err::kSyntax);
    }
  }
  if (op != SetOp::kDiff) {
    std::stable_sort(src.begin(), src.end(),
                     [](const Source& a, const Source& b) { return a.Length() < b.Length(); });
  }

  Result items;
  uint64_t cardinality = 0;
  if (op == SetOp::kInter) {
    if (src[0].Length() > 0) {
      bool stop = false;
      src[0].ForEach([&](std::string_view member, double s0) {
        if (stop) return;
        double score = src[0].weight * s0;
        if (std::isnan(score)) score = 0;
        size_t k = 1;
        for (; k < src.size(); k++) {
          double v;
          if (src[k].e == src[0].e) {
            v = s0 * src[k].weight;
          } else if (src[k].Find(member, &v)) {
            v *= src[k].weight;
          } else {
            break;
          }
          AggregateInto(&score, v, agg);
        }
        if (k != src.size()) return;
        if (cardinality_only) {
          cardinality++;
          if (limit && cardinality >= static_cast<uint64_t>(limit)) stop = true;
        } else {
          items.emplace_back(std::string(member), score);
        }
      });
    }
  } else if (op == SetOp::kUnion) {
    std::unordered_map<std::string, double> acc;
    for (const Source& s : src) {
      s.ForEach([&](std::string_view member, double v) {
        double score = s.weight * v;
        if (std::isnan(score)) score = 0;
        auto [it, inserted] = acc.try_emplace(std::string(member), score);
        if (!inserted) AggregateInto(&it->second, score, agg);
      });
    }
    items.reserve(acc.size());
    for (auto& [m, s] : acc) items.emplace_back(m, s);
  } else {
    src[0].ForEach([&](std::string_view member, double s0) {
      double unused;
      for (size_t k = 1; k < src.size(); k++) {
        if (src[k].e == src[0].e || src[k].Find(member, &unused)) return;
      }
      items.emplace_back(std::string(member), s0);
    });
  }
  if (cardinality_only) return ctx.reply().Int(static_cast<int64_t>(cardinality));
  SortResult(&items);
  if (store_result)
    StoreResult(ctx, dst, items);
  else
    ReplyResult(ctx, items, withscores);
}

void CmdZUnionStore(Context& ctx) { ZSetOpGeneric(ctx, ctx.arg(1), true, 2, SetOp::kUnion, false); }
void CmdZInterStore(Context& ctx) { ZSetOpGeneric(ctx, ctx.arg(1), true, 2, SetOp::kInter, false); }
void CmdZDiffStore(Context& ctx) { ZSetOpGeneric(ctx, ctx.arg(1), true, 2, SetOp::kDiff, false); }
void CmdZUnion(Context& ctx) { ZSetOpGeneric(ctx, {}, false, 1, SetOp::kUnion, false); }
void CmdZInter(Context& ctx) { ZSetOpGeneric(ctx, {}, false, 1, SetOp::kInter, false); }
void CmdZDiff(Context& ctx) { ZSetOpGeneric(ctx, {}, false, 1, SetOp::kDiff, false); }
void CmdZInterCard(Context& ctx) { ZSetOpGeneric(ctx, {}, false, 1, SetOp::kInter, true); }

}  // namespace

void RegisterZSetRangeCommands(CommandTable& t) {
  constexpr uint32_t W = kWrite | kDenyOom;
  constexpr uint32_t R = kReadonly;
  t.Add(ZSpec("zrange", -4, R, 1, 1, 1, CmdZRange, "1.2.0",
              "Returns members by rank, score or lexicographic range.",
              "key start stop [BYSCORE | BYLEX] [REV] [LIMIT offset count] [WITHSCORES]"));
  t.Add(ZSpec("zrangestore", -5, W, 1, 2, 1, CmdZRangeStore, "6.2.0",
              "Stores a range of a sorted set into another key.",
              "dst src min max [BYSCORE | BYLEX] [REV] [LIMIT offset count]"));
  t.Add(ZSpec("zrevrange", -4, R, 1, 1, 1, CmdZRevRange, "1.2.0",
              "Returns members by rank, highest score first.", "key start stop [WITHSCORES]"));
  t.Add(ZSpec("zrangebyscore", -4, R, 1, 1, 1, CmdZRangeByScore, "1.0.5",
              "Returns members within a score range.",
              "key min max [WITHSCORES] [LIMIT offset count]"));
  t.Add(ZSpec("zrevrangebyscore", -4, R, 1, 1, 1, CmdZRevRangeByScore, "2.2.0",
              "Returns members within a score range, highest first.",
              "key max min [WITHSCORES] [LIMIT offset count]"));
  t.Add(ZSpec("zrangebylex", -4, R, 1, 1, 1, CmdZRangeByLex, "2.8.9",
              "Returns members within a lexicographic range.", "key min max [LIMIT offset count]"));
  t.Add(ZSpec("zrevrangebylex", -4, R, 1, 1, 1, CmdZRevRangeByLex, "2.8.9",
              "Returns members within a lexicographic range, in reverse.",
              "key max min [LIMIT offset count]"));
  t.Add(ZSpec("zcount", 4, R | kFast, 1, 1, 1, CmdZCount, "2.0.0",
              "Counts members within a score range.", "key min max"));
  t.Add(ZSpec("zlexcount", 4, R | kFast, 1, 1, 1, CmdZLexCount, "2.8.9",
              "Counts members within a lexicographic range.", "key min max"));
  t.Add(ZSpec("zremrangebyrank", 4, kWrite, 1, 1, 1, CmdZRemRangeByRank, "2.0.0",
              "Removes members within a rank range.", "key start stop"));
  t.Add(ZSpec("zremrangebyscore", 4, kWrite, 1, 1, 1, CmdZRemRangeByScore, "1.2.0",
              "Removes members within a score range.", "key min max"));
  t.Add(ZSpec("zremrangebylex", 4, kWrite, 1, 1, 1, CmdZRemRangeByLex, "2.8.9",
              "Removes members within a lexicographic range.", "key min max"));
  const char* store_syntax =
      "destination numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM | MIN | "
      "MAX]";
  const char* read_syntax =
      "numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM | MIN | MAX] "
      "[WITHSCORES]";
  t.Add(ZSpec("zunionstore", -4, W, 1, 1, 1, CmdZUnionStore, "2.0.0",
              "Stores the union of sorted sets.", store_syntax));
  t.Add(ZSpec("zinterstore", -4, W, 1, 1, 1, CmdZInterStore, "2.0.0",
              "Stores the intersection of sorted sets.", store_syntax));
  t.Add(ZSpec("zdiffstore", -4, W, 1, 1, 1, CmdZDiffStore, "6.2.0",
              "Stores the members of the first sorted set missing from the others.",
              "destination numkeys key [key ...]"));
  t.Add(ZSpec("zunion", -3, R, 0, 0, 0, CmdZUnion, "6.2.0", "Returns the union of sorted sets.",
              read_syntax));
  t.Add(ZSpec("zinter", -3, R, 0, 0, 0, CmdZInter, "6.2.0",
              "Returns the intersection of sorted sets.", read_syntax));
  t.Add(ZSpec("zdiff", -3, R, 0, 0, 0, CmdZDiff, "6.2.0",
              "Returns the members of the first sorted set missing from the others.",
              "numkeys key [key ...] [WITHSCORES]"));
  t.Add(ZSpec("zintercard", -3, R, 0, 0, 0, CmdZInterCard, "7.0.0",
              "Counts the intersection of sorted sets.", "numkeys key [key ...] [LIMIT limit]"));
}

}  // namespace cairn::cmd

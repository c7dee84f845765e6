// Sorted-set commands on members: ZADD/ZINCRBY, ZREM, ZCARD, ZSCORE, ZMSCORE,
// ZRANK/ZREVRANK, the pops (ZPOPMIN/MAX, ZMPOP and their blocking forms),
// ZRANDMEMBER and ZSCAN, with Redis 7.0's replies and errors. Ranges and set
// algebra live in zset_range_commands.cc.
#include <algorithm>
#include <numeric>
#include <string>
#include <unordered_set>
#include <vector>

#include "node/commands/collection_scan.h"
#include "node/commands/zset_common.h"

namespace cairn::cmd {

namespace {

namespace err = protocol::err;
using store::Enc;
using store::Entry;
using store::ObjType;

constexpr std::string_view kNanErr = "resulting score is not a number (NaN)";
constexpr std::string_view kXxNx = "XX and NX options at the same time are not compatible";
constexpr std::string_view kGtLtNx =
    "GT, LT, and/or NX options at the same time are not compatible";
constexpr std::string_view kIncrPair = "INCR option supports a single increment-element pair";

void ZAddGeneric(Context& ctx, int flags) {
  std::string_view key = ctx.arg(1);
  bool ch = false;
  size_t idx = 2;
  for (; idx < ctx.argc(); idx++) {
    std::string_view opt = ctx.arg(idx);
    if (base::EqualsNoCase(opt, "nx"))
      flags |= store::kZAddNx;
    else if (base::EqualsNoCase(opt, "xx"))
      flags |= store::kZAddXx;
    else if (base::EqualsNoCase(opt, "ch"))
      ch = true;
    else if (base::EqualsNoCase(opt, "incr"))
      flags |= store::kZAddIncr;
    else if (base::EqualsNoCase(opt, "gt"))
      flags |= store::kZAddGt;
    else if (base::EqualsNoCase(opt, "lt"))
      flags |= store::kZAddLt;
    else
      break;
  }
  bool incr = flags & store::kZAddIncr, nx = flags & store::kZAddNx, xx = flags & store::kZAddXx;
  bool gt = flags & store::kZAddGt, lt = flags & store::kZAddLt;
  size_t elements = ctx.argc() - idx;
  if (elements % 2 || elements == 0) return ctx.reply().Error(err::kSyntax);
  elements /= 2;
  if (nx && xx) return ctx.reply().Error(kXxNx);
  if ((gt && nx) || (lt && nx) || (gt && lt)) return ctx.reply().Error(kGtLtNx);
  if (incr && elements > 1) return ctx.reply().Error(kIncrPair);

  std::vector<double> scores(elements);
  for (size_t j = 0; j < elements; j++) {
    if (!ctx.ParseDouble(ctx.arg(idx + j * 2), &scores[j])) return;
  }
  bool wrong;
  Entry* e = ctx.LookupWrite(key, ObjType::kZSet, &wrong);
  if (wrong) return;
  store::ZSetLimits lim = ZLimits(ctx);
  int64_t added = 0, updated = 0, processed = 0;
  double score = 0;
  if (e == nullptr && !xx) {
    Enc enc;
    void* ptr = store::ZSetCreate(1, ctx.arg(idx + 1).size(), lim, &enc);
    e = ctx.db().AddContainer(key, ObjType::kZSet, enc, ptr);
  }
  bool failed = false;
  for (size_t j = 0; e && j < elements; j++) {
    int out = 0;
    double newscore = scores[j];
    if (!store::ZSetAdd(e->enc, e->v.ptr, scores[j], ctx.arg(idx + 1 + j * 2), flags, &out,
                        &newscore, lim)) {
      ctx.reply().Error(kNanErr);
      failed = true;
      break;
    }
    if (out & store::kZAddAdded) added++;
    if (out & store::kZAddUpdated) updated++;
    if (!(out & store::kZAddNop)) processed++;
    score = newscore;
  }
  if (!failed) {
    if (incr) {
      if (processed)
        ctx.reply().Double(score);
      else
        ctx.reply().Null();
    } else {
      ctx.reply().Int(ch ? added + updated : added);
    }
  }
  if (added || updated) {
    ctx.KeyModified(key, added + updated);
    ctx.KeyReady(key);
  }
}

void CmdZAdd(Context& ctx) { ZAddGeneric(ctx, store::kZAddNone); }
void CmdZIncrBy(Context& ctx) { ZAddGeneric(ctx, store::kZAddIncr); }

void CmdZRem(Context& ctx) {
  std::string_view key = ctx.arg(1);
  bool wrong;
  Entry* e = ctx.LookupWrite(key, ObjType::kZSet, &wrong);
  if (wrong) return;
  if (e == nullptr) return ctx.reply().Int(0);
  int64_t deleted = 0;
  for (size_t j = 2; j < ctx.argc(); j++) {
    if (store::ZSetRemove(e->enc, e->v.ptr, ctx.arg(j))) deleted++;
    if (store::ZSetLength(e->enc, e->v.ptr) == 0) {
      ctx.db().Delete(key);
      break;
    }
  }
  if (deleted) ctx.KeyModified(key, deleted);
  ctx.reply().Int(deleted);
}

void CmdZCard(Context& ctx) {
  bool wrong;
  Entry* e = ctx.LookupRead(ctx.arg(1), ObjType::kZSet, &wrong);
  if (wrong) return;
  ctx.reply().Int(e ? static_cast<int64_t>(store::ZSetLength(e->enc, e->v.ptr)) : 0);
}

void CmdZScore(Context& ctx) {
  bool wrong;
  Entry* e = ctx.LookupRead(ctx.arg(1), ObjType::kZSet, &wrong);
  if (wrong) return;
  double score;
  if (e == nullptr || !store::ZSetScore(e->enc, e->v.ptr, ctx.arg(2), &score))
    return ctx.reply().Null();
  ctx.reply().Double(score);
}

void CmdZMScore(Context& ctx) {
  bool wrong;
  Entry* e = ctx.LookupRead(ctx.arg(1), ObjType::kZSet, &wrong);
  if (wrong) return;
  ctx.reply().Array(ctx.argc() - 2);
  for (size_t j = 2; j < ctx.argc(); j++) {
    double score;
    if (e == nullptr || !store::ZSetScore(e->enc, e->v.ptr, ctx.arg(j), &score))
      ctx.reply().Null();
    else
      ctx.reply().Double(score);
  }
}

void ZRankGeneric(Context& ctx, bool reverse) {
  bool wrong;
  Entry* e = ctx.LookupRead(ctx.arg(1), ObjType::kZSet, &wrong);
  if (wrong) return;
  if (e == nullptr) return ctx.reply().Null();
  int64_t rank = store::ZSetRank(e->enc, e->v.ptr, ctx.arg(2), reverse);
  if (rank < 0) return ctx.reply().Null();
  ctx.reply().Int(rank);
}
void CmdZRank(Context& ctx) { ZRankGeneric(ctx, false); }
void CmdZRevRank(Context& ctx) { ZRankGeneric(ctx, true); }

// --- pops ------------------------------------------------------------------

enum class Where { kMin, kMax };

// Redis's genericZpopCommand: pops up to `count` (-1 = single) from the first
// existing key. emit_key adds the key name; nested gives [member, score]
// pairs; nil_when_empty replies a null array instead of an empty one.
// Returns how many members it popped (and from which key, into *popped_key).
int64_t ZPopGeneric(Context& ctx, const std::vector<std::string_view>& keys, Where where,
                    bool emit_key, int64_t count, bool nested, bool nil_when_empty,
                    std::string_view* popped_key = nullptr) {
  Entry* e = nullptr;
  std::string_view key;
  for (std::string_view k : keys) {
    bool wrong;
    e = ctx.LookupWrite(k, ObjType::kZSet, &wrong);
    if (wrong) return 0;
    if (e) {
      key = k;
      break;
    }
  }
  if (e == nullptr) {
    nil_when_empty ? ctx.reply().NullArray() : ctx.reply().Array(0);
    return 0;
  }
  if (count == 0) {
    ctx.reply().Array(0);
    return 0;
  }
  if (count == -1) count = 1;
  auto llen = static_cast<int64_t>(store::ZSetLength(e->enc, e->v.ptr));
  int64_t rangelen = std::min(count, llen);
  auto& r = ctx.reply();
  if (!nested && !emit_key) {
    r.Array(rangelen * 2);
  } else if (nested && !emit_key) {
    r.Array(rangelen);
  } else if (!nested && emit_key) {
    r.Array(rangelen * 2 + 1);
    r.Bulk(key);
  } else {
    r.Array(2);
    r.Bulk(key);
    r.Array(rangelen);
  }
  for (int64_t i = 0; i < rangelen; i++) {
    size_t len = store::ZSetLength(e->enc, e->v.ptr);
    store::ZCursor c = store::ZSetAtRank(e->enc, e->v.ptr, where == Where::kMax ? len - 1 : 0);
    std::string member(c.member());
    double score = c.score();
    store::ZSetRemove(e->enc, e->v.ptr, member);
    if (nested) r.Array(2);
    r.Bulk(member);
    r.Double(score);
  }
  ctx.KeyModified(key, rangelen);
  if (store::ZSetLength(e->enc, e->v.ptr) == 0) ctx.db().Delete(key);
  if (popped_key) *popped_key = key;
  return rangelen;
}

const char* ZPopName(Where where) { return where == Where::kMax ? "ZPOPMAX" : "ZPOPMIN"; }

void ZPopMinMax(Context& ctx, Where where) {
  if (ctx.argc() > 3) return ctx.reply().Error(err::kSyntax);
  int64_t count = -1;
  if (ctx.argc() == 3 && !ZParsePositive(ctx, ctx.arg(2), {}, &count)) return;
  bool nested = ctx.reply().proto() > 2 && count != -1;
  ZPopGeneric(ctx, {ctx.arg(1)}, where, false, count, nested, false);
}
void CmdZPopMin(Context& ctx) { ZPopMinMax(ctx, Where::kMin); }
void CmdZPopMax(Context& ctx) { ZPopMinMax(ctx, Where::kMax); }

// Blocking pop: serve the first non-empty key now, otherwise block (or reply
// a null array where blocking is not allowed, e.g. inside MULTI).
void BlockingZPop(Context& ctx, const std::vector<std::string_view>& keys, Where where,
                  size_t timeout_idx, int64_t count, bool nested, bool nil_when_empty) {
  int64_t deadline;
  if (!ctx.ParseTimeout(ctx.arg(timeout_idx), &deadline)) return;
  for (std::string_view k : keys) {
    bool wrong;
    Entry* e = ctx.LookupWrite(k, ObjType::kZSet, &wrong);
    if (wrong) return;
    if (e == nullptr || store::ZSetLength(e->enc, e->v.ptr) == 0) continue;
    int64_t n = ZPopGeneric(ctx, {k}, where, true, count, nested, nil_when_empty);
    // Served now or after blocking, replicas get the non-blocking pop:
    // BZPOPMIN/MAX as "ZPOPMIN|ZPOPMAX key", BZMPOP with the real count.
    if (count == -1)
      ctx.Propagate({ZPopName(where), std::string(k)});
    else
      ctx.Propagate({ZPopName(where), std::string(k), base::Int64ToString(n)});
    return;
  }
  if (!ctx.CanBlock()) return ctx.reply().NullArray();
  ctx.BlockOnKeys(std::vector<std::string>(keys.begin(), keys.end()), deadline);
}

void BZPopMinMax(Context& ctx, Where where) {
  std::vector<std::string_view> keys(ctx.argv().begin() + 1, ctx.argv().end() - 1);
  BlockingZPop(ctx, keys, where, ctx.argc() - 1, -1, false, false);
}
void CmdBZPopMin(Context& ctx) { BZPopMinMax(ctx, Where::kMin); }
void CmdBZPopMax(Context& ctx) { BZPopMinMax(ctx, Where::kMax); }

// ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]; BZMPOP has the timeout first.
void ZMPopGeneric(Context& ctx, size_t numkeys_idx, bool blocking) {
  int64_t numkeys;
  if (!ZParseRangeLong(ctx, ctx.arg(numkeys_idx), 1, INT64_MAX, "numkeys should be greater than 0",
                       &numkeys))
    return;
  if (static_cast<uint64_t>(numkeys) >= ctx.argc() - numkeys_idx - 1) {
    return ctx.reply().Error(err::kSyntax);
  }
  size_t where_idx = numkeys_idx + numkeys + 1;
  Where where;
  if (base::EqualsNoCase(ctx.arg(where_idx), "min"))
    where = Where::kMin;
  else if (base::EqualsNoCase(ctx.arg(where_idx), "max"))
    where = Where::kMax;
  else
    return ctx.reply().Error(err::kSyntax);
  int64_t count = -1;
  for (size_t j = where_idx + 1; j < ctx.argc(); j++) {
    bool more = j + 1 < ctx.argc();
    if (count == -1 && base::EqualsNoCase(ctx.arg(j), "count") && more) {
      j++;
      if (!ZParseRangeLong(ctx, ctx.arg(j), 1, INT64_MAX, "count should be greater than 0", &count))
        return;
    } else {
      return ctx.reply().Error(err::kSyntax);
    }
  }
  if (count == -1) count = 1;
  std::vector<std::string_view> keys(ctx.argv().begin() + numkeys_idx + 1,
                                     ctx.argv().begin() + numkeys_idx + 1 + numkeys);
  if (blocking) return BlockingZPop(ctx, keys, where, 1, count, true, true);
  std::string_view popped_key;
  int64_t n = ZPopGeneric(ctx, keys, where, true, count, true, true, &popped_key);
  // ZMPOP leaves as a plain pop of the key it chose, with the real count.
  if (n > 0) ctx.Propagate({ZPopName(where), std::string(popped_key), base::Int64ToString(n)});
}
void CmdZMPop(Context& ctx) { ZMPopGeneric(ctx, 1, false); }
void CmdBZMPop(Context& ctx) { ZMPopGeneric(ctx, 2, true); }

// --- ZRANDMEMBER -------------------------------------------------------------

void ZRandMemberWithCount(Context& ctx, int64_t l, bool withscores) {
  bool wrong;
  Entry* e = ctx.LookupRead(ctx.arg(1), ObjType::kZSet, &wrong);
  if (wrong) return;
  if (e == nullptr) return ctx.reply().Array(0);
  size_t size = store::ZSetLength(e->enc, e->v.ptr);
  bool uniq = l >= 0;
  uint64_t count = uniq ? static_cast<uint64_t>(l) : static_cast<uint64_t>(-l);
  if (count == 0) return ctx.reply().Array(0);

  // With repetitions (negative count), or a single element.
  if (!uniq || count == 1) {
    ZReplyArrayLen(ctx, count, withscores);
    while (count--) {
      store::ZCursor c = store::ZSetRandom(e->enc, e->v.ptr);
      ZReplyMember(ctx, c.member(), c.score(), withscores);
    }
    return;
  }
  // Asking for at least the whole set: all of it, highest first (the order
  // Redis's set-operation iterator walks a sorted set).
  if (count >= size) {
    ZReplyArrayLen(ctx, size, withscores);
    for (store::ZCursor c = store::ZSetAtRank(e->enc, e->v.ptr, size - 1); c.valid(); c.Prev())
      ZReplyMember(ctx, c.member(), c.score(), withscores);
    return;
  }
  ZReplyArrayLen(ctx, count, withscores);
  if (e->enc == Enc::kSkipList && count * 3 <= size) {
    // Few out of many: sample until `count` distinct members were seen.
    std::unordered_set<std::string_view> seen;
    while (seen.size() < count) {
      store::ZCursor c = store::ZSetRandom(e->enc, e->v.ptr);
      if (seen.insert(c.member()).second) ZReplyMember(ctx, c.member(), c.score(), withscores);
    }
    return;
  }
  // Otherwise a partial Fisher-Yates shuffle of all positions.
  std::vector<store::ZCursor> all;
  all.reserve(size);
  for (store::ZCursor c = store::ZSetAtRank(e->enc, e->v.ptr, 0); c.valid(); c.Next())
    all.push_back(c);
  for (size_t i = 0; i < count; i++) {
    size_t j = i + store::RandomU64() % (size - i);
    std::swap(all[i], all[j]);
    ZReplyMember(ctx, all[i].member(), all[i].score(), withscores);
  }
}

void CmdZRandMember(Context& ctx) {
  if (ctx.argc() >= 3) {
    int64_t l;
    if (!ZParseRangeLong(ctx, ctx.arg(2), -INT64_MAX, INT64_MAX, {}, &l)) return;
    bool withscores = false;
    if (ctx.argc() > 4 || (ctx.argc() == 4 && !base::EqualsNoCase(ctx.arg(3), "withscores")))
      return ctx.reply().Error(err::kSyntax);
    if (ctx.argc() == 4) {
      withscores = true;
      if (l < -INT64_MAX / 2 || l > INT64_MAX / 2)
        return ctx.reply().Error("value is out of range");
    }
    return ZRandMemberWithCount(ctx, l, withscores);
  }
  bool wrong;
  Entry* e = ctx.LookupRead(ctx.arg(1), ObjType::kZSet, &wrong);
  if (wrong) return;
  if (e == nullptr) return ctx.reply().Null();
  ctx.reply().Bulk(store::ZSetRandom(e->enc, e->v.ptr).member());
}

void CmdZScan(Context& ctx) {
  size_t cursor;
  if (!ParseScanCursor(ctx, ctx.arg(2), &cursor)) return;
  bool wrong;
  Entry* e = ctx.LookupRead(ctx.arg(1), ObjType::kZSet, &wrong);
  if (wrong) return;
  if (e == nullptr) return ReplyEmptyScan(ctx);
  ScanOptions opt;
  if (!ParseScanOptions(ctx, 3, &opt)) return;
  std::vector<std::pair<std::string, std::string>> found;
  cursor = store::ZSetScan(e->enc, e->v.ptr, cursor, static_cast<size_t>(opt.count), &found);
  found.erase(std::remove_if(found.begin(), found.end(),
                             [&](const auto& p) { return !opt.Matches(p.first); }),
              found.end());
  ctx.reply().Array(2);
  ctx.reply().Bulk(std::to_string(cursor));
  ctx.reply().Array(found.size() * 2);
  for (const auto& [member, score] : found) {
    ctx.reply().Bulk(member);
    ctx.reply().Bulk(score);
  }
}

}  // namespace

void RegisterZSetCommands(CommandTable& t) {
  constexpr uint32_t W = kWrite | kDenyOom;
  constexpr uint32_t R = kReadonly;
  t.Add(ZSpec("zadd", -4, W | kFast, 1, 1, 1, CmdZAdd, "1.2.0",
              "Adds members with scores to a sorted set, or updates their scores.",
              "key [NX | XX] [GT | LT] [CH] [INCR] score member [score member ...]"));
  t.Add(ZSpec("zincrby", 4, W | kFast, 1, 1, 1, CmdZIncrBy, "1.2.0",
              "Adds to the score of a sorted-set member.", "key increment member"));
  t.Add(ZSpec("zrem", -3, kWrite | kFast, 1, 1, 1, CmdZRem, "1.2.0",
              "Removes members from a sorted set.", "key member [member ...]"));
  t.Add(ZSpec("zcard", 2, R | kFast, 1, 1, 1, CmdZCard, "1.2.0",
              "Returns the number of members of a sorted set.", "key"));
  t.Add(ZSpec("zscore", 3, R | kFast, 1, 1, 1, CmdZScore, "1.2.0",
              "Returns the score of a sorted-set member.", "key member"));
  t.Add(ZSpec("zmscore", -3, R | kFast, 1, 1, 1, CmdZMScore, "6.2.0",
              "Returns the scores of several sorted-set members.", "key member [member ...]"));
  t.Add(ZSpec("zrank", 3, R | kFast, 1, 1, 1, CmdZRank, "2.0.0",
              "Returns the position of a member, lowest score first.", "key member"));
  t.Add(ZSpec("zrevrank", 3, R | kFast, 1, 1, 1, CmdZRevRank, "2.0.0",
              "Returns the position of a member, highest score first.", "key member"));
  t.Add(ZSpec("zpopmin", -2, kWrite | kFast, 1, 1, 1, CmdZPopMin, "5.0.0",
              "Removes and returns the members with the lowest scores.", "key [count]"));
  t.Add(ZSpec("zpopmax", -2, kWrite | kFast, 1, 1, 1, CmdZPopMax, "5.0.0",
              "Removes and returns the members with the highest scores.", "key [count]"));
  t.Add(ZSpec("bzpopmin", -3, kWrite | kNoScript | kFast | kBlocking, 1, -2, 1, CmdBZPopMin,
              "5.0.0", "Pops the lowest-scored member of the first non-empty set, or blocks.",
              "key [key ...] timeout"));
  t.Add(ZSpec("bzpopmax", -3, kWrite | kNoScript | kFast | kBlocking, 1, -2, 1, CmdBZPopMax,
              "5.0.0", "Pops the highest-scored member of the first non-empty set, or blocks.",
              "key [key ...] timeout"));
  t.Add(ZSpec("zmpop", -4, kWrite, 0, 0, 0, CmdZMPop, "7.0.0",
              "Pops members from the first non-empty sorted set of several.",
              "numkeys key [key ...] MIN | MAX [COUNT count]"));
  t.Add(ZSpec("bzmpop", -5, kWrite | kBlocking, 0, 0, 0, CmdBZMPop, "7.0.0",
              "Pops members from the first non-empty sorted set of several, or blocks.",
              "timeout numkeys key [key ...] MIN | MAX [COUNT count]"));
  t.Add(ZSpec("zrandmember", -2, R, 1, 1, 1, CmdZRandMember, "6.2.0",
              "Returns random members of a sorted set.", "key [count [WITHSCORES]]"));
  t.Add(ZSpec("zscan", -3, R, 1, 1, 1, CmdZScan, "2.8.0",
              "Iterates over the members and scores of a sorted set.",
              "key cursor [MATCH pattern] [COUNT count]"));
  RegisterZSetRangeCommands(t);
}

}  // namespace cairn::cmd

// List commands (Redis 7.0 semantics): pushes and pops at both ends, ranges,
// positional edits, LPOS, moves between lists and the blocking variants, over
// the QuickList container (node/store/quicklist.h).
#include <algorithm>
#include <string>
#include <vector>

#include "node/base/number.h"
#include "node/commands/command.h"
#include "node/commands/context.h"
#include "node/store/list_type.h"

namespace cairn::cmd {
namespace {

namespace err = protocol::err;
using store::Entry;
using store::ObjType;
using store::QuickList;
using Where = QuickList::Where;

constexpr std::string_view kRankZero =
    "RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use "
    "negative to start from the end of the list";
constexpr std::string_view kCountNegative = "COUNT can't be negative";
constexpr std::string_view kMaxlenNegative = "MAXLEN can't be negative";
constexpr std::string_view kMustBePositive = "value is out of range, must be positive";
constexpr std::string_view kNumkeysPositive = "numkeys should be greater than 0";
constexpr std::string_view kCountPositive = "count should be greater than 0";

QuickList* ListOf(Entry* e) { return e->as<QuickList>(); }

QuickList* CreateList(Context& ctx, std::string_view key) {
  auto* q = new QuickList(ctx.cfg().list_max_listpack_size);
  ctx.db().AddContainer(key, ObjType::kList, store::Enc::kQuickList, q);
  return q;
}

// Parses LEFT/RIGHT; replies a syntax error otherwise.
bool ParseWhere(Context& ctx, std::string_view arg, Where* where) {
  if (base::EqualsNoCase(arg, "left")) {
    *where = Where::kHead;
  } else if (base::EqualsNoCase(arg, "right")) {
    *where = Where::kTail;
  } else {
    ctx.reply().Error(err::kSyntax);
    return false;
  }
  return true;
}

// After elements left `key`: deletes the key if it is now empty and signals
// the change (Redis's listElementsRemoved).
void ElementsRemoved(Context& ctx, std::string_view key, QuickList* q, int64_t count) {
  if (q->empty()) ctx.db().Delete(key);
  ctx.KeyModified(key, count);
}

// Replies elements [start, end] (inclusive, negative from the tail) as an array.
void RangeReply(Context& ctx, QuickList* q, int64_t start, int64_t end) {
  int64_t len = static_cast<int64_t>(q->size());
  if (start < 0) start += len;
  if (end < 0) end += len;
  if (start < 0) start = 0;
  if (start > end || start >= len) {
    ctx.reply().Array(0);
    return;
  }
  if (end >= len) end = len - 1;
  int64_t n = end - start + 1;
  ctx.reply().Array(static_cast<size_t>(n));
  QuickList::Pos p;
  q->Seek(start, &p);
  for (int64_t i = 0; i < n; i++) {
    ctx.reply().Bulk(q->Get(p));
    q->Next(&p);
  }
}

// Pops up to `count` elements from one end, replying them as an array in pop order.
int64_t PopRangeReply(Context& ctx, QuickList* q, Where where, int64_t count) {
  int64_t n = std::min<int64_t>(count, static_cast<int64_t>(q->size()));
  ctx.reply().Array(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; i++) ctx.reply().Bulk(q->Pop(where));
  return n;
}

const char* PopName(Where where) { return where == Where::kHead ? "LPOP" : "RPOP"; }

// [key, [elements...]] for LMPOP/BLMPOP, which leave the node as
// "LPOP|RPOP key <elements popped>" (the key chosen and the real count).
void PopRangeWithKeyReply(Context& ctx, std::string_view key, QuickList* q, Where where,
                          int64_t count) {
  ctx.reply().Array(2);
  ctx.reply().Bulk(key);
  int64_t n = PopRangeReply(ctx, q, where, count);
  ElementsRemoved(ctx, key, q, n);
  ctx.Propagate({PopName(where), std::string(key), base::Int64ToString(n)});
}

// --- pushes --------------------------------------------------------------

void PushGeneric(Context& ctx, Where where, bool only_if_exists) {
  std::string_view key = ctx.arg(1);
  bool wrong;
  Entry* e = ctx.LookupWrite(key, ObjType::kList, &wrong);
  if (wrong) return;
  QuickList* q;
  if (e == nullptr) {
    if (only_if_exists) {
      ctx.reply().Int(0);
      return;
    }
    q = CreateList(ctx, key);
  } else {
    q = ListOf(e);
  }
  for (size_t j = 2; j < ctx.argc(); j++) q->Push(where, ctx.arg(j));
  ctx.reply().Int(static_cast<int64_t>(q->size()));
  ctx.KeyModified(key, static_cast<int64_t>(ctx.argc() - 2));
  ctx.KeyReady(key);
}

void CmdLPush(Context& ctx) { PushGeneric(ctx, Where::kHead, false); }
void CmdRPush(Context& ctx) { PushGeneric(ctx, Where::kTail, false); }
void CmdLPushX(Context& ctx) { PushGeneric(ctx, Where::kHead, true); }
void CmdRPushX(Context& ctx) { PushGeneric(ctx, Where::kTail, true); }

// --- pops ----------------------------------------------------------------

void PopGeneric(Context& ctx, Where where) {
  if (ctx.argc() > 3) {
    ctx.reply().Error("wrong number of arguments for '" + ctx.cmd().name + "' command");
    return;
  }
  bool has_count = ctx.argc() == 3;
  int64_t count = 0;
  if (has_count && !ctx.ParseIntRange(ctx.arg(2), 0, INT64_MAX, &count, kMustBePositive)) return;
  std::string_view key = ctx.arg(1);
  bool wrong;
  Entry* e = ctx.LookupWrite(key, ObjType::kList, &wrong);
  if (wrong) return;
  if (e == nullptr) {
    if (has_count)
      ctx.reply().NullArray();
    else
      ctx.reply().Null();
    return;
  }
  QuickList* q = ListOf(e);
  if (has_count && count == 0) {
    ctx.reply().Array(0);
    return;
  }
  if (!has_count) {
    ctx.reply().Bulk(q->Pop(where));
    ElementsRemoved(ctx, key, q, 1);
    return;
  }
  int64_t n = PopRangeReply(ctx, q, where, count);
  ElementsRemoved(ctx, key, q, n);
}

void CmdLPop(Context& ctx) { PopGeneric(ctx, Where::kHead); }
void CmdRPop(Context& ctx) { PopGeneric(ctx, Where::kTail); }

// --- reads ---------------------------------------------------------------

void CmdLLen(Context& ctx) {
  bool wrong;
  Entry* e = ctx.LookupRead(ctx.arg(1), ObjType::kList, &wrong);
  if (wrong) return;
  ctx.reply().Int(e ? static_cast<int64_t>(ListOf(e)->size()) : 0);
}

void CmdLRange(Context& ctx) {
  int64_t start, end;
  if (!ctx.ParseInt(ctx.arg(2), &start) || !ctx.ParseInt(ctx.arg(3), &end)) return;
  bool wrong;
  Entry* e = ctx.LookupRead(ctx.arg(1), ObjType::kList, &wrong);
  if (wrong) return;
  if (e == nullptr) {
    ctx.reply().Array(0);
    return;
  }
  RangeReply(ctx, ListOf(e), start, end);
}

void CmdLIndex(Context& ctx) {
  bool wrong;
  Entry* e = ctx.LookupRead(ctx.arg(1), ObjType::kList, &wrong);
  if (wrong) return;
  if (e == nullptr) {
    ctx.reply().Null();
    return;
  }
  int64_t index;
  if (!ctx.ParseInt(ctx.arg(2), &index)) return;
  QuickList::Pos p;
  QuickList* q = ListOf(e);
  if (q->Seek(index, &p))
    ctx.reply().Bulk(q->Get(p));
  else
    ctx.reply().Null();
}

// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]
void CmdLPos(Context& ctx) {
  std::string_view element = ctx.arg(2);
  int64_t rank = 1, count = -1, maxlen = 0;  // count -1: no COUNT option
  for (size_t j = 3; j < ctx.argc(); j++) {
    std::string_view opt = ctx.arg(j);
    bool more = j + 1 < ctx.argc();
    if (base::EqualsNoCase(opt, "rank") && more) {
      if (!ctx.ParseInt(ctx.arg(++j), &rank)) return;
      if (rank == 0) {
        ctx.reply().Error(kRankZero);
        return;
      }
    } else if (base::EqualsNoCase(opt, "count") && more) {
      if (!ctx.ParseIntRange(ctx.arg(++j), 0, INT64_MAX, &count, kCountNegative)) return;
    } else if (base::EqualsNoCase(opt, "maxlen") && more) {
      if (!ctx.ParseIntRange(ctx.arg(++j), 0, INT64_MAX, &maxlen, kMaxlenNegative)) return;
    } else {
      ctx.reply().Error(err::kSyntax);
      return;
    }
  }
  bool from_tail = rank < 0;
  // RANK -9223372036854775808 overflows in Redis 7.0 when negated: stock Redis
  // then searches from the tail, every match qualifies and COUNT never stops it.
  bool rank_overflow = rank == INT64_MIN;
  if (from_tail) rank = rank_overflow ? 1 : -rank;

  bool wrong;
  Entry* e = ctx.LookupRead(ctx.arg(1), ObjType::kList, &wrong);
  if (wrong) return;
  if (e == nullptr) {
    if (count != -1)
      ctx.reply().Array(0);
    else
      ctx.reply().Null();
    return;
  }
  QuickList* q = ListOf(e);
  int64_t len = static_cast<int64_t>(q->size());
  size_t deferred = 0;
  if (count != -1) deferred = ctx.reply().BeginDeferred();
  QuickList::Pos p;
  bool ok = q->Seek(from_tail ? -1 : 0, &p);
  int64_t index = 0, matches = 0, found = -1, emitted = 0;
  while (ok && (maxlen == 0 || index < maxlen)) {
    if (q->Get(p) == element) {
      matches++;
      if (matches >= rank) {
        found = from_tail ? len - index - 1 : index;
        if (count == -1) break;
        emitted++;
        ctx.reply().Int(found);
        if (count != 0 && !rank_overflow && matches - rank + 1 >= count) break;
      }
    }
    index++;
    ok = from_tail ? q->Prev(&p) : q->Next(&p);
  }
  if (count != -1) {
    ctx.reply().EndDeferredArray(deferred, static_cast<size_t>(emitted));
  } else if (found != -1) {
    ctx.reply().Int(found);
  } else {
    ctx.reply().Null();
  }
}

// --- positional edits ----------------------------------------------------

void CmdLSet(Context& ctx) {
  std::string_view key = ctx.arg(1);
  bool wrong;
  Entry* e = ctx.LookupWrite(key, ObjType::kList, &wrong);
  if (wrong) return;
  if (e == nullptr) {
    ctx.reply().Error(err::kNoSuchKey);
    return;
  }
  int64_t index;
  if (!ctx.ParseInt(ctx.arg(2), &index)) return;
  if (!ListOf(e)->Replace(index, ctx.arg(3))) {
    ctx.reply().Error(err::kIndexOutOfRange);
    return;
  }
  ctx.reply().Ok();
  ctx.KeyModified(key);
}

void CmdLInsert(Context& ctx) {
  bool after;
  if (base::EqualsNoCase(ctx.arg(2), "after")) {
    after = true;
  } else if (base::EqualsNoCase(ctx.arg(2), "before")) {
    after = false;
  } else {
    ctx.reply().Error(err::kSyntax);
    return;
  }
  std::string_view key = ctx.arg(1);
  bool wrong;
  Entry* e = ctx.LookupWrite(key, ObjType::kList, &wrong);
  if (wrong) return;
  if (e == nullptr) {
    ctx.reply().Int(0);
    return;
  }
  QuickList* q = ListOf(e);
  QuickList::Pos p;
  if (!q->Find(ctx.arg(3), &p)) {
    ctx.reply().Int(-1);
    return;
  }
  q->Insert(p, after, ctx.arg(4));
  ctx.KeyModified(key);
  ctx.reply().Int(static_cast<int64_t>(q->size()));
}

void CmdLRem(Context& ctx) {
  int64_t limit;
  if (!ctx.ParseInt(ctx.arg(2), &limit)) return;
  std::string_view key = ctx.arg(1);
  bool wrong;
  Entry* e = ctx.LookupWrite(key, ObjType::kList, &wrong);
  if (wrong) return;
  if (e == nullptr) {
    ctx.reply().Int(0);
    return;
  }
  QuickList* q = ListOf(e);
  size_t removed = q->Remove(ctx.arg(3), limit);
  if (removed > 0) ctx.KeyModified(key, static_cast<int64_t>(removed));
  if (q->empty()) ctx.db().Delete(key);
  ctx.reply().Int(static_cast<int64_t>(removed));
}

void CmdLTrim(Context& ctx) {
  int64_t start, end;
  if (!ctx.ParseInt(ctx.arg(2), &start) || !ctx.ParseInt(ctx.arg(3), &end)) return;
  std::string_view key = ctx.arg(1);
  bool wrong;
  Entry* e = ctx.LookupWrite(key, ObjType::kList, &wrong);
  if (wrong) return;
  if (e == nullptr) {
    ctx.reply().Ok();
    return;
  }
  QuickList* q = ListOf(e);
  int64_t len = static_cast<int64_t>(q->size());
  if (start < 0) start += len;
  if (end < 0) end += len;
  if (start < 0) start = 0;
  int64_t ltrim, rtrim;
  if (start > end || start >= len) {
    ltrim = len;
    rtrim = 0;
  } else {
    if (end >= len) end = len - 1;
    ltrim = start;
    rtrim = len - end - 1;
  }
  q->DeleteRange(0, static_cast<size_t>(ltrim));
  q->DeleteRange(-rtrim, static_cast<size_t>(rtrim));
  if (q->empty()) ctx.db().Delete(key);
  ctx.KeyModified(key, ltrim + rtrim);
  ctx.reply().Ok();
}

// --- moves ---------------------------------------------------------------

// LMOVE body: source exists check, destination type check, pop, push, reply.
// Returns whether an element moved.
bool MoveGeneric(Context& ctx, Where from, Where to) {
  std::string_view src_key = ctx.arg(1), dst_key = ctx.arg(2);
  bool wrong;
  Entry* src = ctx.LookupWrite(src_key, ObjType::kList, &wrong);
  if (wrong) return false;
  if (src == nullptr) {
    ctx.reply().Null();
    return false;
  }
  Entry* dst = ctx.LookupWrite(dst_key, ObjType::kList, &wrong);
  if (wrong) return false;
  QuickList* sq = ListOf(src);
  std::string value = sq->Pop(from);
  QuickList* dq = dst ? ListOf(dst) : CreateList(ctx, dst_key);
  dq->Push(to, value);
  ctx.KeyModified(dst_key, 0);
  ctx.KeyReady(dst_key);
  ctx.reply().Bulk(value);
  // After the push: with source == destination the list is never left empty.
  if (sq->empty()) ctx.db().Delete(src_key);
  ctx.KeyModified(src_key, 1);
  return true;
}

void CmdLMove(Context& ctx) {
  Where from, to;
  if (!ParseWhere(ctx, ctx.arg(3), &from) || !ParseWhere(ctx, ctx.arg(4), &to)) return;
  MoveGeneric(ctx, from, to);
}

void CmdRPopLPush(Context& ctx) { MoveGeneric(ctx, Where::kTail, Where::kHead); }

// LMPOP's non-blocking body: the first non-empty list among `keys`.
void MultiPopGeneric(Context& ctx, const std::vector<std::string>& keys, Where where,
                     int64_t count) {
  for (const std::string& key : keys) {
    bool wrong;
    Entry* e = ctx.LookupWrite(key, ObjType::kList, &wrong);
    if (wrong) return;
    if (e == nullptr) continue;
    PopRangeWithKeyReply(ctx, key, ListOf(e), where, count);
    return;
  }
  ctx.reply().NullArray();
}

// --- blocking ------------------------------------------------------------

// Looks up a key a blocking command waits on. A key of another type is an
// error on the first run; on a retry (woken because some key got elements) it
// is skipped like a missing key, as Redis serves only lists to list waiters.
Entry* LookupBlockingKey(Context& ctx, std::string_view key, bool* replied) {
  *replied = false;
  Entry* e = ctx.db().Lookup(key);
  if (e == nullptr || e->type == ObjType::kList) return e;
  if (ctx.is_retry()) return nullptr;
  ctx.reply().Error(err::kWrongType);
  *replied = true;
  return nullptr;
}

// BLPOP/BRPOP (count == -1) and BLMPOP (count >= 1).
void BlockingPopGeneric(Context& ctx, size_t first_key, size_t numkeys, Where where,
                        size_t timeout_idx, int64_t count) {
  int64_t deadline;
  if (!ctx.ParseTimeout(ctx.arg(timeout_idx), &deadline)) return;
  std::vector<std::string> keys;
  keys.reserve(numkeys);
  for (size_t j = 0; j < numkeys; j++) keys.emplace_back(ctx.arg(first_key + j));
  for (const std::string& key : keys) {
    bool replied;
    Entry* e = LookupBlockingKey(ctx, key, &replied);
    if (replied) return;
    if (e == nullptr) continue;
    QuickList* q = ListOf(e);
    if (count != -1) {
      PopRangeWithKeyReply(ctx, key, q, where, count);
      return;
    }
    ctx.reply().Array(2);
    ctx.reply().Bulk(key);
    ctx.reply().Bulk(q->Pop(where));
    ElementsRemoved(ctx, key, q, 1);
    ctx.Propagate({PopName(where), key});
    return;
  }
  if (!ctx.CanBlock()) {
    ctx.reply().NullArray();
    return;
  }
  ctx.BlockOnKeys(keys, deadline);
}

void CmdBLPop(Context& ctx) {
  BlockingPopGeneric(ctx, 1, ctx.argc() - 2, Where::kHead, ctx.argc() - 1, -1);
}

void CmdBRPop(Context& ctx) {
  BlockingPopGeneric(ctx, 1, ctx.argc() - 2, Where::kTail, ctx.argc() - 1, -1);
}

void BlockingMoveGeneric(Context& ctx, Where from, Where to, size_t timeout_idx) {
  int64_t deadline;
  if (!ctx.ParseTimeout(ctx.arg(timeout_idx), &deadline)) return;
  bool replied;
  Entry* src = LookupBlockingKey(ctx, ctx.arg(1), &replied);
  if (replied) return;
  if (src != nullptr) {
    if (!MoveGeneric(ctx, from, to)) return;
    // Replicas get the non-blocking form. BRPOPLPUSH keeps its two keys;
    // BLMOVE keeps its arguments as typed, except that a client served after
    // blocking sends the directions in lower case, as Redis does.
    std::string src_key(ctx.arg(1)), dst_key(ctx.arg(2));
    if (ctx.cmd().name == "brpoplpush") {
      ctx.Propagate({"RPOPLPUSH", src_key, dst_key});
    } else if (ctx.is_retry()) {
      auto dir = [](Where w) { return w == Where::kHead ? "left" : "right"; };
      ctx.Propagate({"LMOVE", src_key, dst_key, dir(from), dir(to)});
    } else {
      ctx.Propagate({"LMOVE", src_key, dst_key, std::string(ctx.arg(3)), std::string(ctx.arg(4))});
    }
    return;
  }
  if (!ctx.CanBlock()) {
    ctx.reply().Null();
    return;
  }
  ctx.BlockOnKeys({std::string(ctx.arg(1))}, deadline);
}

void CmdBLMove(Context& ctx) {
  Where from, to;
  if (!ParseWhere(ctx, ctx.arg(3), &from) || !ParseWhere(ctx, ctx.arg(4), &to)) return;
  BlockingMoveGeneric(ctx, from, to, 5);
}

void CmdBRPopLPush(Context& ctx) { BlockingMoveGeneric(ctx, Where::kTail, Where::kHead, 3); }

// LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]; BLMPOP has the timeout first.
void MultiPopCommand(Context& ctx, size_t numkeys_idx, bool block) {
  int64_t numkeys;
  if (!ctx.ParseIntRange(ctx.arg(numkeys_idx), 1, INT64_MAX, &numkeys, kNumkeysPositive)) return;
  if (numkeys >= static_cast<int64_t>(ctx.argc())) {
    ctx.reply().Error(err::kSyntax);
    return;
  }
  size_t where_idx = numkeys_idx + static_cast<size_t>(numkeys) + 1;
  if (where_idx >= ctx.argc()) {
    ctx.reply().Error(err::kSyntax);
    return;
  }
  Where where;
  if (!ParseWhere(ctx, ctx.arg(where_idx), &where)) return;
  int64_t count = -1;
  for (size_t j = where_idx + 1; j < ctx.argc(); j++) {
    bool more = j + 1 < ctx.argc();
    if (count == -1 && base::EqualsNoCase(ctx.arg(j), "count") && more) {
      if (!ctx.ParseIntRange(ctx.arg(++j), 1, INT64_MAX, &count, kCountPositive)) return;
    } else {
      ctx.reply().Error(err::kSyntax);
      return;
    }
  }
  if (count == -1) count = 1;
  if (block) {
    BlockingPopGeneric(ctx, numkeys_idx + 1, static_cast<size_t>(numkeys), where, 1, count);
    return;
  }
  std::vector<std::string> keys;
  for (int64_t j = 0; j < numkeys; j++) keys.emplace_back(ctx.arg(numkeys_idx + 1 + j));
  MultiPopGeneric(ctx, keys, where, count);
}

void CmdLMPop(Context& ctx) { MultiPopCommand(ctx, 1, false); }
void CmdBLMPop(Context& ctx) { MultiPopCommand(ctx, 2, true); }

CommandSpec Spec(const char* name, int arity, uint32_t flags, int first, int last, Handler h,
                 const char* since, const char* summary, const char* syntax, const char* acl) {
  return MakeSpec(name, arity, flags, first, last, first == 0 ? 0 : 1, h, "list", since, summary,
                  syntax, acl);
}

}  // namespace

void RegisterListCommands(CommandTable& t) {
  constexpr uint32_t kWF = kWrite | kDenyOom | kFast;
  constexpr uint32_t kWD = kWrite | kDenyOom;
  constexpr uint32_t kBlock = kWrite | kNoScript | kBlocking;
  const char* kWFast = "@write @list @fast";
  const char* kWSlow = "@write @list @slow";
  const char* kWBlock = "@write @list @slow @blocking";

  t.Add(Spec("lpush", -3, kWF, 1, 1, CmdLPush, "1.0.0",
             "Prepends elements to a list, creating it if needed; returns the new length.",
             "key element [element ...]", kWFast));
  t.Add(Spec("rpush", -3, kWF, 1, 1, CmdRPush, "1.0.0",
             "Appends elements to a list, creating it if needed; returns the new length.",
             "key element [element ...]", kWFast));
  t.Add(Spec("lpushx", -3, kWF, 1, 1, CmdLPushX, "2.2.0",
             "Prepends elements only when the list already exists.", "key element [element ...]",
             kWFast));
  t.Add(Spec("rpushx", -3, kWF, 1, 1, CmdRPushX, "2.2.0",
             "Appends elements only when the list already exists.", "key element [element ...]",
             kWFast));
  t.Add(Spec("lpop", -2, kWrite | kFast, 1, 1, CmdLPop, "1.0.0",
             "Removes and returns the first element(s) of a list.", "key [count]", kWFast));
  t.Add(Spec("rpop", -2, kWrite | kFast, 1, 1, CmdRPop, "1.0.0",
             "Removes and returns the last element(s) of a list.", "key [count]", kWFast));
  t.Add(Spec("llen", 2, kReadonly | kFast, 1, 1, CmdLLen, "1.0.0",
             "Returns the number of elements of a list.", "key", "@read @list @fast"));
  t.Add(Spec("lrange", 4, kReadonly, 1, 1, CmdLRange, "1.0.0",
             "Returns the elements between two indexes (inclusive).", "key start stop",
             "@read @list @slow"));
  t.Add(Spec("lindex", 3, kReadonly, 1, 1, CmdLIndex, "1.0.0", "Returns the element at an index.",
             "key index", "@read @list @slow"));
  t.Add(Spec("lset", 4, kWD, 1, 1, CmdLSet, "1.0.0", "Overwrites the element at an index.",
             "key index element", kWSlow));
  t.Add(Spec("linsert", 5, kWD, 1, 1, CmdLInsert, "2.2.0",
             "Inserts an element before or after the first occurrence of a pivot.",
             "key <BEFORE | AFTER> pivot element", kWSlow));
  t.Add(Spec("lrem", 4, kWrite, 1, 1, CmdLRem, "1.0.0",
             "Removes occurrences of an element, from the head or the tail.", "key count element",
             kWSlow));
  t.Add(Spec("ltrim", 4, kWrite, 1, 1, CmdLTrim, "1.0.0",
             "Keeps only the elements between two indexes.", "key start stop", kWSlow));
  t.Add(Spec("lpos", -3, kReadonly, 1, 1, CmdLPos, "6.0.6",
             "Returns the index (or indexes) of matching elements.",
             "key element [RANK rank] [COUNT num-matches] [MAXLEN len]", "@read @list @slow"));
  t.Add(Spec("lmove", 5, kWD, 1, 2, CmdLMove, "6.2.0",
             "Pops an element from one list and pushes it onto another.",
             "source destination <LEFT | RIGHT> <LEFT | RIGHT>", kWSlow));
  t.Add(Spec("rpoplpush", 3, kWD, 1, 2, CmdRPopLPush, "1.2.0",
             "Pops the last element of a list and prepends it to another (LMOVE RIGHT LEFT).",
             "source destination", kWSlow));
  t.Add(Spec("lmpop", -4, kWrite, 0, 0, CmdLMPop, "7.0.0",
             "Pops elements from the first non-empty list among several keys.",
             "numkeys key [key ...] <LEFT | RIGHT> [COUNT count]", kWSlow));
  t.Add(Spec("blpop", -3, kBlock, 1, -2, CmdBLPop, "2.0.0",
             "Pops the first element of the first non-empty list, waiting for one if needed.",
             "key [key ...] timeout", kWBlock));
  t.Add(Spec("brpop", -3, kBlock, 1, -2, CmdBRPop, "2.0.0",
             "Pops the last element of the first non-empty list, waiting for one if needed.",
             "key [key ...] timeout", kWBlock));
  t.Add(Spec("blmove", 6, kBlock | kDenyOom, 1, 2, CmdBLMove, "6.2.0",
             "LMOVE that waits for the source list to get an element.",
             "source destination <LEFT | RIGHT> <LEFT | RIGHT> timeout", kWBlock));
  t.Add(Spec("brpoplpush", 4, kBlock | kDenyOom, 1, 2, CmdBRPopLPush, "2.2.0",
             "RPOPLPUSH that waits for the source list to get an element.",
             "source destination timeout", kWBlock));
  t.Add(Spec("blmpop", -5, kWrite | kBlocking, 0, 0, CmdBLMPop, "7.0.0",
             "LMPOP that waits for one of the lists to get elements.",
             "timeout numkeys key [key ...] <LEFT | RIGHT> [COUNT count]", kWBlock));
}

}  // namespace cairn::cmd

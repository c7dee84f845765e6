// Set commands (Redis 7.0 semantics): membership, random picks and pops, the
// SINTER/SUNION/SDIFF algebra with their *STORE forms, SINTERCARD and SSCAN,
// over store::set_type's intset, packed and table encodings.
#include <algorithm>
#include <climits>
#include <string>
#include <utility>
#include <vector>

#include "node/base/number.h"
#include "node/commands/collection_scan.h"
#include "node/commands/command.h"
#include "node/commands/context.h"
#include "node/store/set_type.h"

namespace cairn::cmd {
namespace {

namespace err = protocol::err;
using store::Entry;
using store::ObjType;

constexpr std::string_view kMustBePositive = "value is out of range, must be positive";
constexpr std::string_view kCountRange =
    "value is out of range, value must between -9223372036854775807 and 9223372036854775807";
constexpr std::string_view kNumKeys = "numkeys should be greater than 0";
constexpr std::string_view kTooManyKeys = "Number of keys can't be greater than number of args";
constexpr std::string_view kLimitNegative = "LIMIT can't be negative";

store::SetLimits Limits(Context& ctx) {
  const auto& c = ctx.cfg();
  store::SetLimits lim;
  lim.max_intset_entries = static_cast<size_t>(std::max<int64_t>(0, c.set_max_intset_entries));
  lim.max_packed_entries = static_cast<size_t>(std::max<int64_t>(0, c.set_max_listpack_entries));
  lim.max_packed_value = static_cast<size_t>(std::max<int64_t>(0, c.set_max_listpack_value));
  return lim;
}

std::vector<std::string> AllMembers(const Entry* e) {
  std::vector<std::string> out;
  out.reserve(store::SetSize(e));
  store::SetForEach(e, [&](std::string_view m) { out.emplace_back(m); });
  return out;
}

// Moves `count` distinct random members to the front of `all` (partial Fisher-Yates).
void SampleFront(std::vector<std::string>* all, size_t count) {
  for (size_t i = 0; i < count; i++) {
    size_t j = i + store::RandomU64() % (all->size() - i);
    std::swap((*all)[i], (*all)[j]);
  }
}

void CmdSAdd(Context& ctx) {
  bool wrong;
  Entry* e = ctx.LookupWrite(ctx.arg(1), ObjType::kSet, &wrong);
  if (wrong) return;
  if (e == nullptr) {
    store::Enc enc;
    void* ptr = store::SetCreateFor(ctx.arg(2), &enc);
    e = ctx.db().AddContainer(ctx.arg(1), ObjType::kSet, enc, ptr);
  }
  auto lim = Limits(ctx);
  int64_t added = 0;
  for (size_t i = 2; i < ctx.argc(); i++) {
    if (store::SetAdd(e, ctx.arg(i), lim)) added++;
  }
  if (added) ctx.KeyModified(ctx.arg(1), added);
  ctx.reply().Int(added);
}

void CmdSRem(Context& ctx) {
  bool wrong;
  Entry* e = ctx.LookupWrite(ctx.arg(1), ObjType::kSet, &wrong);
  if (wrong) return;
  if (e == nullptr) return ctx.reply().Int(0);
  int64_t deleted = 0;
  for (size_t i = 2; i < ctx.argc(); i++) {
    if (!store::SetRemove(e, ctx.arg(i))) continue;
    deleted++;
    if (store::SetSize(e) == 0) {
      ctx.db().Delete(ctx.arg(1));
      break;
    }
  }
  if (deleted) ctx.KeyModified(ctx.arg(1), deleted);
  ctx.reply().Int(deleted);
}

void CmdSMove(Context& ctx) {
  std::string_view src_key = ctx.arg(1), dst_key = ctx.arg(2), member = ctx.arg(3);
  Entry* src = ctx.db().Lookup(src_key);
  Entry* dst = ctx.db().Lookup(dst_key);
  if (src == nullptr) return ctx.reply().Int(0);
  if (src->type != ObjType::kSet || (dst && dst->type != ObjType::kSet)) {
    return ctx.reply().Error(err::kWrongType);
  }
  if (src == dst) return ctx.reply().Int(store::SetIsMember(src, member) ? 1 : 0);
  if (!store::SetRemove(src, member)) return ctx.reply().Int(0);
  if (store::SetSize(src) == 0) ctx.db().Delete(src_key);
  ctx.KeyModified(src_key);
  if (dst == nullptr) {
    store::Enc enc;
    void* ptr = store::SetCreateFor(member, &enc);
    dst = ctx.db().AddContainer(dst_key, ObjType::kSet, enc, ptr);
  }
  if (store::SetAdd(dst, member, Limits(ctx))) ctx.KeyModified(dst_key);
  ctx.reply().Int(1);
}

void CmdSIsMember(Context& ctx) {
  bool wrong;
  Entry* e = ctx.LookupRead(ctx.arg(1), ObjType::kSet, &wrong);
  if (wrong) return;
  ctx.reply().Int(e && store::SetIsMember(e, ctx.arg(2)) ? 1 : 0);
}

void CmdSMIsMember(Context& ctx) {
  bool wrong;
  Entry* e = ctx.LookupRead(ctx.arg(1), ObjType::kSet, &wrong);
  if (wrong) return;
  ctx.reply().Array(ctx.argc() - 2);
  for (size_t i = 2; i < ctx.argc(); i++) {
    ctx.reply().Int(e && store::SetIsMember(e, ctx.arg(i)) ? 1 : 0);
  }
}

void CmdSCard(Context& ctx) {
  bool wrong;
  Entry* e = ctx.LookupRead(ctx.arg(1), ObjType::kSet, &wrong);
  if (wrong) return;
  ctx.reply().Int(e ? static_cast<int64_t>(store::SetSize(e)) : 0);
}

void ReplyWholeSet(Context& ctx, const Entry* e) {
  ctx.reply().Set(store::SetSize(e));
  store::SetForEach(e, [&](std::string_view m) { ctx.reply().Bulk(m); });
}

void SPopWithCount(Context& ctx) {
  int64_t l;
  if (!ctx.ParseIntRange(ctx.arg(2), 0, INT64_MAX, &l, kMustBePositive)) return;
  bool wrong;
  Entry* e = ctx.LookupWrite(ctx.arg(1), ObjType::kSet, &wrong);
  if (wrong) return;
  if (e == nullptr || l == 0) return ctx.reply().Set(0);
  size_t count = static_cast<size_t>(l), size = store::SetSize(e);
  if (count >= size) {
    ReplyWholeSet(ctx, e);
    ctx.db().Delete(ctx.arg(1));
    ctx.KeyModified(ctx.arg(1), static_cast<int64_t>(size));
    ctx.Propagate({"DEL", std::string(ctx.arg(1))});
    return;
  }
  std::vector<std::string> all = AllMembers(e);
  SampleFront(&all, count);
  ctx.reply().Set(count);
  // The random choice is made here once: replicas get one SREM per member
  // popped (as 7.0 does; the flush wraps them in MULTI/EXEC).
  for (size_t i = 0; i < count; i++) {
    store::SetRemove(e, all[i]);
    ctx.reply().Bulk(all[i]);
    ctx.Propagate({"SREM", std::string(ctx.arg(1)), all[i]});
  }
  ctx.KeyModified(ctx.arg(1), static_cast<int64_t>(count));
}

void CmdSPop(Context& ctx) {
  if (ctx.argc() == 3) return SPopWithCount(ctx);
  if (ctx.argc() > 3) return ctx.reply().Error(err::kSyntax);
  bool wrong;
  Entry* e = ctx.LookupWrite(ctx.arg(1), ObjType::kSet, &wrong);
  if (wrong) return;
  if (e == nullptr) return ctx.reply().Null();
  std::string m = store::SetRandom(e);
  store::SetRemove(e, m);
  ctx.reply().Bulk(m);
  if (store::SetSize(e) == 0) ctx.db().Delete(ctx.arg(1));
  ctx.KeyModified(ctx.arg(1));
  ctx.Propagate({"SREM", std::string(ctx.arg(1)), m});
}

void SRandMemberWithCount(Context& ctx) {
  int64_t l;
  if (!ctx.ParseInt(ctx.arg(2), &l)) return;
  if (l == INT64_MIN) return ctx.reply().Error(kCountRange);
  bool wrong;
  Entry* e = ctx.LookupRead(ctx.arg(1), ObjType::kSet, &wrong);
  if (wrong) return;
  if (e == nullptr || l == 0) return ctx.reply().Array(0);
  size_t size = store::SetSize(e);
  if (l < 0 || l == 1) {
    size_t count = l < 0 ? static_cast<size_t>(-l) : 1;
    ctx.reply().Array(count);
    while (count--) ctx.reply().Bulk(store::SetRandom(e));
    return;
  }
  size_t count = static_cast<size_t>(l);
  if (count >= size) {
    ctx.reply().Array(size);
    store::SetForEach(e, [&](std::string_view m) { ctx.reply().Bulk(m); });
    return;
  }
  std::vector<std::string> all = AllMembers(e);
  SampleFront(&all, count);
  ctx.reply().Array(count);
  for (size_t i = 0; i < count; i++) ctx.reply().Bulk(all[i]);
}

void CmdSRandMember(Context& ctx) {
  if (ctx.argc() == 3) return SRandMemberWithCount(ctx);
  if (ctx.argc() > 3) return ctx.reply().Error(err::kSyntax);
  bool wrong;
  Entry* e = ctx.LookupRead(ctx.arg(1), ObjType::kSet, &wrong);
  if (wrong) return;
  if (e == nullptr) return ctx.reply().Null();
  ctx.reply().Bulk(store::SetRandom(e));
}

// Looks up every key as a set for reading; false after a WRONGTYPE reply.
// Missing keys are nullptr.
bool LookupSets(Context& ctx, size_t first, size_t n, std::vector<Entry*>* sets) {
  sets->clear();
  for (size_t i = 0; i < n; i++) {
    Entry* e = ctx.db().LookupRead(ctx.arg(first + i));
    if (e && e->type != ObjType::kSet) {
      ctx.reply().Error(err::kWrongType);
      return false;
    }
    sets->push_back(e);
  }
  return true;
}

// Writes a computed set to `dst` (replacing whatever was there, or deleting it
// when the result is empty) and replies its size.
void StoreResult(Context& ctx, std::string_view dst, store::SetObj result) {
  size_t n = store::SetLength(result.enc, result.ptr);
  if (n == 0) {
    store::SetFree(result.enc, result.ptr);
    if (ctx.db().Delete(dst)) ctx.KeyModified(dst);
    return ctx.reply().Int(0);
  }
  ctx.db().Delete(dst);
  ctx.db().AddContainer(dst, ObjType::kSet, result.enc, result.ptr);
  ctx.KeyModified(dst);
  ctx.reply().Int(static_cast<int64_t>(n));
}

store::SetObj NewResult() {
  store::SetObj r;
  r.enc = store::Enc::kIntSet;
  r.ptr = store::IntSet::Create();
  return r;
}

// SINTER / SINTERSTORE / SINTERCARD. `dst` empty = reply the members.
void InterGeneric(Context& ctx, size_t first, size_t n, std::string_view dst, bool store,
                  bool card_only, uint64_t limit) {
  std::vector<Entry*> sets;
  if (!LookupSets(ctx, first, n, &sets)) return;
  bool any_missing = std::any_of(sets.begin(), sets.end(), [](Entry* e) { return !e; });
  if (any_missing) {
    if (store) {
      if (ctx.db().Delete(dst)) ctx.KeyModified(dst);
      return ctx.reply().Int(0);
    }
    if (card_only) return ctx.reply().Int(0);
    return ctx.reply().Set(0);
  }
  std::stable_sort(sets.begin(), sets.end(),
                   [](Entry* a, Entry* b) { return store::SetSize(a) < store::SetSize(b); });
  std::vector<std::string> members;
  uint64_t card = 0;
  bool done = false;
  store::SetForEach(sets[0], [&](std::string_view m) {
    if (done) return;
    for (size_t j = 1; j < sets.size(); j++) {
      if (sets[j] != sets[0] && !store::SetIsMember(sets[j], m)) return;
    }
    card++;
    if (card_only) {
      if (limit && card >= limit) done = true;
    } else {
      members.emplace_back(m);
    }
  });
  if (card_only) return ctx.reply().Int(static_cast<int64_t>(card));
  if (store) {
    store::SetObj r = NewResult();
    auto lim = Limits(ctx);
    for (const auto& m : members) store::SetAdd(r.enc, r.ptr, m, lim);
    return StoreResult(ctx, dst, r);
  }
  ctx.reply().Set(members.size());
  for (const auto& m : members) ctx.reply().Bulk(m);
}

// SUNION / SDIFF and their *STORE forms.
void UnionDiffGeneric(Context& ctx, size_t first, size_t n, std::string_view dst, bool store,
                      bool diff) {
  std::vector<Entry*> sets;
  if (!LookupSets(ctx, first, n, &sets)) return;
  store::SetObj r = NewResult();
  auto lim = Limits(ctx);
  if (!diff) {
    for (Entry* e : sets) {
      if (e) store::SetForEach(e, [&](std::string_view m) { store::SetAdd(r.enc, r.ptr, m, lim); });
    }
  } else if (sets[0]) {
    bool sameset = false;
    for (size_t j = 1; j < sets.size(); j++) sameset |= sets[j] == sets[0];
    if (!sameset) {
      store::SetForEach(sets[0], [&](std::string_view m) {
        for (size_t j = 1; j < sets.size(); j++) {
          if (sets[j] && store::SetIsMember(sets[j], m)) return;
        }
        store::SetAdd(r.enc, r.ptr, m, lim);
      });
    }
  }
  if (store) return StoreResult(ctx, dst, r);
  ctx.reply().Set(store::SetLength(r.enc, r.ptr));
  store::SetForEach(r.enc, r.ptr, [&](std::string_view m) { ctx.reply().Bulk(m); });
  store::SetFree(r.enc, r.ptr);
}

void CmdSMembers(Context& ctx) { InterGeneric(ctx, 1, 1, {}, false, false, 0); }
void CmdSInter(Context& ctx) { InterGeneric(ctx, 1, ctx.argc() - 1, {}, false, false, 0); }
void CmdSInterStore(Context& ctx) {
  InterGeneric(ctx, 2, ctx.argc() - 2, ctx.arg(1), true, false, 0);
}
void CmdSUnion(Context& ctx) { UnionDiffGeneric(ctx, 1, ctx.argc() - 1, {}, false, false); }
void CmdSUnionStore(Context& ctx) {
  UnionDiffGeneric(ctx, 2, ctx.argc() - 2, ctx.arg(1), true, false);
}
void CmdSDiff(Context& ctx) { UnionDiffGeneric(ctx, 1, ctx.argc() - 1, {}, false, true); }
void CmdSDiffStore(Context& ctx) {
  UnionDiffGeneric(ctx, 2, ctx.argc() - 2, ctx.arg(1), true, true);
}

void CmdSInterCard(Context& ctx) {
  int64_t numkeys;
  if (!ctx.ParseIntRange(ctx.arg(1), 1, INT64_MAX, &numkeys, kNumKeys)) return;
  if (numkeys > static_cast<int64_t>(ctx.argc()) - 2) return ctx.reply().Error(kTooManyKeys);
  int64_t limit = 0;
  for (size_t j = 2 + static_cast<size_t>(numkeys); j < ctx.argc(); j++) {
    size_t more = ctx.argc() - 1 - j;
    if (base::EqualsNoCase(ctx.arg(j), "limit") && more) {
      j++;
      if (!ctx.ParseIntRange(ctx.arg(j), 0, INT64_MAX, &limit, kLimitNegative)) return;
    } else {
      return ctx.reply().Error(err::kSyntax);
    }
  }
  InterGeneric(ctx, 2, static_cast<size_t>(numkeys), {}, false, true, static_cast<uint64_t>(limit));
}

void CmdSScan(Context& ctx) {
  size_t cursor;
  if (!ParseScanCursor(ctx, ctx.arg(2), &cursor)) return;
  bool wrong;
  Entry* e = ctx.LookupRead(ctx.arg(1), ObjType::kSet, &wrong);
  if (wrong) return;
  if (e == nullptr) return ReplyEmptyScan(ctx);
  ScanOptions opt;
  if (!ParseScanOptions(ctx, 3, &opt)) return;
  std::vector<std::string> found;
  int64_t budget = opt.count * 10;
  do {
    cursor = store::SetScan(e, cursor, [&](std::string_view m) { found.emplace_back(m); });
  } while (cursor && budget-- && found.size() < static_cast<size_t>(opt.count));
  size_t kept = 0;
  for (auto& m : found) {
    if (!opt.Matches(m)) continue;
    if (&found[kept] != &m) found[kept] = std::move(m);
    kept++;
  }
  found.resize(kept);
  ctx.reply().Array(2);
  ctx.reply().Bulk(std::to_string(cursor));
  ctx.reply().Array(found.size());
  for (const auto& m : found) ctx.reply().Bulk(m);
}

CommandSpec Spec(const char* name, int arity, uint32_t flags, int first, int last, int step,
                 Handler h, const char* since, const char* summary, const char* syntax,
                 const char* acl) {
  return MakeSpec(name, arity, flags, first, last, step, h, "set", since, summary, syntax, acl);
}

}  // namespace

void RegisterSetCommands(CommandTable& t) {
  constexpr uint32_t kRF = kReadonly | kFast;
  const char* wf = "@write @set @fast";
  const char* ws = "@write @set @slow";
  const char* rf = "@read @set @fast";
  const char* rs = "@read @set @slow";
  t.Add(Spec("sadd", -3, kWrite | kDenyOom | kFast, 1, 1, 1, CmdSAdd, "1.0.0",
             "Adds members to a set, creating it if needed; returns how many were new.",
             "key member [member ...]", wf));
  t.Add(Spec("srem", -3, kWrite | kFast, 1, 1, 1, CmdSRem, "1.0.0",
             "Removes members from a set; the key goes away with its last member.",
             "key member [member ...]", wf));
  t.Add(Spec("scard", 2, kRF, 1, 1, 1, CmdSCard, "1.0.0", "Returns the number of members.", "key",
             rf));
  t.Add(Spec("sismember", 3, kRF, 1, 1, 1, CmdSIsMember, "1.0.0",
             "Tells whether a value is a member of a set.", "key member", rf));
  t.Add(Spec("smismember", -3, kRF, 1, 1, 1, CmdSMIsMember, "6.2.0",
             "Tells, for each value, whether it is a member of a set.", "key member [member ...]",
             rf));
  t.Add(Spec("smembers", 2, kReadonly, 1, 1, 1, CmdSMembers, "1.0.0",
             "Returns every member of a set.", "key", rs));
  t.Add(Spec("spop", -2, kWrite | kFast, 1, 1, 1, CmdSPop, "1.0.0",
             "Removes and returns random members of a set.", "key [count]", wf));
  t.Add(Spec("srandmember", -2, kReadonly, 1, 1, 1, CmdSRandMember, "1.0.0",
             "Returns random members of a set; a negative count allows repeats.", "key [count]",
             rs));
  t.Add(Spec("smove", 4, kWrite | kFast, 1, 2, 1, CmdSMove, "1.0.0",
             "Moves a member from one set to another.", "source destination member", wf));
  t.Add(Spec("sinter", -2, kReadonly, 1, -1, 1, CmdSInter, "1.0.0",
             "Returns the intersection of sets.", "key [key ...]", rs));
  t.Add(Spec("sunion", -2, kReadonly, 1, -1, 1, CmdSUnion, "1.0.0", "Returns the union of sets.",
             "key [key ...]", rs));
  t.Add(Spec("sdiff", -2, kReadonly, 1, -1, 1, CmdSDiff, "1.0.0",
             "Returns the members of the first set missing from all the others.", "key [key ...]",
             rs));
  t.Add(Spec("sinterstore", -3, kWrite | kDenyOom, 1, -1, 1, CmdSInterStore, "1.0.0",
             "Stores the intersection of sets in a key.", "destination key [key ...]", ws));
  t.Add(Spec("sunionstore", -3, kWrite | kDenyOom, 1, -1, 1, CmdSUnionStore, "1.0.0",
             "Stores the union of sets in a key.", "destination key [key ...]", ws));
  t.Add(Spec("sdiffstore", -3, kWrite | kDenyOom, 1, -1, 1, CmdSDiffStore, "1.0.0",
             "Stores the difference of sets in a key.", "destination key [key ...]", ws));
  t.Add(Spec("sintercard", -3, kReadonly, 0, 0, 0, CmdSInterCard, "7.0.0",
             "Counts the members of the intersection of sets, optionally stopping at a limit.",
             "numkeys key [key ...] [LIMIT limit]", rs));
  t.Add(Spec("sscan", -3, kReadonly, 1, 1, 1, CmdSScan, "2.8.0",
             "Iterates the members of a set with a cursor.",
             "key cursor [MATCH pattern] [COUNT count]", rs));
}

}  // namespace cairn::cmd

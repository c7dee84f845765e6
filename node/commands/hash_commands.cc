// Hash commands (Redis 7.0 semantics): HSET/HMSET/HSETNX, reads, HINCRBY*,
// HSCAN and HRANDFIELD over store::hash_type's packed and table encodings.
#include <algorithm>
#include <climits>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "node/base/number.h"
#include "node/commands/collection_scan.h"
#include "node/commands/command.h"
#include "node/commands/context.h"
#include "node/store/hash_type.h"

namespace cairn::cmd {
namespace {

namespace err = protocol::err;
using store::Entry;
using store::ObjType;

constexpr std::string_view kHashNotInteger = "hash value is not an integer";
constexpr std::string_view kHashNotFloat = "hash value is not a float";
constexpr std::string_view kNanOrInf = "value is NaN or Infinity";
constexpr std::string_view kWouldBeNanOrInf = "increment would produce NaN or Infinity";
constexpr std::string_view kOutOfRange = "value is out of range";

store::HashLimits Limits(Context& ctx) {
  store::HashLimits lim;
  lim.max_entries = static_cast<size_t>(std::max<int64_t>(0, ctx.cfg().hash_max_listpack_entries));
  lim.max_value = static_cast<size_t>(std::max<int64_t>(0, ctx.cfg().hash_max_listpack_value));
  return lim;
}

// The hash at `key` for a write, created empty when missing; nullptr after a
// WRONGTYPE reply.
Entry* LookupOrCreate(Context& ctx, std::string_view key) {
  bool wrong;
  Entry* e = ctx.LookupWrite(key, ObjType::kHash, &wrong);
  if (wrong) return nullptr;
  if (e == nullptr) {
    e = ctx.db().AddContainer(key, ObjType::kHash, store::Enc::kPacked, store::HashCreate());
  }
  return e;
}

// Deletes a key a failed write left empty (it was created by LookupOrCreate).
void DropIfEmpty(Context& ctx, Entry* e, std::string_view key) {
  if (store::HashSize(e) == 0) ctx.db().Delete(key);
}

void ReplyArity(Context& ctx) {
  ctx.reply().Error("wrong number of arguments for '" + ctx.cmd().name + "' command");
}

// HSET and HMSET: field/value pairs from argv[2].
void SetPairs(Context& ctx, bool reply_count) {
  if (ctx.argc() % 2 == 1) return ReplyArity(ctx);
  Entry* e = LookupOrCreate(ctx, ctx.arg(1));
  if (e == nullptr) return;
  auto lim = Limits(ctx);
  store::HashConvertForArgs(e, ctx.argv().data() + 2, ctx.argc() - 2, lim);
  int64_t created = 0;
  for (size_t i = 2; i < ctx.argc(); i += 2) {
    if (store::HashSet(e, ctx.arg(i), ctx.arg(i + 1), lim)) created++;
  }
  ctx.KeyModified(ctx.arg(1));
  if (reply_count)
    ctx.reply().Int(created);
  else
    ctx.reply().Ok();
}

void CmdHSet(Context& ctx) { SetPairs(ctx, true); }
void CmdHMSet(Context& ctx) { SetPairs(ctx, false); }

void CmdHSetNx(Context& ctx) {
  Entry* e = LookupOrCreate(ctx, ctx.arg(1));
  if (e == nullptr) return;
  if (store::HashExists(e, ctx.arg(2))) return ctx.reply().Int(0);
  auto lim = Limits(ctx);
  store::HashConvertForArgs(e, ctx.argv().data() + 2, 2, lim);
  store::HashSet(e, ctx.arg(2), ctx.arg(3), lim);
  ctx.KeyModified(ctx.arg(1));
  ctx.reply().Int(1);
}

void CmdHGet(Context& ctx) {
  bool wrong;
  Entry* e = ctx.LookupRead(ctx.arg(1), ObjType::kHash, &wrong);
  if (wrong) return;
  std::string_view v;
  if (e == nullptr || !store::HashGet(e, ctx.arg(2), &v)) return ctx.reply().Null();
  ctx.reply().Bulk(v);
}

void CmdHMGet(Context& ctx) {
  bool wrong;
  Entry* e = ctx.LookupRead(ctx.arg(1), ObjType::kHash, &wrong);
  if (wrong) return;
  ctx.reply().Array(ctx.argc() - 2);
  for (size_t i = 2; i < ctx.argc(); i++) {
    std::string_view v;
    if (e != nullptr && store::HashGet(e, ctx.arg(i), &v))
      ctx.reply().Bulk(v);
    else
      ctx.reply().Null();
  }
}

void CmdHDel(Context& ctx) {
  bool wrong;
  Entry* e = ctx.LookupWrite(ctx.arg(1), ObjType::kHash, &wrong);
  if (wrong) return;
  if (e == nullptr) return ctx.reply().Int(0);
  int64_t deleted = 0;
  for (size_t i = 2; i < ctx.argc(); i++) {
    if (!store::HashDelete(e, ctx.arg(i))) continue;
    deleted++;
    if (store::HashSize(e) == 0) {
      ctx.db().Delete(ctx.arg(1));
      break;
    }
  }
  if (deleted) ctx.KeyModified(ctx.arg(1));
  ctx.reply().Int(deleted);
}

void CmdHLen(Context& ctx) {
  bool wrong;
  Entry* e = ctx.LookupRead(ctx.arg(1), ObjType::kHash, &wrong);
  if (wrong) return;
  ctx.reply().Int(e ? static_cast<int64_t>(store::HashSize(e)) : 0);
}

void CmdHStrLen(Context& ctx) {
  bool wrong;
  Entry* e = ctx.LookupRead(ctx.arg(1), ObjType::kHash, &wrong);
  if (wrong) return;
  std::string_view v;
  ctx.reply().Int(e && store::HashGet(e, ctx.arg(2), &v) ? static_cast<int64_t>(v.size()) : 0);
}

void CmdHExists(Context& ctx) {
  bool wrong;
  Entry* e = ctx.LookupRead(ctx.arg(1), ObjType::kHash, &wrong);
  if (wrong) return;
  ctx.reply().Int(e && store::HashExists(e, ctx.arg(2)) ? 1 : 0);
}

// HKEYS / HVALS / HGETALL.
void GetAllGeneric(Context& ctx, bool keys, bool values) {
  bool wrong;
  Entry* e = ctx.LookupRead(ctx.arg(1), ObjType::kHash, &wrong);
  if (wrong) return;
  size_t n = e ? store::HashSize(e) : 0;
  if (keys && values)
    ctx.reply().Map(n);
  else
    ctx.reply().Array(n);
  if (e == nullptr) return;
  store::HashForEach(e, [&](std::string_view f, std::string_view v) {
    if (keys) ctx.reply().Bulk(f);
    if (values) ctx.reply().Bulk(v);
  });
}

void CmdHKeys(Context& ctx) { GetAllGeneric(ctx, true, false); }
void CmdHVals(Context& ctx) { GetAllGeneric(ctx, false, true); }
void CmdHGetAll(Context& ctx) { GetAllGeneric(ctx, true, true); }

void CmdHIncrBy(Context& ctx) {
  int64_t incr;
  if (!ctx.ParseInt(ctx.arg(3), &incr)) return;
  Entry* e = LookupOrCreate(ctx, ctx.arg(1));
  if (e == nullptr) return;
  int64_t value = 0;
  std::string_view cur;
  if (store::HashGet(e, ctx.arg(2), &cur) && !base::ParseInt64(cur, &value)) {
    return ctx.reply().Error(kHashNotInteger);
  }
  if ((incr < 0 && value < 0 && incr < INT64_MIN - value) ||
      (incr > 0 && value > 0 && incr > INT64_MAX - value)) {
    DropIfEmpty(ctx, e, ctx.arg(1));
    return ctx.reply().Error(err::kOverflow);
  }
  value += incr;
  store::HashSet(e, ctx.arg(2), base::Int64ToString(value), Limits(ctx));
  ctx.KeyModified(ctx.arg(1));
  ctx.reply().Int(value);
}

void CmdHIncrByFloat(Context& ctx) {
  long double incr;
  if (!ctx.ParseLongDouble(ctx.arg(3), &incr)) return;
  if (std::isnan(incr) || std::isinf(incr)) return ctx.reply().Error(kNanOrInf);
  Entry* e = LookupOrCreate(ctx, ctx.arg(1));
  if (e == nullptr) return;
  long double value = 0;
  std::string_view cur;
  if (store::HashGet(e, ctx.arg(2), &cur) && !base::ParseLongDouble(cur, &value)) {
    return ctx.reply().Error(kHashNotFloat);
  }
  value += incr;
  if (std::isnan(value) || std::isinf(value)) {
    DropIfEmpty(ctx, e, ctx.arg(1));
    return ctx.reply().Error(kWouldBeNanOrInf);
  }
  std::string out = base::FormatLongDoubleHuman(value);
  store::HashSet(e, ctx.arg(2), out, Limits(ctx));
  ctx.KeyModified(ctx.arg(1));
  ctx.reply().Bulk(out);
  // The result travels as HSET so replicas cannot round differently.
  ctx.Propagate({"HSET", std::string(ctx.arg(1)), std::string(ctx.arg(2)), out});
}

void CmdHScan(Context& ctx) {
  size_t cursor;
  if (!ParseScanCursor(ctx, ctx.arg(2), &cursor)) return;
  bool wrong;
  Entry* e = ctx.LookupRead(ctx.arg(1), ObjType::kHash, &wrong);
  if (wrong) return;
  if (e == nullptr) return ReplyEmptyScan(ctx);
  ScanOptions opt;
  if (!ParseScanOptions(ctx, 3, &opt)) return;
  std::vector<std::pair<std::string, std::string>> found;
  int64_t budget = opt.count * 10;
  do {
    cursor = store::HashScan(e, cursor, [&](std::string_view f, std::string_view v) {
      found.emplace_back(std::string(f), std::string(v));
    });
  } while (cursor && budget-- && found.size() < static_cast<size_t>(opt.count));
  size_t kept = 0;
  for (auto& p : found) {
    if (!opt.Matches(p.first)) continue;
    if (&found[kept] != &p) found[kept] = std::move(p);
    kept++;
  }
  found.resize(kept);
  ctx.reply().Array(2);
  ctx.reply().Bulk(std::to_string(cursor));
  ctx.reply().Array(found.size() * 2);
  for (const auto& [f, v] : found) {
    ctx.reply().Bulk(f);
    ctx.reply().Bulk(v);
  }
}

void ReplyPair(Context& ctx, std::string_view f, std::string_view v, bool withvalues) {
  if (withvalues && ctx.reply().proto() >= 3) ctx.reply().Array(2);
  ctx.reply().Bulk(f);
  if (withvalues) ctx.reply().Bulk(v);
}

void RandFieldWithCount(Context& ctx, int64_t l, bool withvalues) {
  bool wrong;
  Entry* e = ctx.LookupRead(ctx.arg(1), ObjType::kHash, &wrong);
  if (wrong) return;
  if (e == nullptr || l == 0) return ctx.reply().Array(0);
  bool uniq = l > 0;
  uint64_t count = uniq ? static_cast<uint64_t>(l) : static_cast<uint64_t>(-l);
  size_t size = store::HashSize(e);
  bool flat = withvalues && ctx.reply().proto() == 2;
  if (!uniq || count == 1) {
    // Repeats allowed: independent draws.
    ctx.reply().Array(flat ? count * 2 : count);
    while (count--) {
      std::string_view f, v;
      store::HashRandom(e, &f, &v);
      ReplyPair(ctx, f, v, withvalues);
    }
    return;
  }
  if (count >= size) {
    ctx.reply().Array(flat ? size * 2 : size);
    store::HashForEach(
        e, [&](std::string_view f, std::string_view v) { ReplyPair(ctx, f, v, withvalues); });
    return;
  }
  // Distinct fields: a partial Fisher-Yates shuffle over all pairs.
  std::vector<std::pair<std::string_view, std::string_view>> all;
  all.reserve(size);
  store::HashForEach(e, [&](std::string_view f, std::string_view v) { all.emplace_back(f, v); });
  ctx.reply().Array(flat ? count * 2 : count);
  for (size_t i = 0; i < count; i++) {
    size_t j = i + store::RandomU64() % (size - i);
    std::swap(all[i], all[j]);
    ReplyPair(ctx, all[i].first, all[i].second, withvalues);
  }
}

void CmdHRandField(Context& ctx) {
  if (ctx.argc() >= 3) {
    int64_t l;
    if (!ctx.ParseInt(ctx.arg(2), &l)) return;
    if (l == INT64_MIN) {
      return ctx.reply().Error(
          "value is out of range, value must between -9223372036854775807 and "
          "9223372036854775807");
    }
    bool withvalues = false;
    if (ctx.argc() > 4 || (ctx.argc() == 4 && !base::EqualsNoCase(ctx.arg(3), "withvalues"))) {
      return ctx.reply().Error(err::kSyntax);
    }
    if (ctx.argc() == 4) {
      withvalues = true;
      if (l < -INT64_MAX / 2 || l > INT64_MAX / 2) return ctx.reply().Error(kOutOfRange);
    }
    return RandFieldWithCount(ctx, l, withvalues);
  }
  bool wrong;
  Entry* e = ctx.LookupRead(ctx.arg(1), ObjType::kHash, &wrong);
  if (wrong) return;
  if (e == nullptr) return ctx.reply().Null();
  std::string_view f, v;
  store::HashRandom(e, &f, &v);
  ctx.reply().Bulk(f);
}

CommandSpec Spec(const char* name, int arity, uint32_t flags, Handler h, const char* since,
                 const char* summary, const char* syntax, const char* acl) {
  return MakeSpec(name, arity, flags, 1, 1, 1, h, "hash", since, summary, syntax, acl);
}

}  // namespace

void RegisterHashCommands(CommandTable& t) {
  constexpr uint32_t kW = kWrite | kDenyOom | kFast;
  constexpr uint32_t kRF = kReadonly | kFast;
  const char* w = "@write @hash @fast";
  const char* rf = "@read @hash @fast";
  const char* rs = "@read @hash @slow";
  t.Add(Spec("hset", -4, kW, CmdHSet, "2.0.0",
             "Sets fields of a hash, creating it if needed; returns how many fields were new.",
             "key field value [field value ...]", w));
  t.Add(Spec("hsetnx", 4, kW, CmdHSetNx, "2.0.0",
             "Sets a hash field only when it does not exist yet.", "key field value", w));
  t.Add(Spec("hget", 3, kRF, CmdHGet, "2.0.0", "Returns the value of a hash field.", "key field",
             rf));
  t.Add(Spec("hmget", -3, kRF, CmdHMGet, "2.0.0", "Returns the values of several hash fields.",
             "key field [field ...]", rf));
  t.Add(Spec("hmset", -4, kW, CmdHMSet, "2.0.0",
             "Sets fields of a hash (older form of HSET, replies OK).",
             "key field value [field value ...]", w));
  t.Add(Spec("hdel", -3, kWrite | kFast, CmdHDel, "2.0.0",
             "Removes fields from a hash; the key goes away with its last field.",
             "key field [field ...]", w));
  t.Add(
      Spec("hlen", 2, kRF, CmdHLen, "2.0.0", "Returns the number of fields of a hash.", "key", rf));
  t.Add(Spec("hexists", 3, kRF, CmdHExists, "2.0.0", "Tells whether a hash field exists.",
             "key field", rf));
  t.Add(Spec("hkeys", 2, kReadonly, CmdHKeys, "2.0.0", "Returns every field name of a hash.", "key",
             rs));
  t.Add(
      Spec("hvals", 2, kReadonly, CmdHVals, "2.0.0", "Returns every value of a hash.", "key", rs));
  t.Add(Spec("hgetall", 2, kReadonly, CmdHGetAll, "2.0.0",
             "Returns every field and value of a hash.", "key", rs));
  t.Add(Spec("hincrby", 4, kW, CmdHIncrBy, "2.0.0",
             "Adds an integer to the integer value of a hash field.", "key field increment", w));
  t.Add(Spec("hincrbyfloat", 4, kW, CmdHIncrByFloat, "2.6.0",
             "Adds a decimal number to the numeric value of a hash field.", "key field increment",
             w));
  t.Add(Spec("hstrlen", 3, kRF, CmdHStrLen, "3.2.0",
             "Returns the byte length of a hash field's value.", "key field", rf));
  t.Add(Spec("hscan", -3, kReadonly, CmdHScan, "2.8.0",
             "Iterates the fields and values of a hash with a cursor.",
             "key cursor [MATCH pattern] [COUNT count]", rs));
  t.Add(Spec("hrandfield", -2, kReadonly, CmdHRandField, "6.2.0",
             "Returns random fields (and optionally their values) of a hash.",
             "key [count [WITHVALUES]]", rs));
}

}  // namespace cairn::cmd

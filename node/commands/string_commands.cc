// String commands: SET and its variants, GET family, counters, ranges.
// Semantics and error strings follow Redis 7.0's t_string.c.
#include <climits>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "node/base/clock.h"
#include "node/base/number.h"
#include "node/commands/command.h"
#include "node/commands/context.h"

namespace cairn::cmd {
namespace {

namespace err = protocol::err;
using store::Entry;
using store::ObjType;

constexpr std::string_view kStringTooBig =
    "string exceeds maximum allowed size (proto-max-bulk-len)";

enum SetFlag : uint32_t {
  kNx = 1,
  kXx = 2,
  kGet = 4,
  kKeepTtl = 8,
  kPersist = 16,
  kEx = 32,
  kPx = 64,
  kExAt = 128,
  kPxAt = 256,
};
constexpr uint32_t kAnyExpire = kEx | kPx | kExAt | kPxAt;

enum class ArgsFor { kSet, kGetEx };

// Parses SET/GETEX options from argv[start...] as Redis's
// parseExtendedStringArgumentsOrReply: any conflict is a syntax error.
bool ParseSetOptions(Context& ctx, size_t start, ArgsFor kind, uint32_t* flags,
                     std::string_view* expire) {
  for (size_t j = start; j < ctx.argc(); j++) {
    std::string_view opt = ctx.arg(j);
    bool has_next = j + 1 < ctx.argc();
    bool set = kind == ArgsFor::kSet;
    auto is = [&](const char* w) { return base::EqualsNoCase(opt, w); };
    uint32_t f = *flags;
    if (set && is("NX") && !(f & kXx)) {
      *flags |= kNx;
    } else if (set && is("XX") && !(f & kNx)) {
      *flags |= kXx;
    } else if (set && is("GET")) {
      *flags |= kGet;
    } else if (set && is("KEEPTTL") && !(f & (kPersist | kAnyExpire))) {
      *flags |= kKeepTtl;
    } else if (!set && is("PERSIST") && !(f & (kAnyExpire | kKeepTtl))) {
      *flags |= kPersist;
    } else if (has_next && !(f & (kKeepTtl | kPersist)) &&
               ((is("EX") && !(f & (kAnyExpire & ~kEx))) ||
                (is("PX") && !(f & (kAnyExpire & ~kPx))) ||
                (is("EXAT") && !(f & (kAnyExpire & ~kExAt))) ||
                (is("PXAT") && !(f & (kAnyExpire & ~kPxAt))))) {
      *flags |= is("EX") ? kEx : is("PX") ? kPx : is("EXAT") ? kExAt : kPxAt;
      *expire = ctx.arg(++j);
    } else {
      ctx.reply().Error(err::kSyntax);
      return false;
    }
  }
  return true;
}

// Turns an EX/PX/EXAT/PXAT argument into absolute unix ms, replying Redis's
// "invalid expire time in '<cmd>' command" when it is not positive or overflows.
bool ExpireToMs(Context& ctx, std::string_view arg, uint32_t flags, int64_t* out) {
  int64_t v;
  if (!ctx.ParseInt(arg, &v)) return false;
  bool seconds = flags & (kEx | kExAt);
  auto bad = [&] {
    ctx.reply().ErrorFormat(err::kInvalidExpire, ctx.cmd().name);
    return false;
  };
  if (v <= 0 || (seconds && v > INT64_MAX / 1000)) return bad();
  if (seconds) v *= 1000;
  if (flags & (kEx | kPx)) {
    int64_t now = base::NowMs();
    if (v > INT64_MAX - now) return bad();
    v += now;
  }
  if (v <= 0) return bad();
  *out = v;
  return true;
}

// Replies the string value of `key`: nil if missing. Returns false after a
// WRONGTYPE reply.
bool GetGeneric(Context& ctx, std::string_view key) {
  bool wrong;
  Entry* e = ctx.LookupRead(key, ObjType::kString, &wrong);
  if (wrong) return false;
  if (e == nullptr) {
    ctx.reply().Null();
    return true;
  }
  std::string scratch;
  ctx.reply().Bulk(store::Db::StringValue(e, &scratch));
  return true;
}

// The form a successful SET-family write leaves in: with any expiry, exactly
// "SET key value PXAT <ms>" (SETEX, PSETEX and relative times become
// absolute, other options go); with GET, the arguments minus every GET after
// the value (the reply-only option means nothing to a replica).
void PropagateSet(Context& ctx, uint32_t flags, std::string_view key, std::string_view value,
                  bool has_expire, int64_t when) {
  if (has_expire) {
    ctx.Propagate({"SET", std::string(key), std::string(value), "PXAT", base::Int64ToString(when)});
  } else if (flags & kGet) {
    std::vector<std::string> argv;
    for (size_t j = 0; j < ctx.argc(); j++) {
      if (j >= 3 && base::EqualsNoCase(ctx.arg(j), "GET")) continue;
      argv.emplace_back(ctx.arg(j));
    }
    ctx.Propagate(std::move(argv));
  }
}

// True when an absolute deadline has passed and this node deletes the key
// itself (a replica or a load waits for the master's DEL instead).
bool AlreadyExpired(Context& ctx, int64_t when) {
  bool is_replica = store::Hooks().is_replica || !ctx.cfg().replicaof.empty();
  return when <= base::NowMs() && !ctx.server().loading && !is_replica;
}

// The body shared by SET, SETNX, SETEX, PSETEX (Redis's setGenericCommand).
void SetGeneric(Context& ctx, uint32_t flags, std::string_view key, std::string_view value,
                std::string_view expire, bool nx_reply_int) {
  int64_t when = 0;
  bool has_expire = !expire.empty() || (flags & kAnyExpire);
  if (has_expire && !ExpireToMs(ctx, expire, flags, &when)) return;
  if (flags & kGet) {
    if (!GetGeneric(ctx, key)) return;
  }
  bool found = ctx.db().Lookup(key) != nullptr;
  if (((flags & kNx) && found) || ((flags & kXx) && !found)) {
    if (!(flags & kGet)) {
      if (nx_reply_int)
        ctx.reply().Int(0);
      else
        ctx.reply().Null();
    }
    return;
  }
  Entry* e = ctx.db().SetString(key, value, flags & kKeepTtl);
  if (has_expire) ctx.db().SetExpire(e, when);
  ctx.KeyModified(key);
  PropagateSet(ctx, flags, key, value, has_expire, when);
  if (!(flags & kGet)) {
    if (nx_reply_int)
      ctx.reply().Int(1);
    else
      ctx.reply().Ok();
  }
}

void CmdSet(Context& ctx) {
  uint32_t flags = 0;
  std::string_view expire;
  if (!ParseSetOptions(ctx, 3, ArgsFor::kSet, &flags, &expire)) return;
  SetGeneric(ctx, flags, ctx.arg(1), ctx.arg(2), expire, false);
}

void CmdSetNx(Context& ctx) { SetGeneric(ctx, kNx, ctx.arg(1), ctx.arg(2), {}, true); }
void CmdSetEx(Context& ctx) { SetGeneric(ctx, kEx, ctx.arg(1), ctx.arg(3), ctx.arg(2), false); }
void CmdPSetEx(Context& ctx) { SetGeneric(ctx, kPx, ctx.arg(1), ctx.arg(3), ctx.arg(2), false); }

void CmdGet(Context& ctx) { GetGeneric(ctx, ctx.arg(1)); }

void CmdGetSet(Context& ctx) {
  if (!GetGeneric(ctx, ctx.arg(1))) return;
  ctx.db().SetString(ctx.arg(1), ctx.arg(2));
  ctx.KeyModified(ctx.arg(1));
  ctx.Propagate({"SET", std::string(ctx.arg(1)), std::string(ctx.arg(2))});
}

void CmdGetDel(Context& ctx) {
  if (!GetGeneric(ctx, ctx.arg(1))) return;
  if (!ctx.db().Delete(ctx.arg(1))) return;
  ctx.KeyModified(ctx.arg(1));
  ctx.Propagate({ctx.cfg().lazyfree_lazy_user_del ? "UNLINK" : "DEL", std::string(ctx.arg(1))});
}

void CmdGetEx(Context& ctx) {
  uint32_t flags = 0;
  std::string_view expire;
  if (!ParseSetOptions(ctx, 2, ArgsFor::kGetEx, &flags, &expire)) return;
  std::string_view key = ctx.arg(1);
  bool wrong;
  Entry* e = ctx.LookupRead(key, ObjType::kString, &wrong);
  if (wrong) return;
  if (e == nullptr) {
    ctx.reply().Null();
    return;
  }
  int64_t when = 0;
  if ((flags & kAnyExpire) && !ExpireToMs(ctx, expire, flags, &when)) return;
  std::string scratch;
  ctx.reply().Bulk(store::Db::StringValue(e, &scratch));
  // GETEX itself never leaves the node: only its effect does.
  if ((flags & (kExAt | kPxAt)) && AlreadyExpired(ctx, when)) {
    ctx.db().Delete(key);
    ctx.KeyModified(key);
    ctx.Propagate({ctx.cfg().lazyfree_lazy_expire ? "UNLINK" : "DEL", std::string(key)});
  } else if (flags & kAnyExpire) {
    ctx.db().SetExpire(e, when);
    ctx.KeyModified(key);
    ctx.Propagate({"PEXPIREAT", std::string(key), base::Int64ToString(when)});
  } else if (flags & kPersist) {
    if (ctx.db().RemoveExpire(e)) {
      ctx.KeyModified(key);
      ctx.Propagate({"PERSIST", std::string(key)});
    }
  }
}

void CmdMGet(Context& ctx) {
  ctx.reply().Array(ctx.argc() - 1);
  std::string scratch;
  for (size_t i = 1; i < ctx.argc(); i++) {
    Entry* e = ctx.db().LookupRead(ctx.arg(i));
    if (e == nullptr || e->type != ObjType::kString)
      ctx.reply().Null();
    else
      ctx.reply().Bulk(store::Db::StringValue(e, &scratch));
  }
}

void MSetGeneric(Context& ctx, bool nx) {
  if (ctx.argc() % 2 == 0) {
    ctx.reply().Error("wrong number of arguments for '" + ctx.cmd().name + "' command");
    return;
  }
  if (nx) {
    for (size_t j = 1; j < ctx.argc(); j += 2) {
      if (ctx.db().Lookup(ctx.arg(j)) != nullptr) {
        ctx.reply().Int(0);
        return;
      }
    }
  }
  for (size_t j = 1; j < ctx.argc(); j += 2) {
    ctx.db().SetString(ctx.arg(j), ctx.arg(j + 1));
    ctx.KeyModified(ctx.arg(j));
  }
  if (nx)
    ctx.reply().Int(1);
  else
    ctx.reply().Ok();
}

void CmdMSet(Context& ctx) { MSetGeneric(ctx, false); }
void CmdMSetNx(Context& ctx) { MSetGeneric(ctx, true); }

void IncrDecr(Context& ctx, int64_t incr) {
  std::string_view key = ctx.arg(1);
  bool wrong;
  Entry* e = ctx.LookupWrite(key, ObjType::kString, &wrong);
  if (wrong) return;
  int64_t value = 0;
  if (e != nullptr) {
    if (e->enc == store::Enc::kInt) {
      value = e->v.ival;
    } else {
      std::string scratch;
      if (!ctx.ParseInt(store::Db::StringValue(e, &scratch), &value)) return;
    }
  }
  if ((incr < 0 && value < 0 && incr < INT64_MIN - value) ||
      (incr > 0 && value > 0 && incr > INT64_MAX - value)) {
    ctx.reply().Error(err::kOverflow);
    return;
  }
  value += incr;
  if (e != nullptr) {
    ctx.db().ReplaceInt(e, value);
  } else {
    ctx.db().SetString(key, base::Int64ToString(value));
  }
  ctx.KeyModified(key);
  ctx.reply().Int(value);
}

void CmdIncr(Context& ctx) { IncrDecr(ctx, 1); }
void CmdDecr(Context& ctx) { IncrDecr(ctx, -1); }

void CmdIncrBy(Context& ctx) {
  int64_t incr;
  if (!ctx.ParseInt(ctx.arg(2), &incr)) return;
  IncrDecr(ctx, incr);
}

void CmdDecrBy(Context& ctx) {
  int64_t incr;
  if (!ctx.ParseInt(ctx.arg(2), &incr)) return;
  if (incr == INT64_MIN) {
    ctx.reply().Error("decrement would overflow");
    return;
  }
  IncrDecr(ctx, -incr);
}

void CmdIncrByFloat(Context& ctx) {
  std::string_view key = ctx.arg(1);
  bool wrong;
  Entry* e = ctx.LookupWrite(key, ObjType::kString, &wrong);
  if (wrong) return;
  long double value = 0, incr;
  if (e != nullptr) {
    std::string scratch;
    if (!ctx.ParseLongDouble(store::Db::StringValue(e, &scratch), &value)) return;
  }
  if (!ctx.ParseLongDouble(ctx.arg(2), &incr)) return;
  value += incr;
  if (std::isnan(value) || std::isinf(value)) {
    ctx.reply().Error("increment would produce NaN or Infinity");
    return;
  }
  std::string text = base::FormatLongDoubleHuman(value);
  if (e != nullptr)
    ctx.db().ReplaceString(e, text, /*allow_int=*/false);
  else
    ctx.db().SetString(key, text, false, /*allow_int=*/false);
  ctx.KeyModified(key);
  ctx.reply().Bulk(text);
  // The result, not the increment, so float formatting on the other side
  // cannot make the copies drift.
  ctx.Propagate({"SET", std::string(key), text, "KEEPTTL"});
}

bool CheckStringLength(Context& ctx, int64_t size, int64_t append) {
  if (ctx.client().has(kMaster)) return true;
  uint64_t total = static_cast<uint64_t>(size) + static_cast<uint64_t>(append);
  if (total > static_cast<uint64_t>(ctx.cfg().proto_max_bulk_len)) {
    ctx.reply().Error(kStringTooBig);
    return false;
  }
  return true;
}

void CmdAppend(Context& ctx) {
  std::string_view key = ctx.arg(1), value = ctx.arg(2);
  bool wrong;
  Entry* e = ctx.LookupWrite(key, ObjType::kString, &wrong);
  if (wrong) return;
  size_t len;
  if (e == nullptr) {
    ctx.db().SetString(key, value);
    len = value.size();
  } else {
    size_t cur = store::Db::ValueLength(e);
    if (!CheckStringLength(ctx, static_cast<int64_t>(cur), static_cast<int64_t>(value.size())))
      return;
    store::StrBuf* b = ctx.db().MakeRaw(e);
    b = store::StrBuf::Reserve(b, b->len + value.size());
    std::memcpy(b->data() + b->len, value.data(), value.size());
    b->len += static_cast<uint32_t>(value.size());
    e->v.ptr = b;
    len = b->len;
  }
  ctx.KeyModified(key);
  ctx.reply().Int(static_cast<int64_t>(len));
}

void CmdStrLen(Context& ctx) {
  bool wrong;
  Entry* e = ctx.LookupRead(ctx.arg(1), ObjType::kString, &wrong);
  if (wrong) return;
  ctx.reply().Int(e ? static_cast<int64_t>(store::Db::ValueLength(e)) : 0);
}

void CmdGetRange(Context& ctx) {
  int64_t start, end;
  if (!ctx.ParseInt(ctx.arg(2), &start) || !ctx.ParseInt(ctx.arg(3), &end)) return;
  bool wrong;
  Entry* e = ctx.LookupRead(ctx.arg(1), ObjType::kString, &wrong);
  if (wrong) return;
  if (e == nullptr) {
    ctx.reply().Bulk("");
    return;
  }
  std::string scratch;
  std::string_view s = store::Db::StringValue(e, &scratch);
  int64_t len = static_cast<int64_t>(s.size());
  if (start < 0 && end < 0 && start > end) {
    ctx.reply().Bulk("");
    return;
  }
  if (start < 0) start = len + start;
  if (end < 0) end = len + end;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= len) end = len - 1;
  if (start > end || len == 0) {
    ctx.reply().Bulk("");
    return;
  }
  ctx.reply().Bulk(s.substr(static_cast<size_t>(start), static_cast<size_t>(end - start + 1)));
}

void CmdSetRange(Context& ctx) {
  std::string_view key = ctx.arg(1), value = ctx.arg(3);
  int64_t offset;
  if (!ctx.ParseInt(ctx.arg(2), &offset)) return;
  if (offset < 0) {
    ctx.reply().Error("offset is out of range");
    return;
  }
  bool wrong;
  Entry* e = ctx.LookupWrite(key, ObjType::kString, &wrong);
  if (wrong) return;
  if (e == nullptr) {
    if (value.empty()) {
      ctx.reply().Int(0);
      return;
    }
    if (!CheckStringLength(ctx, offset, static_cast<int64_t>(value.size()))) return;
    std::string fresh(static_cast<size_t>(offset) + value.size(), '\0');
    std::memcpy(fresh.data() + offset, value.data(), value.size());
    // Redis builds this value as a raw string; keep that encoding.
    e = ctx.db().SetString(key, "");
    store::StrBuf* b = ctx.db().MakeRaw(e);
    b = store::StrBuf::Reserve(b, fresh.size());
    std::memcpy(b->data(), fresh.data(), fresh.size());
    b->len = static_cast<uint32_t>(fresh.size());
    e->v.ptr = b;
    ctx.KeyModified(key);
    ctx.reply().Int(static_cast<int64_t>(fresh.size()));
    return;
  }
  size_t olen = store::Db::ValueLength(e);
  if (value.empty()) {
    ctx.reply().Int(static_cast<int64_t>(olen));
    return;
  }
  if (!CheckStringLength(ctx, offset, static_cast<int64_t>(value.size()))) return;
  store::StrBuf* b = ctx.db().MakeRaw(e);
  size_t need = std::max(static_cast<size_t>(offset) + value.size(), static_cast<size_t>(b->len));
  b = store::StrBuf::Reserve(b, need);
  if (need > b->len) std::memset(b->data() + b->len, 0, need - b->len);
  std::memcpy(b->data() + offset, value.data(), value.size());
  b->len = static_cast<uint32_t>(need);
  e->v.ptr = b;
  ctx.KeyModified(key);
  ctx.reply().Int(static_cast<int64_t>(b->len));
}

CommandSpec Spec(const char* name, int arity, uint32_t flags, int first, int last, int step,
                 Handler h, const char* since, const char* summary, const char* syntax,
                 const char* acl) {
  return MakeSpec(name, arity, flags, first, last, step, h, "string", since, summary, syntax, acl);
}

}  // namespace

void RegisterStringCommands(CommandTable& t) {
  constexpr uint32_t W = kWrite | kDenyOom;
  t.Add(Spec("set", -3, W, 1, 1, 1, CmdSet, "1.0.0",
             "Sets a key to a string value, with optional expiry and conditions.",
             "key value [NX | XX] [GET] [EX seconds | PX milliseconds | EXAT unix-time-seconds | "
             "PXAT unix-time-milliseconds | KEEPTTL]",
             "@write @string @slow"));
  t.Add(Spec("setnx", 3, W | kFast, 1, 1, 1, CmdSetNx, "1.0.0",
             "Sets a key only if it does not exist yet.", "key value", "@write @string @fast"));
  t.Add(Spec("setex", 4, W, 1, 1, 1, CmdSetEx, "2.0.0",
             "Sets a key with a time to live in seconds.", "key seconds value",
             "@write @string @slow"));
  t.Add(Spec("psetex", 4, W, 1, 1, 1, CmdPSetEx, "2.6.0",
             "Sets a key with a time to live in milliseconds.", "key milliseconds value",
             "@write @string @slow"));
  t.Add(Spec("get", 2, kReadonly | kFast, 1, 1, 1, CmdGet, "1.0.0",
             "Returns the string value of a key.", "key", "@read @string @fast"));
  t.Add(Spec("getset", 3, W | kFast, 1, 1, 1, CmdGetSet, "1.0.0",
             "Sets a new value and returns the old one.", "key value", "@write @string @fast"));
  t.Add(Spec("getdel", 2, kWrite | kFast, 1, 1, 1, CmdGetDel, "6.2.0",
             "Returns a string value and deletes the key.", "key", "@write @string @fast"));
  t.Add(Spec("getex", -2, kWrite | kFast, 1, 1, 1, CmdGetEx, "6.2.0",
             "Returns a string value and changes or removes its expiry.",
             "key [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT "
             "unix-time-milliseconds | PERSIST]",
             "@write @string @fast"));
  t.Add(Spec("mget", -2, kReadonly | kFast, 1, -1, 1, CmdMGet, "1.0.0",
             "Returns the values of several keys.", "key [key ...]", "@read @string @fast"));
  t.Add(Spec("mset", -3, W, 1, -1, 2, CmdMSet, "1.0.1", "Sets several keys at once.",
             "key value [key value ...]", "@write @string @slow"));
  t.Add(Spec("msetnx", -3, W, 1, -1, 2, CmdMSetNx, "1.0.1",
             "Sets several keys only if none of them exists.", "key value [key value ...]",
             "@write @string @slow"));
  t.Add(Spec("incr", 2, W | kFast, 1, 1, 1, CmdIncr, "1.0.0", "Adds one to an integer value.",
             "key", "@write @string @fast"));
  t.Add(Spec("decr", 2, W | kFast, 1, 1, 1, CmdDecr, "1.0.0",
             "Subtracts one from an integer value.", "key", "@write @string @fast"));
  t.Add(Spec("incrby", 3, W | kFast, 1, 1, 1, CmdIncrBy, "1.0.0",
             "Adds an integer to an integer value.", "key increment", "@write @string @fast"));
  t.Add(Spec("decrby", 3, W | kFast, 1, 1, 1, CmdDecrBy, "1.0.0",
             "Subtracts an integer from an integer value.", "key decrement",
             "@write @string @fast"));
  t.Add(Spec("incrbyfloat", 3, W | kFast, 1, 1, 1, CmdIncrByFloat, "2.6.0",
             "Adds a floating point number to a numeric value.", "key increment",
             "@write @string @fast"));
  t.Add(Spec("append", 3, W | kFast, 1, 1, 1, CmdAppend, "2.0.0",
             "Appends bytes to a string value.", "key value", "@write @string @fast"));
  t.Add(Spec("strlen", 2, kReadonly | kFast, 1, 1, 1, CmdStrLen, "2.2.0",
             "Returns the length of a string value.", "key", "@read @string @fast"));
  t.Add(Spec("getrange", 4, kReadonly, 1, 1, 1, CmdGetRange, "2.4.0",
             "Returns a substring of a string value.", "key start end", "@read @string @slow"));
  t.Add(Spec("substr", 4, kReadonly, 1, 1, 1, CmdGetRange, "1.0.0",
             "Returns a substring of a string value (old name of GETRANGE).", "key start end",
             "@read @string @slow"));
  t.Add(Spec("setrange", 4, W, 1, 1, 1, CmdSetRange, "2.2.0",
             "Overwrites part of a string value at an offset.", "key offset value",
             "@write @string @slow"));
}

}  // namespace cairn::cmd

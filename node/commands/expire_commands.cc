// Key expiry commands: EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT (with NX/XX/GT/LT),
// TTL, PTTL, EXPIRETIME, PEXPIRETIME and PERSIST. TTLs are stored as absolute
// unix milliseconds (Db::SetExpire), as Redis stores them.
#include <climits>
#include <string>
#include <vector>

#include "node/base/clock.h"
#include "node/base/number.h"
#include "node/commands/command.h"
#include "node/commands/context.h"

namespace cairn::cmd {

void RegisterExpireCommands(CommandTable& t);

namespace {

namespace err = protocol::err;
using store::Entry;

constexpr std::string_view kNxWithOthers =
    "NX and XX, GT or LT options at the same time are not compatible";
constexpr std::string_view kGtAndLt = "GT and LT options at the same time are not compatible";

enum ExpireFlag : int { kNx = 1, kXx = 2, kGt = 4, kLt = 8 };

// Parses the options after "key time"; replies the Redis error on failure.
bool ParseExpireFlags(Context& ctx, int* flags) {
  for (size_t j = 3; j < ctx.argc(); j++) {
    std::string_view opt = ctx.arg(j);
    if (base::EqualsNoCase(opt, "nx")) {
      *flags |= kNx;
    } else if (base::EqualsNoCase(opt, "xx")) {
      *flags |= kXx;
    } else if (base::EqualsNoCase(opt, "gt")) {
      *flags |= kGt;
    } else if (base::EqualsNoCase(opt, "lt")) {
      *flags |= kLt;
    } else {
      ctx.reply().ErrorFormat("Unsupported option %s", opt);
      return false;
    }
  }
  if ((*flags & kNx) && (*flags & (kXx | kGt | kLt))) {
    ctx.reply().Error(kNxWithOthers);
    return false;
  }
  if ((*flags & kGt) && (*flags & kLt)) {
    ctx.reply().Error(kGtAndLt);
    return false;
  }
  return true;
}

// Whether the NX/XX/GT/LT conditions allow replacing `current` (-1 = no TTL)
// by `when`. A key without a TTL counts as an infinite TTL for GT and LT.
bool FlagsAllow(int flags, int64_t current, int64_t when) {
  if ((flags & kNx) && current != -1) return false;
  if ((flags & kXx) && current == -1) return false;
  if ((flags & kGt) && (current == -1 || when <= current)) return false;
  if ((flags & kLt) && current != -1 && when >= current) return false;
  return true;
}

// A TTL already in the past deletes the key at once, except where deleting is
// the master's job (replica) or while loading a dataset.
bool AlreadyExpired(Context& ctx, int64_t when) {
  bool is_replica = store::Hooks().is_replica || !ctx.cfg().replicaof.empty();
  return when <= base::NowMs() && !ctx.server().loading && !is_replica;
}

// basetime is 0 for the *AT forms and the current time for relative ones;
// seconds says whether argv[2] is in seconds or milliseconds.
void ExpireGeneric(Context& ctx, int64_t basetime, bool seconds) {
  int flags = 0;
  if (!ParseExpireFlags(ctx, &flags)) return;
  int64_t when;
  if (!ctx.ParseInt(ctx.arg(2), &when)) return;
  if (seconds) {
    if (when > LLONG_MAX / 1000 || when < LLONG_MIN / 1000) {
      ctx.reply().ErrorFormat(err::kInvalidExpire, ctx.cmd().name);
      return;
    }
    when *= 1000;
  }
  if (when > LLONG_MAX - basetime) {
    ctx.reply().ErrorFormat(err::kInvalidExpire, ctx.cmd().name);
    return;
  }
  when += basetime;

  std::string_view key = ctx.arg(1);
  store::Db& db = ctx.db();
  Entry* e = db.Lookup(key);
  if (e == nullptr) {
    ctx.reply().Int(0);
    return;
  }
  if (flags != 0 && !FlagsAllow(flags, db.GetExpire(e), when)) {
    ctx.reply().Int(0);
    return;
  }
  if (AlreadyExpired(ctx, when)) {
    db.Delete(key);
    // Replicas and the AOF get the deletion itself, not a TTL in the past.
    ctx.Propagate({ctx.cfg().lazyfree_lazy_expire ? "UNLINK" : "DEL", std::string(key)});
  } else {
    db.SetExpire(e, when);
    // Relative and second forms leave as PEXPIREAT <absolute ms> (options
    // kept), so a replay later does not move the deadline; PEXPIREAT itself
    // goes out as typed.
    if (basetime != 0 || seconds) {
      std::vector<std::string> argv(ctx.argv().begin(), ctx.argv().end());
      argv[0] = "PEXPIREAT";
      argv[2] = base::Int64ToString(when);
      ctx.Propagate(std::move(argv));
    }
  }
  ctx.KeyModified(key);
  ctx.reply().Int(1);
}

void CmdExpire(Context& ctx) { ExpireGeneric(ctx, base::NowMs(), true); }
void CmdPExpire(Context& ctx) { ExpireGeneric(ctx, base::NowMs(), false); }
void CmdExpireAt(Context& ctx) { ExpireGeneric(ctx, 0, true); }
void CmdPExpireAt(Context& ctx) { ExpireGeneric(ctx, 0, false); }

// TTL and friends: -2 for a missing key, -1 without TTL; relative forms clamp a
// passed deadline to 0; second forms round to the nearest second.
void TtlGeneric(Context& ctx, bool ms, bool absolute) {
  store::Db& db = ctx.db();
  Entry* e = db.LookupNoTouch(ctx.arg(1));
  if (e)
    store::Stats().hits++;
  else
    store::Stats().misses++;
  if (e == nullptr) {
    ctx.reply().Int(-2);
    return;
  }
  int64_t expire = db.GetExpire(e);
  if (expire == -1) {
    ctx.reply().Int(-1);
    return;
  }
  int64_t ttl = absolute ? expire : expire - base::NowMs();
  if (ttl < 0) ttl = 0;
  ctx.reply().Int(ms ? ttl : (ttl + 500) / 1000);
}

void CmdTtl(Context& ctx) { TtlGeneric(ctx, false, false); }
void CmdPTtl(Context& ctx) { TtlGeneric(ctx, true, false); }
void CmdExpireTime(Context& ctx) { TtlGeneric(ctx, false, true); }
void CmdPExpireTime(Context& ctx) { TtlGeneric(ctx, true, true); }

void CmdPersist(Context& ctx) {
  Entry* e = ctx.db().Lookup(ctx.arg(1));
  if (e == nullptr || !ctx.db().RemoveExpire(e)) {
    ctx.reply().Int(0);
    return;
  }
  ctx.KeyModified(ctx.arg(1));
  ctx.reply().Int(1);
}

CommandSpec Spec(const char* name, int arity, uint32_t flags, Handler h, const char* since,
                 const char* summary, const char* syntax) {
  return MakeSpec(name, arity, flags, 1, 1, 1, h, "generic", since, summary, syntax,
                  (flags & kWrite) ? "@keyspace @write @fast" : "@keyspace @read @fast");
}

}  // namespace

void RegisterExpireCommands(CommandTable& t) {
  constexpr uint32_t kW = kWrite | kFast;
  constexpr uint32_t kR = kReadonly | kFast;
  t.Add(Spec("expire", -3, kW, CmdExpire, "1.0.0", "Sets a key's time to live in seconds.",
             "key seconds [NX | XX | GT | LT]"));
  t.Add(Spec("pexpire", -3, kW, CmdPExpire, "2.6.0", "Sets a key's time to live in milliseconds.",
             "key milliseconds [NX | XX | GT | LT]"));
  t.Add(Spec("expireat", -3, kW, CmdExpireAt, "1.2.0",
             "Sets the unix time (seconds) at which a key expires.",
             "key unix-time-seconds [NX | XX | GT | LT]"));
  t.Add(Spec("pexpireat", -3, kW, CmdPExpireAt, "2.6.0",
             "Sets the unix time (milliseconds) at which a key expires.",
             "key unix-time-milliseconds [NX | XX | GT | LT]"));
  t.Add(Spec("ttl", 2, kR, CmdTtl, "1.0.0", "Seconds a key has left to live.", "key"));
  t.Add(Spec("pttl", 2, kR, CmdPTtl, "2.6.0", "Milliseconds a key has left to live.", "key"));
  t.Add(Spec("expiretime", 2, kR, CmdExpireTime, "7.0.0",
             "The unix time (seconds) at which a key expires.", "key"));
  t.Add(Spec("pexpiretime", 2, kR, CmdPExpireTime, "7.0.0",
             "The unix time (milliseconds) at which a key expires.", "key"));
  t.Add(Spec("persist", 2, kW, CmdPersist, "2.2.0", "Removes a key's time to live.", "key"));
}

}  // namespace cairn::cmd

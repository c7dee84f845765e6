// Generic key commands (Redis's "generic" group): DEL, UNLINK, EXISTS, TOUCH,
// TYPE, RENAME(NX), COPY, MOVE, SWAPDB, FLUSHDB/FLUSHALL and OBJECT. The expire
// family lives in expire_commands.cc, iteration (KEYS/SCAN ...) in scan_commands.cc.
#include <climits>
#include <string>

#include "node/base/clock.h"
#include "node/base/number.h"
#include "node/commands/command.h"
#include "node/commands/context.h"
#include "node/store/value_ops.h"

namespace cairn::cmd {

// Defined in expire_commands.cc and scan_commands.cc (same family).
void RegisterExpireCommands(CommandTable& t);
void RegisterScanCommands(CommandTable& t);

namespace {

namespace err = protocol::err;
using store::Entry;
using store::ObjType;

constexpr std::string_view kInvalidFirstDb = "invalid first DB index";
constexpr std::string_view kInvalidSecondDb = "invalid second DB index";
constexpr std::string_view kIntOutOfRange =
    "value is out of range, value must between -2147483648 and 2147483647";
constexpr std::string_view kLfuIdle =
    "An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching "
    "between policies at runtime LRU and LFU data will take some time to adjust.";
constexpr std::string_view kNoLfuFreq =
    "An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when "
    "switching between policies at runtime LRU and LFU data will take some time to adjust.";
// Redis shares the integer objects 0..9999 and reports their refcount as INT_MAX.
constexpr int64_t kSharedIntegers = 10000;
constexpr int64_t kSharedRefcount = INT_MAX;

// A read lookup that neither touches the LRU clock nor skips the hit/miss
// counters (Redis's lookupKeyReadWithFlags(LOOKUP_NOTOUCH)).
Entry* LookupReadNoTouch(Context& ctx, std::string_view key) {
  Entry* e = ctx.db().LookupNoTouch(key);
  if (e)
    store::Stats().hits++;
  else
    store::Stats().misses++;
  return e;
}

// Redis's getIntFromObjectOrReply: a strict integer within int's range.
bool ParseIntArg(Context& ctx, std::string_view s, int* out, std::string_view msg = {}) {
  int64_t v;
  if (!base::ParseInt64(s, &v)) {
    ctx.reply().Error(msg.empty() ? err::kNotInteger : msg);
    return false;
  }
  if (v < INT_MIN || v > INT_MAX) {
    ctx.reply().Error(msg.empty() ? kIntOutOfRange : msg);
    return false;
  }
  *out = static_cast<int>(v);
  return true;
}

bool ValidDb(Context& ctx, int id) { return id >= 0 && id < ctx.server().db_count(); }

// WATCH invalidation for a key of any db (Context::KeyModified covers only the
// client's selected db).
void TouchWatchers(Context& ctx, int db, std::string_view key) {
  ServerState& s = ctx.server();
  if (s.watched_keys.empty()) return;
  auto it = s.watched_keys.find(DbKey(db, std::string(key)));
  if (it == s.watched_keys.end()) return;
  for (ClientState* c : it->second) c->flags |= kDirtyCas;
}

// Redis's dbAdd signals list and zset keys as ready for blocked clients.
bool WakesBlocked(const Entry* e) { return e->type == ObjType::kList || e->type == ObjType::kZSet; }

void SignalReadyInDb(Context& ctx, int db, std::string_view key) {
  ServerState& s = ctx.server();
  DbKey k(db, std::string(key));
  if (s.blocking_keys.count(k) == 0) return;
  for (const auto& r : s.ready_keys) {
    if (r == k) return;
  }
  s.ready_keys.push_back(std::move(k));
}

// After SWAPDB: every key a client blocks on in `db` that now holds a list or
// zset is ready (Redis's scanDatabaseForReadyKeys).
void ScanDbForReadyKeys(Context& ctx, int db) {
  ServerState& s = ctx.server();
  std::vector<std::string> ready;
  for (const auto& [k, clients] : s.blocking_keys) {
    if (k.first != db) continue;
    Entry* e = s.db(db).LookupNoTouch(k.second);
    if (e && WakesBlocked(e)) ready.push_back(k.second);
  }
  for (const auto& key : ready) SignalReadyInDb(ctx, db, key);
}

// --- DEL / UNLINK / EXISTS / TOUCH / TYPE -------------------------------------

void DelGeneric(Context& ctx) {
  int64_t deleted = 0;
  for (size_t i = 1; i < ctx.argc(); i++) {
    // The lookup expires a stale key first, so it does not count as deleted.
    if (ctx.db().LookupNoTouch(ctx.arg(i)) && ctx.db().Delete(ctx.arg(i))) {
      ctx.KeyModified(ctx.arg(i));
      deleted++;
    }
  }
  ctx.reply().Int(deleted);
}

void CmdDel(Context& ctx) { DelGeneric(ctx); }
void CmdUnlink(Context& ctx) { DelGeneric(ctx); }

void CmdExists(Context& ctx) {
  int64_t n = 0;
  for (size_t i = 1; i < ctx.argc(); i++) {
    if (LookupReadNoTouch(ctx, ctx.arg(i))) n++;
  }
  ctx.reply().Int(n);
}

void CmdTouch(Context& ctx) {
  int64_t n = 0;
  for (size_t i = 1; i < ctx.argc(); i++) {
    if (ctx.db().LookupRead(ctx.arg(i))) n++;
  }
  ctx.reply().Int(n);
}

void CmdType(Context& ctx) {
  Entry* e = LookupReadNoTouch(ctx, ctx.arg(1));
  ctx.reply().Simple(e ? store::TypeName(e->type) : "none");
}

// --- RENAME / RENAMENX ----------------------------------------------------------

void RenameGeneric(Context& ctx, bool nx) {
  std::string_view from = ctx.arg(1), to = ctx.arg(2);
  store::Db& db = ctx.db();
  Entry* src = db.Lookup(from);
  if (src == nullptr) {
    ctx.reply().Error(err::kNoSuchKey);
    return;
  }
  if (from == to) {
    if (nx)
      ctx.reply().Int(0);
    else
      ctx.reply().Ok();
    return;
  }
  if (db.Lookup(to) != nullptr && nx) {
    ctx.reply().Int(0);
    return;
  }
  db.Rename(from, to);
  ctx.KeyModified(from);
  ctx.KeyModified(to, 0);
  Entry* moved = db.FindRaw(to);
  if (moved && WakesBlocked(moved)) ctx.KeyReady(to);
  if (nx)
    ctx.reply().Int(1);
  else
    ctx.reply().Ok();
}

void CmdRename(Context& ctx) { RenameGeneric(ctx, false); }
void CmdRenameNx(Context& ctx) { RenameGeneric(ctx, true); }

// --- COPY / MOVE / SWAPDB ---------------------------------------------------------

// Adds a deep copy of `src`'s value to `dst` under `key` (which must be free),
// keeping the string encoding as Redis's dupStringObject does.
Entry* AddCopy(store::Db& dst, std::string_view key, const Entry* src) {
  if (src->type != ObjType::kString) {
    return dst.AddContainer(key, src->type, src->enc,
                            store::CloneContainer(src->type, src->enc, src->v.ptr));
  }
  std::string scratch;
  Entry* e = dst.SetString(key, store::Db::StringValue(src, &scratch), false,
                           /*allow_int=*/src->enc == store::Enc::kInt);
  if (src->enc == store::Enc::kRaw && e->enc != store::Enc::kRaw) dst.MakeRaw(e);
  return e;
}

void CmdCopy(Context& ctx) {
  int src_id = ctx.client().db_index;
  int dst_id = src_id;
  bool replace = false;
  for (size_t j = 3; j < ctx.argc(); j++) {
    if (base::EqualsNoCase(ctx.arg(j), "replace")) {
      replace = true;
    } else if (base::EqualsNoCase(ctx.arg(j), "db") && j + 1 < ctx.argc()) {
      if (!ParseIntArg(ctx, ctx.arg(j + 1), &dst_id)) return;
      if (!ValidDb(ctx, dst_id)) {
        ctx.reply().Error(err::kDbIndexOutOfRange);
        return;
      }
      j++;
    } else {
      ctx.reply().Error(err::kSyntax);
      return;
    }
  }
  std::string_view key = ctx.arg(1), newkey = ctx.arg(2);
  if (src_id == dst_id && key == newkey) {
    ctx.reply().Error(err::kSameObject);
    return;
  }
  Entry* src = ctx.db().LookupRead(key);
  if (src == nullptr) {
    ctx.reply().Int(0);
    return;
  }
  int64_t expire = ctx.db().GetExpire(src);
  store::Db& dst = ctx.server().db(dst_id);
  if (dst.Lookup(newkey) != nullptr) {
    if (!replace) {
      ctx.reply().Int(0);
      return;
    }
    dst.Delete(newkey);
  }
  Entry* copy = AddCopy(dst, newkey, src);
  if (expire != -1) dst.SetExpire(copy, expire);
  TouchWatchers(ctx, dst_id, newkey);
  ctx.server().dirty++;
  if (WakesBlocked(copy)) SignalReadyInDb(ctx, dst_id, newkey);
  ctx.reply().Int(1);
}

void CmdMove(Context& ctx) {
  int src_id = ctx.client().db_index;
  int dst_id;
  if (!ParseIntArg(ctx, ctx.arg(2), &dst_id)) return;
  if (!ValidDb(ctx, dst_id)) {
    ctx.reply().Error(err::kDbIndexOutOfRange);
    return;
  }
  if (dst_id == src_id) {
    ctx.reply().Error(err::kSameObject);
    return;
  }
  std::string_view key = ctx.arg(1);
  if (ctx.db().Lookup(key) == nullptr) {
    ctx.reply().Int(0);
    return;
  }
  store::Db& dst = ctx.server().db(dst_id);
  if (dst.Lookup(key) != nullptr) {
    ctx.reply().Int(0);
    return;
  }
  Entry* moved = ctx.db().MoveTo(key, &dst);
  ctx.KeyModified(key);
  TouchWatchers(ctx, dst_id, key);
  if (moved && WakesBlocked(moved)) SignalReadyInDb(ctx, dst_id, key);
  ctx.reply().Int(1);
}

void CmdSwapDb(Context& ctx) {
  int a, b;
  if (!ParseIntArg(ctx, ctx.arg(1), &a, kInvalidFirstDb)) return;
  if (!ParseIntArg(ctx, ctx.arg(2), &b, kInvalidSecondDb)) return;
  if (!ValidDb(ctx, a) || !ValidDb(ctx, b)) {
    ctx.reply().Error(err::kDbIndexOutOfRange);
    return;
  }
  if (a != b) {
    // A WATCHed key changes if it exists on either side of the swap: touch
    // before (old contents) and after (new contents).
    ctx.DbTouchedAll(a);
    ctx.DbTouchedAll(b);
    ctx.server().db(a).SwapContents(ctx.server().db(b));
    ctx.DbTouchedAll(a);
    ctx.DbTouchedAll(b);
    ScanDbForReadyKeys(ctx, a);
    ScanDbForReadyKeys(ctx, b);
  }
  ctx.server().dirty++;
  ctx.reply().Ok();
}

// --- FLUSHDB / FLUSHALL -----------------------------------------------------------

// FLUSHDB/FLUSHALL take an optional ASYNC or SYNC. Cairn frees synchronously in
// both cases: the result the client sees is the same.
bool ParseFlushFlags(Context& ctx) {
  if (ctx.argc() == 1) return true;
  if (ctx.argc() == 2 &&
      (base::EqualsNoCase(ctx.arg(1), "sync") || base::EqualsNoCase(ctx.arg(1), "async"))) {
    return true;
  }
  ctx.reply().Error(err::kSyntax);
  return false;
}

void CmdFlushDb(Context& ctx) {
  if (!ParseFlushFlags(ctx)) return;
  if (ctx.client().has(kMaster) && ctx.server().backup)
    ctx.server().backup->BeforeReplicatedFlush(ctx.client().db_index);
  ctx.DbTouchedAll(ctx.client().db_index);
  ctx.server().dirty += static_cast<int64_t>(ctx.db().Clear());
  ctx.reply().Ok();
  // Propagated even when the db was already empty: a replica may not be.
  ctx.Propagate(std::vector<std::string>(ctx.argv().begin(), ctx.argv().end()));
}

void CmdFlushAll(Context& ctx) {
  if (!ParseFlushFlags(ctx)) return;
  if (ctx.client().has(kMaster) && ctx.server().backup)
    ctx.server().backup->BeforeReplicatedFlush(-1);
  ctx.DbTouchedAll(-1);
  int64_t removed = 0;
  for (int i = 0; i < ctx.server().db_count(); i++) {
    removed += static_cast<int64_t>(ctx.server().db(i).Clear());
  }
  ctx.server().dirty += removed;
  // As Redis: a running BGSAVE is stopped and, with save points, the empty
  // dataset is saved at once, so a crash cannot bring the flushed keys back.
  if (ctx.server().persistence) ctx.server().persistence->AfterFlushAll();
  ctx.reply().Ok();
  // Propagated even when every db was already empty: a replica may not be.
  ctx.Propagate(std::vector<std::string>(ctx.argv().begin(), ctx.argv().end()));
}

// --- OBJECT -------------------------------------------------------------------------

bool LfuPolicy(const Context& ctx) {
  return ctx.cfg().maxmemory_policy.find("lfu") != std::string::npos;
}

// Redis stops sharing small integers when maxmemory evicts by LRU or LFU, since
// shared objects cannot carry per-key access data.
bool SharesIntegers(const Context& ctx) {
  const std::string& p = ctx.cfg().maxmemory_policy;
  bool per_key_access = p.find("lru") != std::string::npos || p.find("lfu") != std::string::npos;
  return ctx.cfg().maxmemory == 0 || !per_key_access;
}

Entry* ObjectLookup(Context& ctx) {
  Entry* e = LookupReadNoTouch(ctx, ctx.arg(2));
  if (e == nullptr) ctx.reply().Null();
  return e;
}

void CmdObjectEncoding(Context& ctx) {
  Entry* e = ObjectLookup(ctx);
  if (e) ctx.reply().Bulk(store::EncodingName(e->type, e->enc, e->inline_len));
}

void CmdObjectRefcount(Context& ctx) {
  Entry* e = ObjectLookup(ctx);
  if (e == nullptr) return;
  bool shared = e->type == ObjType::kString && e->enc == store::Enc::kInt && e->v.ival >= 0 &&
                e->v.ival < kSharedIntegers && SharesIntegers(ctx);
  ctx.reply().Int(shared ? kSharedRefcount : 1);
}

void CmdObjectIdletime(Context& ctx) {
  Entry* e = ObjectLookup(ctx);
  if (e == nullptr) return;
  if (LfuPolicy(ctx)) {
    ctx.reply().Error(kLfuIdle);
    return;
  }
  uint32_t now = store::LruClock();
  ctx.reply().Int(static_cast<int64_t>(static_cast<uint32_t>(now - e->lru)));
}

void CmdObjectFreq(Context& ctx) {
  Entry* e = ObjectLookup(ctx);
  if (e == nullptr) return;
  if (!LfuPolicy(ctx)) {
    ctx.reply().Error(kNoLfuFreq);
    return;
  }
  // Cairn keeps no LFU counter per key yet; report the counter Redis gives a
  // key that has not been accessed since it was created.
  constexpr int64_t kLfuInitVal = 5;
  ctx.reply().Int(kLfuInitVal);
}

void CmdObjectHelp(Context& ctx) {
  static const char* const kLines[] = {
      "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "ENCODING <key>",
      "    Return the kind of internal representation used in order to store the value",
      "    associated with a <key>.",
      "FREQ <key>",
      "    Return the access frequency index of the <key>. The returned integer is",
      "    proportional to the logarithm of the recent access frequency of the key.",
      "IDLETIME <key>",
      "    Return the idle time of the <key>, that is the approximated number of",
      "    seconds elapsed since the last access to the key.",
      "REFCOUNT <key>",
      "    Return the number of references of the value associated with the specified",
      "    <key>.",
      "HELP",
      "    Prints this help.",
  };
  ctx.reply().StatusLines(kLines);
}

// --- registration -----------------------------------------------------------------

CommandSpec Spec(const char* name, int arity, uint32_t flags, int first, int last, int step,
                 Handler h, const char* group, const char* since, const char* summary,
                 const char* syntax, const char* acl) {
  return MakeSpec(name, arity, flags, first, last, step, h, group, since, summary, syntax, acl);
}

}  // namespace

void RegisterKeyCommands(CommandTable& t) {
  t.Add(Spec("del", -2, kWrite, 1, -1, 1, CmdDel, "generic", "1.0.0",
             "Removes the given keys; returns how many existed.", "key [key ...]",
             "@keyspace @write @slow"));
  t.Add(Spec("unlink", -2, kWrite | kFast, 1, -1, 1, CmdUnlink, "generic", "4.0.0",
             "Removes the given keys (the memory may be reclaimed later).", "key [key ...]",
             "@keyspace @write @fast"));
  t.Add(Spec("exists", -2, kReadonly | kFast, 1, -1, 1, CmdExists, "generic", "1.0.0",
             "Counts how many of the given keys exist (repeats count again).", "key [key ...]",
             "@keyspace @read @fast"));
  t.Add(Spec("touch", -2, kReadonly | kFast, 1, -1, 1, CmdTouch, "generic", "3.2.1",
             "Updates the access time of the given keys; returns how many exist.", "key [key ...]",
             "@keyspace @read @fast"));
  t.Add(Spec("type", 2, kReadonly | kFast, 1, 1, 1, CmdType, "generic", "1.0.0",
             "Names the type of the value at a key, or none.", "key", "@keyspace @read @fast"));
  t.Add(Spec("rename", 3, kWrite, 1, 2, 1, CmdRename, "generic", "1.0.0",
             "Gives a key a new name, replacing any key already using it.", "key newkey",
             "@keyspace @write @slow"));
  t.Add(Spec("renamenx", 3, kWrite | kFast, 1, 2, 1, CmdRenameNx, "generic", "1.0.0",
             "Gives a key a new name only if that name is unused.", "key newkey",
             "@keyspace @write @fast"));
  t.Add(Spec("copy", -3, kWrite | kDenyOom, 1, 2, 1, CmdCopy, "generic", "6.2.0",
             "Duplicates a key's value under another name, optionally in another database.",
             "source destination [DB destination-db] [REPLACE]", "@keyspace @write @slow"));
  t.Add(Spec("move", 3, kWrite | kFast, 1, 1, 1, CmdMove, "generic", "1.0.0",
             "Moves a key to another database if it is free there.", "key db",
             "@keyspace @write @fast"));
  t.Add(Spec("swapdb", 3, kWrite | kFast, 0, 0, 0, CmdSwapDb, "server", "4.0.0",
             "Exchanges the contents of two databases.", "index1 index2",
             "@keyspace @write @fast @dangerous"));
  t.Add(Spec("flushdb", -1, kWrite, 0, 0, 0, CmdFlushDb, "server", "1.0.0",
             "Deletes every key of the selected database.", "[ASYNC | SYNC]",
             "@keyspace @write @slow @dangerous"));
  t.Add(Spec("flushall", -1, kWrite, 0, 0, 0, CmdFlushAll, "server", "1.0.0",
             "Deletes every key of every database.", "[ASYNC | SYNC]",
             "@keyspace @write @slow @dangerous"));

  t.Add(Spec("object", -2, 0, 0, 0, 0, nullptr, "generic", "2.2.3",
             "Inspects how a key's value is stored.", "", "@slow"));
  t.AddSub("object", Spec("encoding", 3, kReadonly, 2, 2, 1, CmdObjectEncoding, "generic", "2.2.3",
                          "Names the internal representation of a key's value.", "key",
                          "@keyspace @read @slow"));
  t.AddSub("object",
           Spec("refcount", 3, kReadonly, 2, 2, 1, CmdObjectRefcount, "generic", "2.2.3",
                "Reports the reference count of a key's value.", "key", "@keyspace @read @slow"));
  t.AddSub("object",
           Spec("idletime", 3, kReadonly, 2, 2, 1, CmdObjectIdletime, "generic", "2.2.3",
                "Seconds since a key was last read or written.", "key", "@keyspace @read @slow"));
  t.AddSub("object", Spec("freq", 3, kReadonly, 2, 2, 1, CmdObjectFreq, "generic", "4.0.0",
                          "Reports a key's logarithmic access frequency (LFU policies).", "key",
                          "@keyspace @read @slow"));
  t.AddSub("object", Spec("help", 2, kLoading | kStale, 0, 0, 0, CmdObjectHelp, "generic", "6.2.0",
                          "Lists the OBJECT subcommands.", "", "@keyspace @slow"));

  RegisterExpireCommands(t);
  RegisterScanCommands(t);
}

}  // namespace cairn::cmd

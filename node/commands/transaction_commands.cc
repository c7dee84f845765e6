// Transaction commands: MULTI, EXEC, DISCARD, WATCH, UNWATCH.
//
// The dispatcher does the queueing (+QUEUED, kDirtyExec on rejected commands)
// and Context::KeyModified sets kDirtyCas on watchers; this file owns the
// state transitions: MULTI enters kInMulti, EXEC either fails (kDirtyExec:
// EXECABORT; kDirtyCas or a watched key expired since WATCH: null array) or
// runs every queued command through Dispatcher::Call with kInMulti still set
// (so blocking commands answer at once, as Redis's CLIENT_DENY_BLOCKING), then
// unwatches and leaves MULTI.
#include <algorithm>

#include "node/commands/command.h"
#include "node/commands/context.h"
#include "node/commands/dispatcher.h"
#include "node/commands/transaction.h"

namespace cairn::cmd {

namespace err = protocol::err;

namespace {

Dispatcher* g_exec_dispatcher = nullptr;

using MultiQueue = decltype(ClientState::multi_queue);

bool IsWatching(const ClientState& c, const DbKey& key) {
  return std::find(c.watched.begin(), c.watched.end(), key) != c.watched.end();
}

// Redis's isWatchedKeyExpired: a key that was live at WATCH and whose TTL has
// passed since counts as changed, even if nobody has touched it yet.
bool WatchedKeyExpired(ServerState& s, const ClientState& c) {
  for (const DbKey& k : c.watched) {
    if (WatchedWhileExpired(c, k)) continue;
    if (k.first < 0 || k.first >= s.db_count()) continue;
    store::Db& db = s.db(k.first);
    store::Entry* e = db.FindRaw(k.second);
    if (e != nullptr && db.IsExpired(e)) return true;
  }
  return false;
}

void DiscardTransaction(ServerState& s, ClientState& c) {
  c.multi_queue.clear();
  c.flags &= ~(kInMulti | kDirtyCas | kDirtyExec);
  UnwatchAll(s, c);
}

void CmdMulti(Context& ctx) {
  ClientState& c = ctx.client();
  if (c.has(kInMulti)) {
    ctx.reply().Error(err::kMultiNested);
    return;
  }
  c.flags |= kInMulti;
  ctx.reply().Ok();
}

void CmdDiscard(Context& ctx) {
  ClientState& c = ctx.client();
  if (!c.has(kInMulti)) {
    ctx.reply().Error(err::kDiscardWithoutMulti);
    return;
  }
  DiscardTransaction(ctx.server(), c);
  ctx.reply().Ok();
}

// Runs the queued commands. They write into a Reply of their own (same buffer,
// same protocol) so that their errors are counted once, against themselves,
// and not a second time against EXEC by the Call that runs EXEC.
void RunQueued(Dispatcher& d, ClientState& c, const MultiQueue& queue) {
  protocol::Reply outer = c.reply;
  c.reply = protocol::Reply(outer.buffer(), outer.proto());
  for (const auto& [spec, args] : queue) {
    std::vector<std::string_view> argv(args.begin(), args.end());
    d.Call(c, *spec, argv);
  }
  // A queued HELLO may have switched the protocol.
  outer.set_proto(c.reply.proto());
  outer.set_buffer(c.reply.buffer());
  c.reply = outer;
}

void CmdExec(Context& ctx) {
  ClientState& c = ctx.client();
  ServerState& s = ctx.server();
  if (!c.has(kInMulti)) {
    ctx.reply().Error(err::kExecWithoutMulti);
    return;
  }
  if (WatchedKeyExpired(s, c)) c.flags |= kDirtyCas;
  if (c.has(kDirtyExec)) {
    DiscardTransaction(s, c);
    ctx.reply().Error(err::kExecAbort);
    return;
  }
  if (c.has(kDirtyCas)) {
    DiscardTransaction(s, c);
    ctx.reply().NullArray();
    return;
  }
  // Unwatch first: the transaction's own writes must not fail it.
  UnwatchAll(s, c);
  MultiQueue queue;
  queue.swap(c.multi_queue);
  c.reply.Array(queue.size());
  if (g_exec_dispatcher != nullptr) {
    RunQueued(*g_exec_dispatcher, c, queue);
  } else {
    // Call needs only the server state; the server's own dispatcher is
    // preferred so that anything it adds around Call applies inside EXEC too.
    Dispatcher local(s);
    RunQueued(local, c, queue);
  }
  c.multi_queue.clear();
  c.flags &= ~(kInMulti | kDirtyCas | kDirtyExec);
}

void CmdWatch(Context& ctx) {
  ClientState& c = ctx.client();
  ServerState& s = ctx.server();
  if (c.has(kInMulti)) {
    ctx.reply().Error(err::kWatchInMulti);
    return;
  }
  // Already doomed: watching more changes nothing.
  if (c.has(kDirtyCas)) {
    ctx.reply().Ok();
    return;
  }
  for (size_t i = 1; i < ctx.argc(); i++) {
    DbKey key(c.db_index, std::string(ctx.arg(i)));
    if (IsWatching(c, key)) continue;
    s.watched_keys[key].insert(&c);
    store::Entry* e = ctx.db().FindRaw(key.second);
    // Redis's watchedKey.expired: such a key counts as absent, not changed.
    // The key is new to c.watched, so watched_expired cannot hold it yet.
    if (e != nullptr && ctx.db().IsExpired(e)) c.watched_expired.insert(key);
    c.watched.push_back(std::move(key));
  }
  ctx.reply().Ok();
}

void CmdUnwatch(Context& ctx) {
  UnwatchAll(ctx.server(), ctx.client());
  ctx.client().flags &= ~kDirtyCas;
  ctx.reply().Ok();
}

constexpr uint32_t kTxFlags = kNoScript | kLoading | kStale | kFast | kAllowBusy;

// WATCH's keys are all its arguments (first_key 1); the others take none.
CommandSpec TxSpec(const char* name, int arity, uint32_t flags, int first_key, Handler h,
                   const char* since, const char* summary, const char* syntax, const char* acl) {
  return MakeSpec(name, arity, flags, first_key, first_key == 0 ? 0 : -1, first_key == 0 ? 0 : 1, h,
                  "transactions", since, summary, syntax, acl);
}

}  // namespace

void SetExecDispatcher(Dispatcher* d) { g_exec_dispatcher = d; }

void ExecAbort(ServerState& s, ClientState& c, std::string_view msg) {
  DiscardTransaction(s, c);
  if (!msg.empty() && msg[0] == '-') msg.remove_prefix(1);
  std::string e = "-EXECABORT Transaction discarded because of: ";
  e.append(msg);
  c.reply.Error(e);
}

// watched_expired is a subset of watched: WATCH adds to both, UnwatchAll
// clears both.
bool WatchedWhileExpired(const ClientState& c, const DbKey& key) {
  return c.watched_expired.count(key) != 0;
}

void TouchWatchedKeyOnExpire(ServerState& s, int db, std::string_view key) {
  if (s.watched_keys.empty()) return;
  DbKey k(db, std::string(key));
  auto it = s.watched_keys.find(k);
  if (it == s.watched_keys.end()) return;
  for (ClientState* c : it->second) {
    if (WatchedWhileExpired(*c, k)) {
      // It was already expired when watched; now it is simply gone, which
      // WATCH treats the same way. From here on it is an ordinary watch.
      c->watched_expired.erase(k);
      continue;
    }
    c->flags |= kDirtyCas;
  }
}

void RegisterTransactionCommands(CommandTable& t) {
  t.Add(TxSpec("multi", 1, kTxFlags, 0, CmdMulti, "1.2.0",
               "Starts a transaction: later commands are queued until EXEC.", "",
               "@fast @transaction"));
  t.Add(TxSpec("exec", 1, kNoScript | kLoading | kStale | kSkipSlowlog, 0, CmdExec, "1.2.0",
               "Runs the queued commands of a transaction atomically.", "", "@slow @transaction"));
  t.Add(TxSpec("discard", 1, kTxFlags, 0, CmdDiscard, "2.0.0",
               "Drops the queued commands and leaves the transaction.", "", "@fast @transaction"));
  t.Add(TxSpec("watch", -2, kTxFlags, 1, CmdWatch, "2.2.0",
               "Makes the next EXEC fail if any of the keys changes before it.", "key [key ...]",
               "@fast @transaction"));
  t.Add(TxSpec("unwatch", 1, kTxFlags, 0, CmdUnwatch, "2.2.0",
               "Stops watching every key watched by this connection.", "", "@fast @transaction"));
}

}  // namespace cairn::cmd

// MULTI/EXEC/WATCH hooks the server assembly wires up: the dispatcher EXEC runs
// queued commands through, and the WATCH side of key expiry (Redis 7.0 treats a
// key that was already expired when WATCHed as absent, not as modified).
#pragma once

#include <string_view>

#include "node/commands/client_state.h"
#include "node/commands/server_state.h"

namespace cairn::cmd {

class Dispatcher;

// The dispatcher EXEC uses to run queued commands; set once at startup, before
// the first client command. Until set, EXEC runs them through a temporary
// Dispatcher over the same ServerState (Call needs nothing else today).
void SetExecDispatcher(Dispatcher* d);

// For Dispatcher::Reject when the rejected command is EXEC itself (arity,
// NOAUTH, OOM, read-only ...): as Redis's execCommandAbort, discards the
// transaction (and the WATCHes) and replies
// "-EXECABORT Transaction discarded because of: <msg>", whether or not the
// client was in MULTI. `msg` is the rejection as Reject got it (a leading
// '-' is dropped, no "ERR " is added).
void ExecAbort(ServerState& s, ClientState& c, std::string_view msg);

// To be called when `key` of db `db` is deleted because it expired (lazily or
// by the active cycle), i.e. from store::Hooks().on_expired: clients that
// watched a live key get their transaction failed; clients that watched it
// while it was already expired see no change, as Redis's touchWatchedKey.
void TouchWatchedKeyOnExpire(ServerState& s, int db, std::string_view key);

// True when client c WATCHed (db,key) while that key was already expired.
// FLUSHDB/FLUSHALL/SWAPDB touch of watchers (Context::DbTouchedAll) should not
// fail such a client for that key, as Redis's touchAllWatchedKeysInDb.
bool WatchedWhileExpired(const ClientState& c, const DbKey& key);

}  // namespace cairn::cmd

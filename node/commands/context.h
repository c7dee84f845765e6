// Context: what a command handler gets — its arguments, the reply writer, the
// client and server state — plus the helpers every family needs (typed key
// lookups that reply WRONGTYPE, integer/float argument parsing with Redis's
// error replies, signalling modified and ready keys, blocking).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "node/commands/client_state.h"
#include "node/commands/command.h"
#include "node/commands/server_state.h"
#include "node/protocol/errors.h"
#include "node/protocol/reply.h"
#include "node/store/db.h"

namespace cairn::cmd {

class Context {
 public:
  Context(ServerState& server, ClientState& client, const CommandSpec& cmd,
          const std::vector<std::string_view>& argv)
      : server_(server), client_(client), cmd_(cmd), argv_(argv) {}

  size_t argc() const { return argv_.size(); }
  std::string_view arg(size_t i) const { return argv_[i]; }
  const std::vector<std::string_view>& argv() const { return argv_; }
  const CommandSpec& cmd() const { return cmd_; }

  protocol::Reply& reply() { return client_.reply; }
  ClientState& client() { return client_; }
  ServerState& server() { return server_; }
  const config::Values& cfg() const { return server_.config->v(); }
  store::Db& db() { return server_.db(client_.db_index); }

  // --- typed lookups -----------------------------------------------------
  // Returns the live entry for `key` if it has type `t`. When the key exists
  // with another type, replies WRONGTYPE and sets *wrong (if given) / returns
  // nullptr. Missing keys return nullptr without replying.
  store::Entry* LookupWrite(std::string_view key, store::ObjType t, bool* wrongtype);
  store::Entry* LookupRead(std::string_view key, store::ObjType t, bool* wrongtype);

  // --- argument parsing (reply the Redis error and return false on failure) --
  bool ParseInt(std::string_view s, int64_t* out);    // "value is not an integer..."
  bool ParseDouble(std::string_view s, double* out);  // "value is not a valid float"
  bool ParseLongDouble(std::string_view s, long double* out);
  // Integer in [min,max], else "<what> is out of range" style: replies `err`.
  bool ParseIntRange(std::string_view s, int64_t min, int64_t max, int64_t* out,
                     std::string_view err = protocol::err::kNotInteger);
  // Blocking timeout in seconds (float), into a deadline in unix ms (0 = none).
  bool ParseTimeout(std::string_view s, int64_t* deadline_ms);

  // --- effects ------------------------------------------------------------
  // A key changed: counts toward `dirty` and invalidates WATCHers (Redis's
  // signalModifiedKey + server.dirty++). Call once per changed key.
  void KeyModified(std::string_view key, int64_t dirty = 1);
  // A key of this db received elements a blocked client may be waiting for.
  void KeyReady(std::string_view key);
  // The whole db / all dbs changed (FLUSHDB/FLUSHALL/SWAPDB).
  void DbTouchedAll(int db_index);

  // True when the handler may block: not inside MULTI, not a retry of a
  // client that was already woken.
  bool CanBlock() const;
  // Suspends the client until one of `keys` is ready or the deadline passes;
  // the command is re-run with the same arguments when woken, and on timeout
  // the client gets a null array reply. No reply is written now.
  void BlockOnKeys(const std::vector<std::string>& keys, int64_t deadline_ms);
  // Set when this run is the retry of a blocked command.
  bool is_retry() const { return is_retry_; }
  void set_retry(bool r) { is_retry_ = r; }

  // --- propagation (propagate.h) -------------------------------------------
  // Replaces this run's propagated form: each call queues one op in the
  // client's db (SPOP with a count queues several SREMs). Without any call, a
  // run that changed data propagates its own arguments.
  void Propagate(std::vector<std::string> argv);
  // This run propagates nothing, even though it changed data.
  void PreventPropagation() { propagation_overridden_ = true; }
  bool propagation_overridden() const { return propagation_overridden_; }

 private:
  ServerState& server_;
  ClientState& client_;
  const CommandSpec& cmd_;
  const std::vector<std::string_view>& argv_;
  bool is_retry_ = false;
  bool propagation_overridden_ = false;
};

}  // namespace cairn::cmd

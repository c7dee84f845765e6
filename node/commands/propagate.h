// Propagation: the form in which each write leaves the node for the AOF and
// for replicas — Redis's also_propagate. A top-level call collects its ops
// (lazily expired keys as DEL, then the command itself or what its handler
// asked for instead), and at its end they go to every sink, wrapped in
// MULTI/EXEC when there are several, as Redis 7.0's propagatePendingCommands.
//
// DESIGN
// - Default: a command whose run changed `dirty` propagates its own argv.
//   Handlers whose effect depends on time or randomness rewrite it
//   (Context::Propagate): EXPIRE -> PEXPIREAT, SET EX -> SET PXAT,
//   INCRBYFLOAT -> SET KEEPTTL, SPOP -> SREM, BLPOP -> LPOP ...
// - Sinks see (db, argv) in order and emit SELECT themselves when the db
//   changes, since the AOF and each replica stream track their own db.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cairn::cmd {

struct ServerState;

struct PropagatedOp {
  int db = 0;
  std::vector<std::string> argv;
  bool repl_only = false;  // PUBLISH: replicas get it, the AOF does not
};

class PropagationSink {
 public:
  virtual ~PropagationSink() = default;
  virtual void Feed(int db, const std::vector<std::string>& argv) = 0;
  // Whether the sink takes repl_only ops (the replication stream does).
  virtual bool TakesReplicationOnly() const { return false; }
};

// Queues an op for the current unit (flushed at the end of the top-level call;
// outside any call, at once).
void QueuePropagation(ServerState& s, int db, std::vector<std::string> argv,
                      bool repl_only = false);
// A key that expired or was evicted: propagated as DEL (UNLINK with
// lazyfree-lazy-expire/-eviction), as Redis does.
void PropagateDeletion(ServerState& s, int db, std::string_view key, bool lazy);
// Hands the queued ops to the sinks (MULTI/EXEC around several, unless
// `transaction` is false: SCAN/RANDOMKEY's lazily expired keys go out one by
// one, as Redis does for commands that touch arbitrary keys) and clears them.
void FlushPropagation(ServerState& s, bool transaction = true);

}  // namespace cairn::cmd

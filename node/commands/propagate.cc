// Propagation queue and its flush (see propagate.h).
#include "node/commands/propagate.h"

#include "node/commands/server_state.h"

namespace cairn::cmd {

void QueuePropagation(ServerState& s, int db, std::vector<std::string> argv, bool repl_only) {
  if (s.propagation_sinks.empty()) return;
  s.pending_ops.push_back({db, std::move(argv), repl_only});
  if (s.call_depth == 0) FlushPropagation(s);
}

void PropagateDeletion(ServerState& s, int db, std::string_view key, bool lazy) {
  QueuePropagation(s, db, {lazy ? "UNLINK" : "DEL", std::string(key)});
}

void FlushPropagation(ServerState& s, bool transaction) {
  if (s.pending_ops.empty()) return;
  std::vector<PropagatedOp> ops;
  ops.swap(s.pending_ops);
  static const std::vector<std::string> kMulti = {"MULTI"}, kExec = {"EXEC"};
  size_t repl_only = 0;
  for (const auto& op : ops) repl_only += op.repl_only ? 1 : 0;
  for (PropagationSink* sink : s.propagation_sinks) {
    const bool all = sink->TakesReplicationOnly();
    const size_t n = all ? ops.size() : ops.size() - repl_only;
    if (n == 0) continue;
    const bool wrap = transaction && n > 1;
    if (wrap) sink->Feed(ops.front().db, kMulti);
    for (const auto& op : ops) {
      if (all || !op.repl_only) sink->Feed(op.db, op.argv);
    }
    if (wrap) sink->Feed(ops.front().db, kExec);
  }
}

}  // namespace cairn::cmd

// Propagation queue and its flush (see propagate.h).
#include "node/commands/propagate.h"

#include "node/commands/server_state.h"

namespace cairn::cmd {

void QueuePropagation(ServerState& s, int db, std::vector<std::string> argv) {
  if (s.propagation_sinks.empty()) return;
  s.pending_ops.push_back({db, std::move(argv)});
  if (s.call_depth == 0) FlushPropagation(s);
}

void PropagateDeletion(ServerState& s, int db, std::string_view key, bool lazy) {
  QueuePropagation(s, db, {lazy ? "UNLINK" : "DEL", std::string(key)});
}

void FlushPropagation(ServerState& s, bool transaction) {
  if (s.pending_ops.empty()) return;
  std::vector<PropagatedOp> ops;
  ops.swap(s.pending_ops);
  bool wrap = transaction && ops.size() > 1;
  static const std::vector<std::string> kMulti = {"MULTI"}, kExec = {"EXEC"};
  for (PropagationSink* sink : s.propagation_sinks) {
    if (wrap) sink->Feed(ops.front().db, kMulti);
    for (const auto& op : ops) sink->Feed(op.db, op.argv);
    if (wrap) sink->Feed(ops.front().db, kExec);
  }
}

}  // namespace cairn::cmd

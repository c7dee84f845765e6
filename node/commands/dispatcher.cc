// Command dispatch; see dispatcher.h for the order of checks.
#include "node/commands/dispatcher.h"

#include <algorithm>
#include <cstring>

#include "node/base/clock.h"
#include "node/base/log.h"
#include "node/base/memory.h"
#include "node/base/number.h"
#include "node/commands/context.h"
#include "node/commands/propagate.h"
#include "node/commands/pubsub.h"
#include "node/commands/transaction.h"
#include "node/protocol/errors.h"

namespace cairn::cmd {

namespace err = protocol::err;

namespace {

bool IsOneOf(const CommandSpec& c, std::initializer_list<const char*> names) {
  for (const char* n : names) {
    if (c.name == n) return true;
  }
  return false;
}

// Redis's errorstats key: the first word of the error ("ERR", "WRONGTYPE" ...).
std::string ErrorCode(std::string_view e) {
  size_t sp = e.find(' ');
  return std::string(e.substr(0, sp));
}

std::string UnknownCommandError(const std::vector<std::string_view>& argv,
                                const CommandTable& table) {
  const CommandSpec* container = table.Find(argv[0]);
  std::string msg;
  if (container != nullptr && !container->subcommands.empty()) {
    std::string upper(argv[0]);
    for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    msg = "unknown subcommand '";
    msg.append(argv[1].substr(0, 128));
    msg += "'. Try " + upper + " HELP.";
    return msg;
  }
  std::string args;
  for (size_t i = 1; i < argv.size() && args.size() < 128; i++) {
    args += "'";
    args.append(argv[i].substr(0, 128 - args.size()));
    args += "' ";
  }
  msg = "unknown command '";
  msg.append(argv[0].substr(0, 128));
  msg += "', with args beginning with: " + args;
  return msg;
}

}  // namespace

namespace {

// Why writes are refused after a failed save (Redis's MISCONF), or "".
std::string DiskErrorMessage(const ServerState& s) {
  const config::Values& cfg = s.config->v();
  if (cfg.stop_writes_on_bgsave_error && !cfg.save_points.empty() && !s.persist.last_bgsave_ok)
    return std::string(err::kMisconf);
  if (s.persist.aof_enabled && s.persist.aof_last_write_errno != 0)
    return std::string("-MISCONF Errors writing to the AOF file: ") +
           strerror(s.persist.aof_last_write_errno);
  return {};
}

}  // namespace

bool Dispatcher::Reject(ClientState& c, const CommandSpec* cmd, std::string_view msg) {
  if (cmd) cmd->rejected_calls++;
  if (cmd != nullptr && cmd->name == "exec") {
    // Redis ends the transaction: "-EXECABORT Transaction discarded because of: <msg>".
    ExecAbort(server_, c, msg);
    server_.stats.total_error_replies++;
    server_.stats.errorstats["EXECABORT"]++;
    return false;
  }
  if (c.has(kInMulti)) c.flags |= kDirtyExec;
  c.reply.Error(msg);
  server_.stats.total_error_replies++;
  server_.stats.errorstats[ErrorCode(c.reply.last_error())]++;
  return false;
}

void Dispatcher::Execute(ClientState& c, const std::vector<std::string_view>& argv) {
  const CommandSpec* cmd = server_.commands->Resolve(argv);
  if (cmd == nullptr) {
    Reject(c, nullptr, UnknownCommandError(argv, *server_.commands));
    return;
  }
  c.last_cmd = cmd->name;
  if (!cmd->CheckArity(argv.size()) ||
      (!cmd->subcommands.empty() && argv.size() < 2 && cmd->handler == nullptr)) {
    std::string msg = "wrong number of arguments for '" + cmd->name + "' command";
    Reject(c, cmd, msg);
    return;
  }
  const config::Values& cfg = server_.config->v();
  if (!c.authenticated && !cmd->is(kNoAuth)) {
    Reject(c, cmd, err::kNoAuth);
    return;
  }
  bool in_multi = c.has(kInMulti);
  bool is_exec_family = IsOneOf(*cmd, {"exec", "discard", "multi", "watch", "quit", "reset"});
  if (cfg.maxmemory > 0) {
    // Evicts before the master's commands too (a replica with
    // replica-ignore-maxmemory no), but never refuses them: a refused write
    // from the master would leave the replica a different dataset.
    bool over = free_memory_if_needed ? !free_memory_if_needed() : false;
    if (c.has(kMaster)) over = false;
    // As Redis: denyoom commands, anything queued inside MULTI (queueing
    // takes memory too), and an EXEC whose queue holds a denyoom command.
    bool deny =
        cmd->is(kDenyOom) || (in_multi && !IsOneOf(*cmd, {"exec", "discard", "quit", "reset"}));
    if (cmd->name == "exec") {
      for (const auto& q : c.multi_queue) deny = deny || q.first->is(kDenyOom);
    }
    if (over && deny) {
      Reject(c, cmd, err::kOom);
      return;
    }
  }
  if (!c.has(kMaster)) {
    bool is_write = cmd->is(kWrite);
    if (cmd->name == "exec") {
      for (const auto& q : c.multi_queue) is_write = is_write || q.first->is(kWrite);
    }
    if (is_write || cmd->name == "ping") {
      std::string disk_error = DiskErrorMessage(server_);
      if (!disk_error.empty()) {
        Reject(c, cmd, disk_error);
        return;
      }
    }
  }
  ReplicationControl* repl = server_.replication;
  const bool writes = cmd->is(kWrite) || (cmd->name == "exec" && [&] {
                        for (const auto& q : c.multi_queue)
                          if (q.first->is(kWrite)) return true;
                        return false;
                      }());
  if (repl != nullptr && !repl->IsReplica() && writes && cfg.min_replicas_to_write > 0 &&
      cfg.min_replicas_max_lag > 0 && repl->GoodReplicas() < cfg.min_replicas_to_write) {
    Reject(c, cmd, err::kNoReplicas);
    return;
  }
  if (writes && !c.has(kMaster) && server_.backup != nullptr && server_.backup->WritesRefused()) {
    Reject(c, cmd, err::kReadonlyBackup);
    return;
  }
  if (!cfg.replicaof.empty() && cfg.replica_read_only && !c.has(kMaster) && cmd->is(kWrite)) {
    Reject(c, cmd, err::kReadonly);
    return;
  }
  if (c.resp == 2 && InPubSubMode(c) &&
      !IsOneOf(*cmd, {"ping", "subscribe", "ssubscribe", "unsubscribe", "sunsubscribe",
                      "psubscribe", "punsubscribe", "quit", "reset"})) {
    std::string msg = "Can't execute '" + cmd->name +
                      "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are "
                      "allowed in this context";
    Reject(c, cmd, msg);
    return;
  }
  if (repl != nullptr && repl->IsReplica() && !cfg.replica_serve_stale_data &&
      !repl->MasterLinkUp() && !cmd->is(kStale)) {
    Reject(c, cmd, err::kMasterDown);
    return;
  }
  if (server_.loading && !cmd->is(kLoading)) {
    Reject(c, cmd, err::kLoading);
    return;
  }
  if (in_multi && !is_exec_family) {
    if (cmd->is(kNoMulti)) {
      std::string msg = "Command not allowed inside a transaction";
      Reject(c, cmd, msg);
      return;
    }
    c.multi_queue.emplace_back(cmd, std::vector<std::string>(argv.begin(), argv.end()));
    c.reply.Raw("+QUEUED\r\n");
    return;
  }
  Call(c, *cmd, argv);
  if (!server_.ready_keys.empty()) ServeReadyKeys();
}

void Dispatcher::Call(ClientState& c, const CommandSpec& cmd,
                      const std::vector<std::string_view>& argv, bool is_retry) {
  base::ScopedCommandTime frozen;
  uint64_t errors_before = c.reply.errors();
  int64_t start = base::MonotonicUs();
  Context ctx(server_, c, cmd, argv);
  ctx.set_retry(is_retry);
  const int db_before = c.db_index;
  const int64_t dirty_before = server_.dirty;
  const int64_t offset_before = server_.repl_offset ? *server_.repl_offset : 0;
  server_.call_depth++;
  cmd.handler(ctx);
  server_.call_depth--;
  int64_t took = base::MonotonicUs() - start;
  // EXEC's queued commands propagated themselves (nested calls).
  if (!ctx.propagation_overridden() && server_.dirty > dirty_before &&
      !server_.propagation_sinks.empty() && cmd.name != "exec") {
    server_.pending_ops.push_back({db_before, std::vector<std::string>(argv.begin(), argv.end())});
  }
  if (server_.call_depth == 0) {
    FlushPropagation(server_, !cmd.is(kTouchesArbitraryKeys));
    // What WAIT waits for: the stream up to this client's last write.
    if (server_.repl_offset && *server_.repl_offset != offset_before)
      c.repl_write_offset = *server_.repl_offset;
  }
  // A blocked command is counted when it finally runs, as Redis does.
  if (!c.has(kBlocked) || is_retry) {
    cmd.calls++;
    cmd.usec += static_cast<uint64_t>(took);
  }
  server_.stats.total_commands_processed++;
  c.commands_processed++;
  if (c.reply.errors() != errors_before) {
    cmd.failed_calls++;
    server_.stats.total_error_replies += c.reply.errors() - errors_before;
    server_.stats.errorstats[ErrorCode(c.reply.last_error())]++;
  }
  base::UpdatePeakMemory();
}

void UnwatchAll(ServerState& s, ClientState& c) {
  for (const auto& w : c.watched) {
    auto it = s.watched_keys.find(w);
    if (it == s.watched_keys.end()) continue;
    it->second.erase(&c);
    if (it->second.empty()) s.watched_keys.erase(it);
  }
  c.watched.clear();
  c.watched_expired.clear();
  c.flags &= ~kDirtyCas;
}

size_t UnsubscribeAll(ServerState& s, ClientState& c) {
  size_t n = c.channels.size() + c.patterns.size();
  for (const auto& ch : c.channels) {
    auto it = s.channels.find(ch);
    if (it == s.channels.end()) continue;
    it->second.erase(&c);
    if (it->second.empty()) s.channels.erase(it);
  }
  for (const auto& p : c.patterns) {
    auto it = s.patterns.find(p);
    if (it == s.patterns.end()) continue;
    it->second.erase(&c);
    if (it->second.empty()) s.patterns.erase(it);
  }
  c.channels.clear();
  c.patterns.clear();
  return n;
}

void Dispatcher::ClientGone(ClientState& c) {
  UnblockClient(server_, c);
  UnwatchAll(server_, c);
  UnsubscribeAll(server_, c);
  ShardUnsubscribeAll(server_, c);
  server_.clients.erase(c.id);
}

}  // namespace cairn::cmd

// Replication commands: REPLICAOF/SLAVEOF, ROLE, REPLCONF, PSYNC/SYNC, WAIT. They
// ask the engine through ReplicationControl (node/commands/replication.h) and
// reply as Redis 7.0 does.
#include "node/base/number.h"
#include "node/commands/command.h"
#include "node/commands/context.h"
#include "node/protocol/errors.h"

namespace cairn::cmd {

namespace {

namespace err = protocol::err;

ReplicationControl* Control(Context& ctx) {
  ReplicationControl* r = ctx.server().replication;
  if (r == nullptr) ctx.reply().Error("replication is not available in this process");
  return r;
}

void CmdReplicaOf(Context& ctx) {
  ReplicationControl* r = Control(ctx);
  if (r == nullptr) return;
  std::string host;
  int64_t port = 0;
  if (!(base::EqualsNoCase(ctx.arg(1), "no") && base::EqualsNoCase(ctx.arg(2), "one"))) {
    if (!base::ParseInt64(ctx.arg(2), &port) || port < 0 || port > 65535) {
      ctx.reply().Error(err::kNotInteger);
      return;
    }
    host = std::string(ctx.arg(1));
  }
  auto res = r->ReplicaOf(ctx.client(), host, static_cast<int>(port));
  if (res.ok())
    ctx.reply().Simple(res.value());
  else
    ctx.reply().Error(res.status().message());
}

void CmdRole(Context& ctx) {
  if (ReplicationControl* r = Control(ctx)) r->Role(ctx.client());
}

void CmdReplconf(Context& ctx) {
  if (ctx.argc() % 2 == 0) {
    ctx.reply().Error(err::kSyntax);
    return;
  }
  ClientState& c = ctx.client();
  for (size_t i = 1; i < ctx.argc(); i += 2) {
    std::string_view opt = ctx.arg(i), val = ctx.arg(i + 1);
    if (base::EqualsNoCase(opt, "listening-port")) {
      int64_t port = 0;
      if (!base::ParseInt64(val, &port) || port < 0 || port > 65535) {
        ctx.reply().Error(err::kNotInteger);
        return;
      }
      c.repl_listening_port = static_cast<int>(port);
    } else if (base::EqualsNoCase(opt, "ip-address")) {
      if (val.size() > 46) {
        ctx.reply().Error("REPLCONF ip-address provided by replica instance is too long: " +
                          std::to_string(val.size()) + " bytes");
        return;
      }
      c.repl_announced_ip = std::string(val);
    } else if (base::EqualsNoCase(opt, "capa")) {
      if (base::EqualsNoCase(val, "eof")) c.repl_capa_eof = true;
      if (base::EqualsNoCase(val, "psync2")) c.repl_capa_psync2 = true;
    } else if (base::EqualsNoCase(opt, "ack") || base::EqualsNoCase(opt, "getack")) {
      // ACKs travel on replica links and GETACK on the master link; from any
      // other client they are ignored without a reply, as in Redis.
      return;
    } else if (base::EqualsNoCase(opt, "rdb-only") || base::EqualsNoCase(opt, "rdb-filter-only")) {
      // redis-cli --rdb / --replica send these; Cairn's RDB holds no functions
      // to filter, and the stream that follows an RDB-only sync is harmless.
    } else {
      ctx.reply().Error("Unrecognized REPLCONF option: " + std::string(opt));
      return;
    }
  }
  ctx.reply().Ok();
}

void CmdSync(Context& ctx) {
  ReplicationControl* r = Control(ctx);
  if (r == nullptr) return;
  if (ctx.client().has(kReplica)) return;
  // The connection becomes a replica link once this command returns.
  r->Sync(ctx.client(), std::vector<std::string>(ctx.argv().begin(), ctx.argv().end()));
}

void CmdWait(Context& ctx) {
  ReplicationControl* r = Control(ctx);
  if (r == nullptr) return;
  int64_t num = 0, timeout = 0;
  if (!base::ParseInt64(ctx.arg(1), &num) || !base::ParseInt64(ctx.arg(2), &timeout)) {
    ctx.reply().Error(err::kNotInteger);
    return;
  }
  if (timeout < 0) {
    ctx.reply().Error("timeout is negative");
    return;
  }
  r->Wait(ctx.client(), num, timeout);
}

}  // namespace

void RegisterReplicationCommands(CommandTable& t) {
  const char* acl = "@admin @slow @dangerous";
  t.Add(MakeSpec("replicaof", 3, kAdmin | kNoScript | kStale | kNoAsyncLoading, 0, 0, 0,
                 CmdReplicaOf, "server", "5.0.0",
                 "Makes the node a replica of another one, or a master (NO ONE).",
                 "<host port | NO ONE>", acl));
  t.Add(MakeSpec("slaveof", 3, kAdmin | kNoScript | kStale | kNoAsyncLoading, 0, 0, 0, CmdReplicaOf,
                 "server", "1.0.0",
                 "Makes the node a replica of another one (old name of REPLICAOF).",
                 "<host port | NO ONE>", acl));
  t.Add(MakeSpec("role", 1, kNoScript | kLoading | kStale | kFast | kSentinel, 0, 0, 0, CmdRole,
                 "server", "2.8.12", "Returns the replication role.", "",
                 "@admin @fast @dangerous"));
  t.Add(MakeSpec("replconf", -1, kAdmin | kNoScript | kLoading | kStale | kAllowBusy, 0, 0, 0,
                 CmdReplconf, "server", "3.0.0",
                 "An internal command for configuring the replication stream.", "", acl));
  t.Add(MakeSpec("psync", -3, kAdmin | kNoScript | kNoAsyncLoading | kNoMulti, 0, 0, 0, CmdSync,
                 "server", "2.8.0", "An internal command used in replication.",
                 "replicationid offset", acl));
  t.Add(MakeSpec("sync", 1, kAdmin | kNoScript | kNoAsyncLoading | kNoMulti, 0, 0, 0, CmdSync,
                 "server", "1.0.0", "An internal command used in replication.", "", acl));
  t.Add(MakeSpec("wait", 3, kNoScript, 0, 0, 0, CmdWait, "generic", "3.0.0",
                 "Blocks until the writes of this connection reached a number of replicas.",
                 "numreplicas timeout", "@slow @connection"));
}

}  // namespace cairn::cmd

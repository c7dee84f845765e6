// Connection commands: PING, ECHO, QUIT, RESET, SELECT, AUTH, HELLO and CLIENT.
#include <sodium.h>

#include <algorithm>

#include "node/base/clock.h"
#include "node/base/number.h"
#include "node/commands/client_info.h"
#include "node/commands/command.h"
#include "node/commands/context.h"
#include "node/commands/dispatcher.h"
#include "node/commands/pubsub.h"

namespace cairn::cmd {
namespace {

namespace err = protocol::err;

// Constant-time password check: compare fixed-size digests so neither the
// content nor the length of the configured password leaks through timing.
bool PasswordMatches(std::string_view given, std::string_view expected) {
  unsigned char a[crypto_generichash_BYTES], b[crypto_generichash_BYTES];
  crypto_generichash(a, sizeof(a), reinterpret_cast<const unsigned char*>(given.data()),
                     given.size(), nullptr, 0);
  crypto_generichash(b, sizeof(b), reinterpret_cast<const unsigned char*>(expected.data()),
                     expected.size(), nullptr, 0);
  return sodium_memcmp(a, b, sizeof(a)) == 0;
}

// Checks username/password as the default user; replies on failure.
bool Authenticate(Context& ctx, std::string_view user, std::string_view pass) {
  const std::string& required = ctx.cfg().requirepass;
  bool ok = user == "default" && (required.empty() || PasswordMatches(pass, required));
  if (!ok) {
    ctx.reply().Error(err::kWrongPass);
    return false;
  }
  ctx.client().authenticated = true;
  ctx.client().user = "default";
  return true;
}

void CmdPing(Context& ctx) {
  if (ctx.argc() > 2) {
    ctx.reply().Error("wrong number of arguments for 'ping' command");
    return;
  }
  if (ctx.client().resp == 2 && InPubSubMode(ctx.client())) {
    ctx.reply().Array(2);
    ctx.reply().Bulk("pong");
    ctx.reply().Bulk(ctx.argc() == 2 ? ctx.arg(1) : "");
    return;
  }
  if (ctx.argc() == 2)
    ctx.reply().Bulk(ctx.arg(1));
  else
    ctx.reply().Raw("+PONG\r\n");
}

void CmdEcho(Context& ctx) { ctx.reply().Bulk(ctx.arg(1)); }

void CmdQuit(Context& ctx) {
  ctx.reply().Ok();
  ctx.client().flags |= kCloseAfterReply;
}

void CmdSelect(Context& ctx) {
  int64_t id;
  if (!ctx.ParseIntRange(ctx.arg(1), INT32_MIN, INT32_MAX, &id)) return;
  if (id < 0 || id >= ctx.server().db_count()) {
    ctx.reply().Error(err::kDbIndexOutOfRange);
    return;
  }
  ctx.client().db_index = static_cast<int>(id);
  ctx.reply().Ok();
}

void CmdAuth(Context& ctx) {
  if (ctx.argc() > 3) {
    ctx.reply().Error(err::kSyntax);
    return;
  }
  if (ctx.argc() == 2 && ctx.cfg().requirepass.empty()) {
    ctx.reply().Error(
        "AUTH <password> called without any password configured for the default user. Are you "
        "sure your configuration is correct?");
    return;
  }
  std::string_view user = ctx.argc() == 3 ? ctx.arg(1) : "default";
  std::string_view pass = ctx.argc() == 3 ? ctx.arg(2) : ctx.arg(1);
  if (Authenticate(ctx, user, pass)) ctx.reply().Ok();
}

void CmdHello(Context& ctx) {
  int64_t ver = 0;
  size_t j = 1;
  if (ctx.argc() >= 2) {
    if (!base::ParseInt64(ctx.arg(1), &ver)) {
      ctx.reply().Error("Protocol version is not an integer or out of range");
      return;
    }
    j = 2;
    if (ver < 2 || ver > 3) {
      ctx.reply().Error("-NOPROTO unsupported protocol version");
      return;
    }
  }
  std::string_view setname;
  bool has_setname = false;
  for (; j < ctx.argc(); j++) {
    size_t more = ctx.argc() - j - 1;
    if (base::EqualsNoCase(ctx.arg(j), "AUTH") && more >= 2) {
      if (!Authenticate(ctx, ctx.arg(j + 1), ctx.arg(j + 2))) return;
      j += 2;
    } else if (base::EqualsNoCase(ctx.arg(j), "SETNAME") && more >= 1) {
      setname = ctx.arg(j + 1);
      has_setname = true;
      j += 1;
    } else {
      ctx.reply().Error("Syntax error in HELLO option '" + std::string(ctx.arg(j)) + "'");
      return;
    }
  }
  if (!ctx.client().authenticated) {
    ctx.reply().Error(
        "-NOAUTH HELLO must be called with the client already authenticated, "
        "otherwise the HELLO <proto> AUTH <user> <pass> option can be used to "
        "authenticate the client and select the RESP protocol version at the same "
        "time");
    return;
  }
  if (has_setname) {
    for (char ch : setname) {
      if (ch < '!' || ch > '~') {
        ctx.reply().Error("Client names cannot contain spaces, newlines or special characters.");
        return;
      }
    }
    ctx.client().name.assign(setname);
  }
  if (ver != 0) {
    ctx.client().resp = static_cast<int>(ver);
    ctx.reply().set_proto(static_cast<int>(ver));
  }
  auto& r = ctx.reply();
  r.Map(7);
  r.Bulk("server");
  r.Bulk("redis");
  r.Bulk("version");
  r.Bulk("7.0.15");
  r.Bulk("proto");
  r.Int(ctx.client().resp);
  r.Bulk("id");
  r.Int(static_cast<int64_t>(ctx.client().id));
  r.Bulk("mode");
  r.Bulk("standalone");
  r.Bulk("role");
  r.Bulk(ctx.cfg().replicaof.empty() ? "master" : "replica");
  r.Bulk("modules");
  r.Array(0);
}

void CmdReset(Context& ctx) {
  ClientState& c = ctx.client();
  ServerState& s = ctx.server();
  c.multi_queue.clear();
  c.flags &= ~(kInMulti | kDirtyExec | kDirtyCas | kNoEvict);
  UnwatchAll(s, c);
  UnsubscribeAll(s, c);
  ShardUnsubscribeAll(s, c);
  c.db_index = 0;
  c.resp = 2;
  c.reply.set_proto(2);
  c.name.clear();
  c.authenticated = ctx.cfg().requirepass.empty();
  ctx.reply().Raw("+RESET\r\n");
}

// --- CLIENT ------------------------------------------------------------------

void CmdClientId(Context& ctx) { ctx.reply().Int(static_cast<int64_t>(ctx.client().id)); }

void CmdClientSetName(Context& ctx) {
  std::string_view name = ctx.arg(2);
  for (char ch : name) {
    if (ch < '!' || ch > '~') {
      ctx.reply().Error("Client names cannot contain spaces, newlines or special characters.");
      return;
    }
  }
  ctx.client().name.assign(name);
  ctx.reply().Ok();
}

void CmdClientGetName(Context& ctx) {
  if (ctx.client().name.empty())
    ctx.reply().Null();
  else
    ctx.reply().Bulk(ctx.client().name);
}

const char* ClientType(const ClientState& c) {
  if (c.has(kMaster)) return "master";
  if (c.has(kReplica)) return "replica";
  if (c.subscriptions() > 0) return "pubsub";
  return "normal";
}

void CmdClientList(Context& ctx) {
  std::string type;
  std::vector<uint64_t> ids;
  for (size_t j = 2; j < ctx.argc(); j++) {
    if (base::EqualsNoCase(ctx.arg(j), "TYPE") && j + 1 < ctx.argc()) {
      type = base::ToLower(ctx.arg(++j));
      if (type == "slave") type = "replica";
      if (type != "normal" && type != "master" && type != "replica" && type != "pubsub") {
        ctx.reply().Error("Unknown client type '" + std::string(ctx.arg(j)) + "'");
        return;
      }
    } else if (base::EqualsNoCase(ctx.arg(j), "ID") && j + 1 < ctx.argc()) {
      for (j++; j < ctx.argc(); j++) {
        int64_t id;
        if (!base::ParseInt64(ctx.arg(j), &id) || id <= 0) {
          ctx.reply().Error("Invalid client ID");
          return;
        }
        ids.push_back(static_cast<uint64_t>(id));
      }
    } else {
      ctx.reply().Error(err::kSyntax);
      return;
    }
  }
  std::string out;
  int64_t now = base::NowMs();
  for (const auto& [id, c] : ctx.server().clients) {
    if (!type.empty() && type != ClientType(*c)) continue;
    if (!ids.empty() && std::find(ids.begin(), ids.end(), id) == ids.end()) continue;
    out += ClientInfoLine(*c, now);
    out += '\n';
  }
  ctx.reply().Verbatim(out);
}

void CmdClientInfo(Context& ctx) {
  ctx.reply().Verbatim(ClientInfoLine(ctx.client(), base::NowMs()) + "\n");
}

void CmdClientKill(Context& ctx) {
  ServerState& s = ctx.server();
  std::vector<ClientState*> victims;
  if (ctx.argc() == 3) {
    // Old form: CLIENT KILL addr:port
    for (auto& [id, c] : s.clients) {
      if (c->addr == ctx.arg(2)) victims.push_back(c);
    }
    if (victims.empty()) {
      ctx.reply().Error("No such client");
      return;
    }
  } else {
    if ((ctx.argc() - 2) % 2 != 0) {
      ctx.reply().Error(err::kSyntax);
      return;
    }
    int64_t id = 0;
    std::string addr, laddr, type, user;
    bool skipme = true;
    for (size_t j = 2; j + 1 < ctx.argc(); j += 2) {
      std::string_view opt = ctx.arg(j), val = ctx.arg(j + 1);
      if (base::EqualsNoCase(opt, "ID")) {
        if (!base::ParseInt64(val, &id) || id <= 0) {
          ctx.reply().Error("client-id should be greater than 0");
          return;
        }
      } else if (base::EqualsNoCase(opt, "ADDR")) {
        addr = val;
      } else if (base::EqualsNoCase(opt, "LADDR")) {
        laddr = val;
      } else if (base::EqualsNoCase(opt, "TYPE")) {
        type = base::ToLower(val);
        if (type == "slave") type = "replica";
        if (type != "normal" && type != "master" && type != "replica" && type != "pubsub") {
          ctx.reply().Error("Unknown client type '" + std::string(val) + "'");
          return;
        }
      } else if (base::EqualsNoCase(opt, "USER")) {
        user = val;
        if (user != "default") {
          ctx.reply().Error("No such user '" + user + "'");
          return;
        }
      } else if (base::EqualsNoCase(opt, "SKIPME")) {
        if (base::EqualsNoCase(val, "yes")) {
          skipme = true;
        } else if (base::EqualsNoCase(val, "no")) {
          skipme = false;
        } else {
          ctx.reply().Error(err::kSyntax);
          return;
        }
      } else {
        ctx.reply().Error(err::kSyntax);
        return;
      }
    }
    for (auto& [cid, c] : s.clients) {
      if (id && c->id != static_cast<uint64_t>(id)) continue;
      if (!addr.empty() && c->addr != addr) continue;
      if (!laddr.empty() && c->laddr != laddr) continue;
      if (!type.empty() && type != ClientType(*c)) continue;
      if (!user.empty() && c->user != user) continue;
      if (c == &ctx.client() && skipme) continue;
      victims.push_back(c);
    }
  }
  for (ClientState* c : victims) {
    if (c == &ctx.client())
      c->flags |= kCloseAfterReply;
    else if (c->io)
      c->io->Close(false);
  }
  if (ctx.argc() == 3)
    ctx.reply().Ok();
  else
    ctx.reply().Int(static_cast<int64_t>(victims.size()));
}

void CmdClientNoEvict(Context& ctx) {
  if (base::EqualsNoCase(ctx.arg(2), "on")) {
    ctx.client().flags |= kNoEvict;
  } else if (base::EqualsNoCase(ctx.arg(2), "off")) {
    ctx.client().flags &= ~kNoEvict;
  } else {
    ctx.reply().Error(err::kSyntax);
    return;
  }
  ctx.reply().Ok();
}

void CmdClientHelp(Context& ctx) {
  static const char* kLines[] = {
      "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "GETNAME",
      "    Return the name of the current connection.",
      "ID",
      "    Return the ID of the current connection.",
      "INFO",
      "    Return information about the current client connection.",
      "KILL <ip:port>",
      "    Kill connection made from <ip:port>.",
      "KILL <option> <value> [<option> <value> [...]]",
      "    Kill connections. Options are: ID <client-id>, TYPE (normal|master|replica|pubsub),",
      "    USER <username>, ADDR <ip:port>, LADDR <ip:port>, SKIPME (YES|NO).",
      "LIST [options ...]",
      "    Return information about client connections. Options: TYPE (NORMAL|MASTER|REPLICA|",
      "    PUBSUB), ID <client-id> [<client-id> ...].",
      "NO-EVICT (ON|OFF)",
      "    Protect the current client connection from eviction.",
      "SETNAME <name>",
      "    Assign the name <name> to the current connection.",
      "HELP",
      "    Print this help.",
  };
  ctx.reply().StatusLines(kLines);
}

CommandSpec Make(const char* name, int arity, uint32_t flags, Handler h, const char* since,
                 const char* summary, const char* syntax, const char* acl) {
  return MakeSpec(name, arity, flags, 0, 0, 0, h, "connection", since, summary, syntax, acl);
}

}  // namespace

std::string ClientInfoLine(const ClientState& c, int64_t now_ms) {
  std::string flags;
  if (c.has(kReplica)) flags += 'S';
  if (c.has(kMaster)) flags += 'M';
  if (c.subscriptions() > 0) flags += 'P';
  if (c.has(kInMulti)) flags += 'x';
  if (c.has(kBlocked)) flags += 'b';
  if (c.has(kDirtyCas)) flags += 'd';
  if (c.has(kCloseAfterReply)) flags += 'c';
  if (c.has(kNoEvict)) flags += 'e';
  if (flags.empty()) flags = "N";
  size_t qbuf = c.io ? c.io->QueryBufferLength() : 0;
  size_t qfree = c.io ? c.io->QueryBufferFree() : 0;
  size_t omem = c.io ? c.io->PendingOutput() : 0;
  std::string s;
  s.reserve(320);
  s += "id=" + std::to_string(c.id);
  s += " addr=" + c.addr;
  s += " laddr=" + c.laddr;
  s += " fd=" + std::to_string(c.io ? c.io->Fd() : -1);
  s += " name=" + c.name;
  s += " age=" + std::to_string((now_ms - c.ctime_ms) / 1000);
  s += " idle=" + std::to_string((now_ms - c.last_interaction_ms) / 1000);
  s += " flags=" + flags;
  s += " db=" + std::to_string(c.db_index);
  s += " sub=" + std::to_string(c.channels.size());
  s += " psub=" + std::to_string(c.patterns.size());
  s += " ssub=0";
  s += " multi=" +
       std::to_string(c.has(kInMulti) ? static_cast<int64_t>(c.multi_queue.size()) : int64_t{-1});
  s += " qbuf=" + std::to_string(qbuf);
  s += " qbuf-free=" + std::to_string(qfree);
  s += " argv-mem=0 multi-mem=0";
  s += " rbs=" + std::to_string(qbuf + qfree);
  s += " rbp=0";
  s += " obl=" + std::to_string(c.out.size());
  s += " oll=0";
  s += " omem=" + std::to_string(omem);
  s += " tot-mem=" + std::to_string(qbuf + qfree + omem + sizeof(ClientState));
  s += " events=r";
  s += " cmd=" + c.last_cmd;
  s += " user=" + c.user;
  s += " redir=-1";
  s += " resp=" + std::to_string(c.resp);
  return s;
}

void RegisterConnectionCommands(CommandTable& t) {
  constexpr uint32_t kConn = kLoading | kStale | kFast;
  t.Add(Make("ping", -1, kFast | kSentinel, CmdPing, "1.0.0", "Checks that the server answers.",
             "[message]", "@fast @connection"));
  t.Add(Make("echo", 2, kConn, CmdEcho, "1.0.0", "Returns its argument.", "message",
             "@fast @connection"));
  t.Add(Make("quit", -1, kAllowBusy | kNoAuth | kNoScript | kLoading | kStale | kFast, CmdQuit,
             "1.0.0", "Closes the connection after replying.", "", "@fast @connection"));
  t.Add(Make("reset", 1, kNoScript | kLoading | kStale | kFast | kNoAuth | kAllowBusy, CmdReset,
             "6.2.0", "Resets the connection to its initial state.", "", "@fast @connection"));
  t.Add(Make("select", 2, kLoading | kStale | kFast, CmdSelect, "1.0.0",
             "Changes the selected database.", "index", "@fast @connection"));
  t.Add(Make("auth", -2, kNoScript | kLoading | kStale | kFast | kNoAuth | kSentinel | kAllowBusy,
             CmdAuth, "1.0.0", "Authenticates the connection.", "[username] password",
             "@fast @connection"));
  t.Add(Make("hello", -1, kNoScript | kLoading | kStale | kFast | kNoAuth | kSentinel | kAllowBusy,
             CmdHello, "6.0.0",
             "Handshakes: selects the protocol version, authenticates, names the client.",
             "[protover [AUTH username password] [SETNAME clientname]]", "@fast @connection"));
  t.Add(
      Make("client", -2, kSentinel, nullptr, "2.4.0", "Client connection commands.", "", "@slow"));
  constexpr uint32_t kCl = kNoScript | kLoading | kStale;
  t.AddSub("client", Make("id", 2, kCl, CmdClientId, "5.0.0", "Returns the connection's id.", "",
                          "@slow @connection"));
  t.AddSub("client", Make("setname", 3, kCl, CmdClientSetName, "2.6.9", "Names the connection.",
                          "connection-name", "@slow @connection"));
  t.AddSub("client", Make("getname", 2, kCl, CmdClientGetName, "2.6.9",
                          "Returns the connection's name.", "", "@slow @connection"));
  t.AddSub("client",
           Make("list", -2, kAdmin | kCl, CmdClientList, "2.4.0", "Lists client connections.",
                "[TYPE NORMAL | MASTER | REPLICA | PUBSUB] [ID client-id [client-id ...]]",
                "@admin @slow @dangerous @connection"));
  t.AddSub("client", Make("info", 2, kCl, CmdClientInfo, "6.2.0",
                          "Describes the current connection.", "", "@slow @connection"));
  t.AddSub("client",
           Make("kill", -3, kAdmin | kCl, CmdClientKill, "2.4.0", "Closes client connections.",
                "ip:port | <[ID client-id] | [TYPE <NORMAL | MASTER | SLAVE | REPLICA | PUBSUB>] | "
                "[USER username] | [ADDR ip:port] | [LADDR ip:port] | [SKIPME yes/no] [[ID "
                "client-id] | [TYPE <NORMAL | MASTER | SLAVE | REPLICA | PUBSUB>] | [USER "
                "username] | [ADDR ip:port] | [LADDR ip:port] | [SKIPME yes/no] ...]>",
                "@admin @slow @dangerous @connection"));
  t.AddSub("client", Make("no-evict", 3, kAdmin | kCl, CmdClientNoEvict, "7.0.0",
                          "Protects the connection from client eviction.", "ON | OFF",
                          "@admin @slow @dangerous @connection"));
  t.AddSub("client", Make("help", 2, kLoading | kStale, CmdClientHelp, "5.0.0",
                          "Shows CLIENT's subcommands.", "", "@slow @connection"));
}

}  // namespace cairn::cmd

// `cairn snapshot` against a running node, and `cairn promote` (see snapshot_remote.h).
// The node does the work (node/commands/backup_commands.cc); this side turns its
// replies into the tables the offline mode prints.
#include "node/server/snapshot_remote.h"

#include <strings.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <thread>

#include "backup/snapshot_store.h"
#include "node/server/snapshot_cli.h"
#include "node/server/snapshot_table.h"

namespace cairn::server {
namespace {

constexpr auto kPollInterval = std::chrono::milliseconds(150);

constexpr const char* kPromoteHelp =
    "Usage:\n"
    "  cairn promote [--snapshot NAME] [--force] [-h HOST] [-p PORT] [-s SOCKET]\n"
    "                [-a PASSWORD] [--user USER]\n"
    "\n"
    "Turns a running backup node (backup-mode yes, a replica) into a writable master:\n"
    "it stops replicating, accepts writes and keeps taking snapshots; its config file\n"
    "is rewritten (backup-mode no, no replicaof) so a restart stays a master.\n"
    "  --snapshot NAME  first replace the dataset with that snapshot (cairn snapshot\n"
    "                   list shows the names; 'latest' is the newest verified one);\n"
    "                   without it the live data is promoted\n"
    "  --force          load a snapshot that did not verify\n"
    "\n"
    "Connection (as redis-cli): -h/--host (127.0.0.1), -p/--port (6379), -s/--socket,\n"
    "-a/--pass or $REDISCLI_AUTH, --user. Sends BACKUP PROMOTE [NAME] [FORCE].\n";

int Fail(const char* tool, const std::string& msg) {
  std::cerr << tool << ": " << msg << "\n";
  return 1;
}

std::string Text(const RespReply& r) {
  if (r.IsText() || r.type == RespReply::Type::kError) return r.str;
  if (r.type == RespReply::Type::kInteger) return std::to_string(r.integer);
  return "";
}

int64_t Integer(const RespReply& r) {
  if (r.type == RespReply::Type::kInteger) return r.integer;
  return std::strtoll(r.str.c_str(), nullptr, 10);
}

// "dump-20261123T030000Z.rdb" -> its time, whatever the node's snapshot-prefix.
int64_t TimeOfName(const std::string& name) {
  size_t dash = name.rfind('-');
  if (dash == std::string::npos) return 0;
  return backup::ParseSnapshotName(name.substr(0, dash), name).value_or(0);
}

// One BACKUP LIST entry (name, value, name, value ...) as the offline mode's meta.
backup::SnapshotMeta MetaFromReply(const RespReply& entry) {
  backup::SnapshotMeta m;
  for (size_t i = 0; i + 1 < entry.elements.size(); i += 2) {
    const std::string key = Text(entry.elements[i]);
    const RespReply& v = entry.elements[i + 1];
    if (key == "name") m.name = Text(v);
    if (key == "time") m.unix_seconds = Integer(v);
    if (key == "kind") m.kind = Text(v);
    if (key == "size") m.size = static_cast<uint64_t>(Integer(v));
    if (key == "keys") m.keys = static_cast<uint64_t>(Integer(v));
    if (key == "verified") m.verified = Text(v) == "yes";
    if (key == "verify-error") m.verify_error = Text(v);
    if (key == "repl-id") m.repl_id = Text(v);
    if (key == "repl-offset") m.repl_offset = Integer(v);
    if (key == "master") m.master = Text(v);
  }
  return m;
}

Result<std::vector<backup::SnapshotMeta>> List(RespClient& c) {
  auto r = c.Command({"BACKUP", "LIST"});
  if (!r.ok()) return r.status();
  if (r->type != RespReply::Type::kArray)
    return Status::Corruption("BACKUP LIST: unexpected reply from " + c.endpoint());
  std::vector<backup::SnapshotMeta> list;
  for (const auto& e : r->elements) list.push_back(MetaFromReply(e));
  return list;
}

// The fields of one INFO section ("key:value" lines).
std::map<std::string, std::string> ParseInfo(const std::string& text) {
  std::map<std::string, std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    size_t colon = line.find(':');
    if (!line.empty() && line[0] != '#' && colon != std::string::npos)
      out[line.substr(0, colon)] = line.substr(colon + 1);
    pos = end + 1;
  }
  return out;
}

int RemoteList(RespClient& c) {
  auto list = List(c);
  if (!list.ok()) return Fail("cairn snapshot", list.status().message());
  PrintSnapshotList(*list);
  return 0;
}

// BACKUP SNAPSHOT, then INFO backup until the node no longer reports it running.
int RemoteCreate(RespClient& c, int timeout_seconds) {
  const char* tool = "cairn snapshot";
  auto started = c.Command({"BACKUP", "SNAPSHOT"});
  if (!started.ok()) return Fail(tool, started.status().message());
  const std::string& text = started->str;  // "Snapshot started: NAME"
  size_t colon = text.rfind(": ");
  if (colon == std::string::npos) return Fail(tool, "unexpected reply to BACKUP SNAPSHOT: " + text);
  const std::string name = text.substr(colon + 2);
  std::cerr << "Snapshot " << name << " started on " << c.endpoint()
            << "; waiting for it to be written and verified\n";

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  std::map<std::string, std::string> info;
  for (;;) {
    auto r = c.Command({"INFO", "backup"});
    if (!r.ok()) return Fail(tool, r.status().message());
    info = ParseInfo(r->str);
    if (info["snapshot_current"] != name) break;
    if (std::chrono::steady_clock::now() >= deadline)
      return Fail(tool, "snapshot " + name + " still running after " +
                            std::to_string(timeout_seconds) +
                            " s; the node goes on with it (see INFO backup)");
    std::this_thread::sleep_for(kPollInterval);
  }

  auto list = List(c);
  if (!list.ok()) return Fail(tool, list.status().message());
  const backup::SnapshotMeta* found = nullptr;
  for (const auto& m : *list) {
    if (m.name == name) found = &m;
  }
  bool ok;
  std::string error;
  if (info["last_snapshot"] == name) {
    ok = info["last_snapshot_status"] == "ok";
    error = info["last_snapshot_error"];
  } else {
    // A newer snapshot ended in between and took its place in INFO: the listing
    // tells whether this one made it.
    ok = found != nullptr && found->verified;
    error = found == nullptr ? "it is not in the node's snapshot listing (see the node's log)"
                             : "it did not verify: " + found->verify_error;
  }
  if (!ok) return Fail(tool, "snapshot " + name + " failed: " + error);
  if (found != nullptr) {
    PrintSnapshotHeader();
    PrintSnapshotRow(*found);
  } else {
    // Taken, then removed at once by the node's snapshot-keep.
    std::cout << "Snapshot " << name << " done (" << info["last_snapshot_keys"] << " keys, "
              << info["last_snapshot_size"] << " bytes); snapshot-keep has pruned it since\n";
  }
  return 0;
}

int RemotePrune(RespClient& c, bool dry_run) {
  std::vector<std::string> argv{"BACKUP", "PRUNE"};
  if (dry_run) argv.push_back("DRYRUN");
  auto r = c.Command(argv);
  if (!r.ok()) return Fail("cairn snapshot", r.status().message());
  std::vector<backup::RetentionDecision> decisions;
  for (const auto& e : r->elements) {
    if (e.elements.size() != 3) continue;
    backup::RetentionDecision d;
    d.snapshot.name = Text(e.elements[0]);
    d.snapshot.unix_seconds = TimeOfName(d.snapshot.name);
    d.keep = Text(e.elements[1]) == "keep";
    const std::string reasons = Text(e.elements[2]);
    size_t pos = 0;
    while (pos < reasons.size()) {
      size_t comma = reasons.find(',', pos);
      if (comma == std::string::npos) comma = reasons.size();
      if (comma > pos) d.reasons.push_back(reasons.substr(pos, comma - pos));
      pos = comma + 1;
    }
    decisions.push_back(std::move(d));
  }
  PrintPruneDecisions(decisions, dry_run);
  return 0;
}

// A command whose reply is one status line (BACKUP RESTORE, BACKUP PROMOTE).
int StatusCommand(const char* tool, RespClient& c, const std::vector<std::string>& argv) {
  auto r = c.Command(argv);
  if (!r.ok()) return Fail(tool, r.status().message());
  std::cout << Text(*r) << "\n";
  return 0;
}

}  // namespace

void AddConnectionOptions(cxxopts::Options& opts) {
  opts.add_options()("h,host", "server hostname", cxxopts::value<std::string>())(
      "p,port", "server port", cxxopts::value<int>())(
      "s,socket", "server socket (overrides hostname and port)", cxxopts::value<std::string>())(
      "a,pass", "password for AUTH (or $REDISCLI_AUTH)", cxxopts::value<std::string>())(
      "user", "user name for AUTH (ACL)", cxxopts::value<std::string>());
}

bool ConnectionOptionsGiven(const cxxopts::ParseResult& r) {
  return r.count("host") + r.count("port") + r.count("socket") + r.count("pass") + r.count("user") >
         0;
}

ConnectOptions ConnectionFrom(const cxxopts::ParseResult& r) {
  ConnectOptions o;
  if (r.count("host")) o.host = r["host"].as<std::string>();
  if (r.count("port")) o.port = r["port"].as<int>();
  if (r.count("socket")) o.socket = r["socket"].as<std::string>();
  if (r.count("user")) o.user = r["user"].as<std::string>();
  if (r.count("pass")) {
    o.password = r["pass"].as<std::string>();
  } else if (const char* env = std::getenv("REDISCLI_AUTH")) {
    o.password = env;
  }
  return o;
}

int RemoteSnapshot(const RemoteSnapshotRequest& req) {
  const char* tool = "cairn snapshot";
  if (req.action == "verify")
    return Fail(tool,
                "verify reads the snapshot files: run it with --dir DIR on the host that holds "
                "them (a node verifies every snapshot it takes; list shows the outcome)");
  if (req.action != "list" && req.action != "create" && req.action != "prune" &&
      req.action != "restore")
    return Fail(tool, "unknown action '" + req.action + "' (list, create, verify, prune, restore)");
  if (req.action == "restore" && req.names.size() != 1)
    return Fail(tool, "restore takes one snapshot name (cairn snapshot list shows them)");
  if (req.action != "restore" && !req.names.empty())
    return Fail(tool, req.action + " takes no snapshot names");

  auto client = RespClient::Connect(req.connection);
  if (!client.ok()) {
    std::string hint = client.status().code() == StatusCode::kIOError
                           ? " (is the node running? --dir DIR works on a snapshot directory "
                             "without one)"
                           : "";
    return Fail(tool, client.status().message() + hint);
  }
  RespClient& c = **client;
  if (req.action == "list") return RemoteList(c);
  if (req.action == "create") return RemoteCreate(c, req.timeout_seconds);
  if (req.action == "prune") return RemotePrune(c, req.dry_run);
  std::vector<std::string> argv{"BACKUP", "RESTORE", req.names[0]};
  if (req.force) argv.push_back("FORCE");
  auto r = c.Command(argv);
  if (!r.ok()) {
    std::string msg = r.status().message();
    // A backup replica restores by promotion: name this tool's way of doing it.
    if (msg.find("BACKUP PROMOTE") != std::string::npos)
      msg += " (here: cairn promote --snapshot " + req.names[0] + ")";
    return Fail(tool, msg);
  }
  std::cout << Text(*r) << "\n";
  return 0;
}

int RunPromote(const std::vector<std::string>& args) {
  const char* tool = "cairn promote";
  if (args.size() == 1 && (args[0] == "-h" || args[0] == "--help")) {
    std::cout << kPromoteHelp;
    return 0;
  }
  cxxopts::Options opts(tool, "Promote a backup node to a writable master");
  opts.add_options()("help", "Show this help")("snapshot", "load this snapshot first",
                                               cxxopts::value<std::string>())(
      "force", "load a snapshot that did not verify")("extra", "unexpected arguments",
                                                      cxxopts::value<std::vector<std::string>>());
  AddConnectionOptions(opts);
  opts.parse_positional({"extra"});
  std::vector<const char*> argv{tool};
  for (const auto& a : args) argv.push_back(a.c_str());
  cxxopts::ParseResult r;
  try {
    r = opts.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const std::exception& e) {
    return Fail(tool, std::string(e.what()) + " (see cairn promote --help)");
  }
  if (r.count("help")) {
    std::cout << kPromoteHelp;
    return 0;
  }
  if (r.count("extra"))
    return Fail(tool, "unexpected argument '" + r["extra"].as<std::vector<std::string>>()[0] +
                          "' (a snapshot is given with --snapshot NAME)");
  std::vector<std::string> cmd{"BACKUP", "PROMOTE"};
  if (r.count("snapshot")) {
    const std::string name = r["snapshot"].as<std::string>();
    // The node would read a NAME of "force" as the FORCE flag.
    if (name.empty() || name[0] == '-' || strcasecmp(name.c_str(), "force") == 0)
      return Fail(tool, "'" + name + "' is not a snapshot name (cairn snapshot list shows them)");
    cmd.push_back(name);
  }
  if (r.count("force")) {
    if (!r.count("snapshot")) return Fail(tool, "--force applies to --snapshot NAME only");
    cmd.push_back("FORCE");
  }
  auto client = RespClient::Connect(ConnectionFrom(r));
  if (!client.ok()) return Fail(tool, client.status().message());
  return StatusCommand(tool, **client, cmd);
}

}  // namespace cairn::server

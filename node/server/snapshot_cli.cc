// `cairn snapshot`; see snapshot_cli.h. This file parses the options, picks the
// mode and runs the offline actions; snapshot_remote.cc runs the online ones.
#include "node/server/snapshot_cli.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cxxopts.hpp>
#include <fstream>
#include <iostream>

#include "backup/snapshot_store.h"
#include "node/persistence/rdb_write_sink.h"
#include "node/server/snapshot_remote.h"
#include "node/server/snapshot_table.h"

namespace cairn::server {
namespace {

constexpr const char* kHelp =
    "Usage:\n"
    "  cairn snapshot list    [--dir DIR]\n"
    "  cairn snapshot create                        (a running node only)\n"
    "  cairn snapshot verify  --dir DIR [NAME ...]  (offline only)\n"
    "  cairn snapshot prune   [--dry-run] [--dir DIR --keep \"last 3 daily 7 weekly 4\"]\n"
    "  cairn snapshot restore NAME [--force] [--dir DIR --to PATH]\n"
    "\n"
    "Without --dir, the actions run on a running node over RESP, with redis-cli's\n"
    "connection options: -h/--host (127.0.0.1), -p/--port (6379), -s/--socket,\n"
    "-a/--pass (or $REDISCLI_AUTH), --user. With --dir DIR they work on a snapshot\n"
    "directory (a backup node's snapshot-dir) and need no node.\n"
    "Snapshots are dump-YYYYMMDDTHHMMSSZ.rdb files (UTC), each with a .meta manifest.\n"
    "\n"
    "  list     one line per snapshot: time, kind, size, keys, verification\n"
    "  create   the node takes a snapshot now (BACKUP SNAPSHOT); waits until it is\n"
    "           written and verified (--timeout SECONDS, default 3600), prints it;\n"
    "           exit 1 if it failed\n"
    "  verify   parses every snapshot (or the NAMEs) completely, checks its CRC64 and\n"
    "           records the result in its manifest; exit 1 if any fails\n"
    "  prune    removes what the retention rules (restic's forget semantics) do not\n"
    "           keep, never the newest verified snapshot; --dry-run prints the decisions\n"
    "           only. Online the node's snapshot-keep gives the rules, offline --keep\n"
    "  restore  online: a master replaces its dataset with snapshot NAME (BACKUP\n"
    "           RESTORE; a backup replica uses cairn promote --snapshot NAME).\n"
    "           Offline: verifies NAME and copies it atomically to the file --to PATH\n"
    "           (which must not exist), for a stopped node or a stock redis-server to\n"
    "           load. --force uses a snapshot that did not verify. NAME 'latest' is\n"
    "           the newest verified snapshot.\n"
    "\n"
    "Other options: --prefix P (offline: file prefix, default dump), --local-time\n"
    "(offline prune: periods in the local time zone instead of UTC), --help.\n";

int Fail(const std::string& msg) {
  std::cerr << "cairn snapshot: " << msg << "\n";
  return 1;
}

int OfflineVerify(const std::string& dir, const std::vector<backup::SnapshotMeta>& list,
                  const std::vector<std::string>& names) {
  int failed = 0, checked = 0;
  PrintSnapshotHeader();
  for (auto m : list) {
    if (!names.empty() && std::find(names.begin(), names.end(), m.name) == names.end()) continue;
    ++checked;
    m = backup::VerifySnapshotFile(dir + "/" + m.name, m);
    if (!m.verified) ++failed;
    if (Status st = backup::WriteManifest(dir, m); !st.ok()) {
      std::cerr << "cairn snapshot: writing the manifest of " << m.name << ": " << st.message()
                << "\n";
      ++failed;
    }
    PrintSnapshotRow(m);
  }
  if (!names.empty() && checked != static_cast<int>(names.size())) {
    return Fail("some of the named snapshots are not in " + dir);
  }
  std::cout << checked << " checked, " << checked - failed << " verified, " << failed
            << " failed\n";
  return failed == 0 ? 0 : 1;
}

int OfflinePrune(const std::string& dir, const std::string& prefix, const cxxopts::ParseResult& r) {
  if (!r.count("keep")) return Fail("--keep is required (e.g. --keep \"last 3 daily 7\")");
  auto policy = backup::ParsePolicy(r["keep"].as<std::string>());
  if (!policy.ok()) return Fail(policy.status().message());
  policy->local_time = r.count("local-time") > 0;
  bool dry = r.count("dry-run") > 0;
  auto decisions = backup::PruneSnapshots(dir, prefix, *policy, dry);
  if (!decisions.ok()) return Fail(decisions.status().message());
  PrintPruneDecisions(*decisions, dry);
  return 0;
}

Status CopyFile(const std::string& from, persist::FileSink* to) {
  std::ifstream in(from, std::ios::binary);
  if (!in) return ErrnoStatus("open " + from, errno);
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    if (in.gcount() > 0) {
      if (Status s = to->Write(buf.data(), static_cast<size_t>(in.gcount())); !s.ok()) return s;
    }
  }
  if (in.bad()) return Status::IOError("reading " + from + " failed");
  return to->Sync();
}

// Copies snapshot `name` to the new file `to`: into a temp file beside it, verified
// there (what lands at `to` is what was checked), then renamed into place. Any
// failure removes the temp file, so `to` is whole or absent.
int OfflineRestore(const std::string& dir, const std::vector<backup::SnapshotMeta>& list,
                   const std::string& requested, const std::string& to, bool force) {
  const backup::SnapshotMeta* it = backup::FindSnapshot(list, requested);
  if (it == nullptr)
    return Fail((requested == "latest" ? "no verified snapshot" : "no snapshot " + requested) +
                " in " + dir + " (see list --dir)");
  const std::string& name = it->name;
  if (to.empty() || to.back() == '/')
    return Fail("--to " + to + " must name the file to write, e.g. /var/lib/cairn/dump.rdb");
  struct stat st;
  if (stat(to.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode))
      return Fail("--to " + to + " is a directory: give the file to write, e.g. " + to +
                  "/dump.rdb");
    return Fail("--to " + to +
                " exists; restore never replaces a file: move it aside first (and stop the node "
                "that uses it)");
  }
  if (errno != ENOENT) return Fail(ErrnoStatus("--to " + to, errno).message());

  auto sink = persist::FileSink::Create(to);
  if (!sink.ok()) return Fail("writing " + to + ": " + sink.status().message());
  if (Status s = CopyFile(dir + "/" + name, sink->get()); !s.ok())
    return Fail("copying " + name + ": " + s.message() + " (" + to + " not written)");
  backup::SnapshotMeta m = backup::VerifySnapshotFile((*sink)->temp_path(), *it);
  if (!m.verified && !force)
    return Fail("snapshot " + name + " does not verify: " + m.verify_error + "; " + to +
                " not written (--force copies it anyway)");
  if (Status s = (*sink)->Commit(); !s.ok()) return Fail("writing " + to + ": " + s.message());

  if (m.verified) {
    std::cout << "Restored " << name << " (" << m.keys << " keys, " << HumanSize(m.size)
              << ", verified) to " << to << "\n";
  } else {
    std::cout << "Restored " << name << " to " << to
              << " WITHOUT verification (--force): " << m.verify_error << "\n";
  }
  size_t slash = to.rfind('/');
  std::string to_dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : to.substr(0, slash));
  std::string to_file = slash == std::string::npos ? to : to.substr(slash + 1);
  std::cout << "Next: with the node stopped, start it on this file:\n"
            << "  cairn server --dir " << to_dir << " --dbfilename " << to_file
            << " --appendonly no\n"
            << "(or the same dir/dbfilename in its config file; stock redis-server loads it too).\n"
            << "Leave out replicaof, or a replica replaces the data with its master's; with\n"
            << "appendonly yes the AOF, not this file, would be loaded.\n";
  return 0;
}

int Offline(const std::string& action, const std::vector<std::string>& names,
            const cxxopts::ParseResult& r) {
  if (action == "create")
    return Fail(
        "create needs a running node (it writes its dataset): leave out --dir, and say which "
        "node with -h HOST -p PORT");
  if (action != "list" && action != "verify" && action != "prune" && action != "restore")
    return Fail("unknown action '" + action + "' (list, create, verify, prune, restore)");
  if (r.count("timeout")) return Fail("--timeout applies to create on a running node");
  if (action != "restore" && r.count("to")) return Fail("--to applies to restore only");
  if ((action == "list" || action == "prune") && !names.empty())
    return Fail(action + " takes no snapshot names");
  std::string dir = r["dir"].as<std::string>();
  std::string prefix = r["prefix"].as<std::string>();
  auto list = backup::ListSnapshots(dir, prefix);
  if (!list.ok()) return Fail(list.status().message());

  if (action == "list") {
    PrintSnapshotList(*list);
    return 0;
  }
  if (action == "verify") return OfflineVerify(dir, *list, names);
  if (action == "prune") return OfflinePrune(dir, prefix, r);
  if (names.size() != 1)
    return Fail("restore takes one snapshot name or 'latest' (see list --dir)");
  if (!r.count("to"))
    return Fail(
        "offline restore needs --to PATH, the RDB file to write (e.g. the dir/dbfilename "
        "of a stopped node)");
  return OfflineRestore(dir, *list, names[0], r["to"].as<std::string>(), r.count("force") > 0);
}

int Online(const std::string& action, const std::vector<std::string>& names,
           const cxxopts::ParseResult& r) {
  if (r.count("keep"))
    return Fail(
        "--keep works with --dir; a running node prunes by its own snapshot-keep (CONFIG GET / "
        "CONFIG SET snapshot-keep)");
  for (const char* offline_only : {"local-time", "prefix", "to"}) {
    if (r.count(offline_only))
      return Fail(std::string("--") + offline_only +
                  " applies with --dir DIR only (a running node uses its own config)");
  }
  RemoteSnapshotRequest req;
  req.action = action;
  req.names = names;
  req.dry_run = r.count("dry-run") > 0;
  req.force = r.count("force") > 0;
  req.timeout_seconds = r["timeout"].as<int>();
  if (req.timeout_seconds <= 0) return Fail("--timeout takes a positive number of seconds");
  req.connection = ConnectionFrom(r);
  return RemoteSnapshot(req);
}

}  // namespace

int RunSnapshot(const std::vector<std::string>& args) {
  if (args.empty() || (args.size() == 1 && (args[0] == "-h" || args[0] == "--help"))) {
    std::cout << kHelp;
    return args.empty() ? 1 : 0;
  }
  cxxopts::Options opts("cairn snapshot", "Snapshots of a backup node");
  opts.add_options()("help", "Show this help")("dir", "the snapshot directory (offline)",
                                               cxxopts::value<std::string>())(
      "prefix", "snapshot file prefix", cxxopts::value<std::string>()->default_value("dump"))(
      "keep", "retention rules (offline prune)", cxxopts::value<std::string>())(
      "local-time", "retention periods in the local time zone instead of UTC (offline prune)")(
      "dry-run", "print what prune would remove, remove nothing")(
      "force", "restore a snapshot that did not verify")(
      "to", "the RDB file offline restore writes", cxxopts::value<std::string>())(
      "timeout", "seconds create waits for the snapshot",
      cxxopts::value<int>()->default_value("3600"))(
      "action", "list, create, verify, prune, restore", cxxopts::value<std::string>())(
      "names", "snapshot names", cxxopts::value<std::vector<std::string>>());
  AddConnectionOptions(opts);
  opts.parse_positional({"action", "names"});
  std::vector<const char*> argv{"cairn snapshot"};
  for (const auto& a : args) argv.push_back(a.c_str());
  cxxopts::ParseResult r;
  try {
    r = opts.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const std::exception& e) {
    return Fail(std::string(e.what()) + " (see cairn snapshot --help)");
  }
  if (r.count("help")) {
    std::cout << kHelp;
    return 0;
  }
  if (!r.count("action")) return Fail("no action given (list, create, verify, prune, restore)");
  const std::string action = r["action"].as<std::string>();
  std::vector<std::string> names;
  if (r.count("names")) names = r["names"].as<std::vector<std::string>>();
  if (!r.count("dir")) return Online(action, names, r);
  if (ConnectionOptionsGiven(r))
    return Fail(
        "--dir works on a snapshot directory without a node; -h/-p/-s/-a/--user talk to a "
        "running node: give one or the other");
  return Offline(action, names, r);
}

}  // namespace cairn::server

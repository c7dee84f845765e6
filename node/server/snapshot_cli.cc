// `cairn snapshot`; see snapshot_cli.h.
#include "node/server/snapshot_cli.h"

#include <algorithm>
#include <ctime>
#include <cxxopts.hpp>
#include <iostream>

#include "backup/snapshot_store.h"

namespace cairn::server {
namespace {

constexpr const char* kHelp =
    "Usage:\n"
    "  cairn snapshot list   --dir DIR\n"
    "  cairn snapshot verify --dir DIR [NAME ...]\n"
    "  cairn snapshot prune  --dir DIR --keep \"last 3 daily 7 weekly 4 monthly 12\" [--dry-run]\n"
    "\n"
    "Works on a snapshot directory (snapshot-dir of a backup node) without a running node.\n"
    "Snapshots are dump-YYYYMMDDTHHMMSSZ.rdb files (UTC), each with a .meta manifest.\n"
    "  list    one line per snapshot: time, kind, size, keys, verification\n"
    "  verify  parses every snapshot (or the NAMEs) completely, checks its CRC64 and\n"
    "          records the result in its manifest; exit 1 if any fails\n"
    "  prune   removes what the retention rules (restic's forget semantics) do not keep;\n"
    "          never the newest verified snapshot; --dry-run prints the decisions only\n"
    "\n";

std::string HumanSize(uint64_t b) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  double v = static_cast<double>(b);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

std::string Utc(int64_t secs) {
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

std::string Pad(std::string s, size_t w) {
  if (s.size() < w) s.append(w - s.size(), ' ');
  return s;
}

void PrintHeader() {
  std::cout << Pad("NAME", 34) << Pad("TAKEN (UTC)", 21) << Pad("KIND", 11) << Pad("SIZE", 11)
            << Pad("KEYS", 11) << "VERIFIED\n";
}

void PrintRow(const backup::SnapshotMeta& m) {
  std::string verified =
      m.verified ? "yes" : (m.verify_error.empty() ? "not yet" : "FAILED: " + m.verify_error);
  std::cout << Pad(m.name, 34) << Pad(Utc(m.unix_seconds), 21) << Pad(m.kind, 11)
            << Pad(HumanSize(m.size), 11) << Pad(m.verified ? std::to_string(m.keys) : "-", 11)
            << verified << "\n";
}

int Fail(const std::string& msg) {
  std::cerr << "cairn snapshot: " << msg << "\n";
  return 1;
}

}  // namespace

int RunSnapshot(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "-h" || args[0] == "--help") {
    std::cout << kHelp;
    return args.empty() ? 1 : 0;
  }
  std::string action = args[0];
  cxxopts::Options opts("cairn snapshot", "Snapshot directory of a backup node");
  opts.add_options()("h,help", "Show this help")("dir", "the snapshot directory",
                                                 cxxopts::value<std::string>())(
      "prefix", "snapshot file prefix", cxxopts::value<std::string>()->default_value("dump"))(
      "keep", "retention rules (prune)", cxxopts::value<std::string>())(
      "local-time", "retention periods in the local time zone instead of UTC (prune)")(
      "dry-run", "print what prune would remove, remove nothing")(
      "names", "snapshots to verify", cxxopts::value<std::vector<std::string>>());
  opts.parse_positional({"names"});
  std::vector<const char*> argv{"cairn snapshot"};
  for (size_t i = 1; i < args.size(); ++i) argv.push_back(args[i].c_str());
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
  if (!r.count("dir")) return Fail("--dir is required (the node's snapshot-dir)");
  std::string dir = r["dir"].as<std::string>();
  std::string prefix = r["prefix"].as<std::string>();
  auto list = backup::ListSnapshots(dir, prefix);
  if (!list.ok()) return Fail(list.status().message());

  if (action == "list") {
    PrintHeader();
    uint64_t bytes = 0;
    for (const auto& m : *list) {
      PrintRow(m);
      bytes += m.size;
    }
    std::cout << list->size() << " snapshot(s), " << HumanSize(bytes) << "\n";
    return 0;
  }
  if (action == "verify") {
    std::vector<std::string> names;
    if (r.count("names")) names = r["names"].as<std::vector<std::string>>();
    int failed = 0, checked = 0;
    PrintHeader();
    for (auto m : *list) {
      if (!names.empty() && std::find(names.begin(), names.end(), m.name) == names.end()) continue;
      ++checked;
      m = backup::VerifySnapshotFile(dir + "/" + m.name, m);
      if (!m.verified) ++failed;
      if (Status st = backup::WriteManifest(dir, m); !st.ok()) {
        std::cerr << "cairn snapshot: writing the manifest of " << m.name << ": " << st.message()
                  << "\n";
        ++failed;
      }
      PrintRow(m);
    }
    if (!names.empty() && checked != static_cast<int>(names.size())) {
      return Fail("some of the named snapshots are not in " + dir);
    }
    std::cout << checked << " checked, " << checked - failed << " verified, " << failed
              << " failed\n";
    return failed == 0 ? 0 : 1;
  }
  if (action == "prune") {
    if (!r.count("keep")) return Fail("--keep is required (e.g. --keep \"last 3 daily 7\")");
    auto policy = backup::ParsePolicy(r["keep"].as<std::string>());
    if (!policy.ok()) return Fail(policy.status().message());
    policy->local_time = r.count("local-time") > 0;
    bool dry = r.count("dry-run") > 0;
    auto decisions = backup::PruneSnapshots(dir, prefix, *policy, dry);
    if (!decisions.ok()) return Fail(decisions.status().message());
    size_t removed = 0;
    std::cout << Pad("NAME", 34) << Pad("TAKEN (UTC)", 21) << Pad("ACTION", 9) << "WHY\n";
    for (const auto& d : *decisions) {
      std::string why;
      for (const auto& reason : d.reasons) why += (why.empty() ? "" : ", ") + reason;
      if (!d.keep) {
        ++removed;
        why = "no rule keeps it";
      }
      std::cout << Pad(d.snapshot.name, 34) << Pad(Utc(d.snapshot.unix_seconds), 21)
                << Pad(d.keep ? "keep" : (dry ? "would remove" : "removed"), 9) << why << "\n";
    }
    std::cout << decisions->size() - removed << " kept, " << removed
              << (dry ? " would be removed (dry run)\n" : " removed\n");
    return 0;
  }
  return Fail("unknown action '" + action + "' (list, verify, prune)");
}

}  // namespace cairn::server

// Table output of `cairn snapshot` (see snapshot_table.h).
#include "node/server/snapshot_table.h"

#include <cstdio>
#include <ctime>
#include <iostream>

namespace cairn::server {
namespace {

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

}  // namespace

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

void PrintSnapshotHeader() {
  std::cout << Pad("NAME", 34) << Pad("TAKEN (UTC)", 21) << Pad("KIND", 11) << Pad("SIZE", 11)
            << Pad("KEYS", 11) << "VERIFIED\n";
}

void PrintSnapshotRow(const backup::SnapshotMeta& m) {
  std::string verified =
      m.verified ? "yes" : (m.verify_error.empty() ? "not yet" : "FAILED: " + m.verify_error);
  std::cout << Pad(m.name, 34) << Pad(Utc(m.unix_seconds), 21) << Pad(m.kind, 11)
            << Pad(HumanSize(m.size), 11) << Pad(m.verified ? std::to_string(m.keys) : "-", 11)
            << verified << "\n";
}

void PrintSnapshotList(const std::vector<backup::SnapshotMeta>& list) {
  PrintSnapshotHeader();
  uint64_t bytes = 0;
  for (const auto& m : list) {
    PrintSnapshotRow(m);
    bytes += m.size;
  }
  std::cout << list.size() << " snapshot(s), " << HumanSize(bytes) << "\n";
}

void PrintPruneDecisions(const std::vector<backup::RetentionDecision>& decisions, bool dry_run) {
  size_t removed = 0;
  std::cout << Pad("NAME", 34) << Pad("TAKEN (UTC)", 21) << Pad("ACTION", 14) << "WHY\n";
  for (const auto& d : decisions) {
    std::string why;
    for (const auto& reason : d.reasons) why += (why.empty() ? "" : ", ") + reason;
    if (!d.keep) {
      ++removed;
      why = "no rule keeps it";
    }
    std::cout << Pad(d.snapshot.name, 34) << Pad(Utc(d.snapshot.unix_seconds), 21)
              << Pad(d.keep ? "keep" : (dry_run ? "would remove" : "removed"), 14) << why << "\n";
  }
  std::cout << decisions.size() - removed << " kept, " << removed
            << (dry_run ? " would be removed (dry run)\n" : " removed\n");
}

}  // namespace cairn::server

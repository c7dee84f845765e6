// Snapshot retention, with the semantics of restic's `forget` policy: snapshots are
// walked newest first; keep-last keeps the N newest; each calendar rule (hourly,
// daily, weekly, monthly, yearly) keeps the newest snapshot of each of the N most
// recent periods that have one. A snapshot stays if any rule keeps it, and the
// reasons say which. On top of restic: the newest verified snapshot and any
// protected snapshot (being restored) are never removed, and a policy that keeps
// nothing keeps everything (an empty `snapshot-keep` is not "delete all").
//
// Periods are calendar periods in UTC, or in the process's local time zone
// (snapshot-timezone local): the hour or day of a snapshot is what a clock in
// that zone showed, DST included. Weeks are ISO 8601 weeks (Monday first, the
// week-numbering year).
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "node/base/status.h"

namespace cairn::backup {

struct RetentionPolicy {
  int last = 0, hourly = 0, daily = 0, weekly = 0, monthly = 0, yearly = 0;
  bool local_time = false;  // periods in the local zone instead of UTC

  bool KeepsEverything() const {
    return last == 0 && hourly == 0 && daily == 0 && weekly == 0 && monthly == 0 && yearly == 0;
  }
};

// "last 3 hourly 24 daily 7 weekly 4 monthly 12 yearly 2" (any subset, any order).
Result<RetentionPolicy> ParsePolicy(std::string_view text);
std::string FormatPolicy(const RetentionPolicy& p);

struct SnapshotRef {
  std::string name;
  int64_t unix_seconds = 0;  // when it was taken
  bool verified = true;      // read back and checked
};

struct RetentionDecision {
  SnapshotRef snapshot;
  bool keep = false;
  std::vector<std::string> reasons;  // "last", "hourly", ..., "newest verified", "protected"
};

// Decisions for every snapshot, newest first. `protect`: names never removed.
std::vector<RetentionDecision> ApplyPolicy(std::vector<SnapshotRef> snapshots,
                                           const RetentionPolicy& policy,
                                           const std::set<std::string>& protect = {});

}  // namespace cairn::backup

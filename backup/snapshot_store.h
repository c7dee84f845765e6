// The snapshot directory of a backup node: timestamped RDB files with a manifest
// beside each, listing, verification and pruning.
//
//   dump-20261123T030000Z.rdb        the snapshot: a plain RDB (loads in stock Redis)
//   dump-20261123T030000Z.rdb.meta   its manifest: "key: value" lines (below)
//
// Names sort by time (UTC, ISO 8601 basic format). The manifest records what the RDB
// does not say by itself: the kind (scheduled, manual, guard), the master it came
// from, and the result of the last verification (a full parse of the file with its
// CRC64); it is written atomically (temp file, fsync, rename, fsync of the
// directory). A snapshot without a manifest (copied in by hand) is listed as
// unverified until `verify` writes one.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "backup/retention.h"
#include "node/base/status.h"

namespace cairn::backup {

struct SnapshotMeta {
  std::string name;  // file name in the directory
  int64_t unix_seconds = 0;
  std::string kind = "manual";  // scheduled | manual | guard
  uint64_t size = 0;            // bytes of the RDB file
  std::string checksum;         // the RDB's CRC64 trailer, hex ("" when it has none)
  std::string repl_id;          // replication id and offset recorded in the RDB
  int64_t repl_offset = -1;
  std::string master;  // host:port it replicated from ("" for a master's own)
  uint64_t keys = 0;
  bool verified = false;
  std::string verify_error;  // why verification failed ("" when it passed or never ran)
  int64_t verified_unix_seconds = 0;
};

// "dump-20261123T030000Z.rdb" for `prefix` "dump".
std::string SnapshotName(const std::string& prefix, int64_t unix_seconds);
// The time in a snapshot name, or nullopt when `name` is not one.
std::optional<int64_t> ParseSnapshotName(const std::string& prefix, const std::string& name);

std::string ManifestText(const SnapshotMeta& m);
Result<SnapshotMeta> ParseManifest(const std::string& text);

// Every snapshot in `dir` (oldest first), with its manifest when there is one.
Result<std::vector<SnapshotMeta>> ListSnapshots(const std::string& dir, const std::string& prefix);

// The snapshot called `name` in `list`, or for "latest" (restic's word) the newest one
// that passed verification; nullptr when there is none.
const SnapshotMeta* FindSnapshot(const std::vector<SnapshotMeta>& list, const std::string& name);

// Parses the whole RDB (CRC64 included) and fills size, checksum, keys, repl id and
// offset; verified/verify_error tell the outcome. Every value is built and dropped at
// once, so memory stays at the largest value, not the dataset.
SnapshotMeta VerifySnapshotFile(const std::string& path, SnapshotMeta meta);

// Writes `<dir>/<meta.name>.meta` atomically.
Status WriteManifest(const std::string& dir, const SnapshotMeta& meta);

// Applies `policy` to the snapshots in `dir`; unless `dry_run`, removes the RDB and
// manifest of every snapshot it does not keep. Returns the decisions, newest first.
Result<std::vector<RetentionDecision>> PruneSnapshots(const std::string& dir,
                                                      const std::string& prefix,
                                                      const RetentionPolicy& policy, bool dry_run,
                                                      const std::set<std::string>& protect = {});

}  // namespace cairn::backup

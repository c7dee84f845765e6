// Backup mode as the command layer sees it: BackupControl, which BACKUP
// SNAPSHOT/LIST/PRUNE/PROMOTE/RESTORE, INFO backup, the write refusal of a backup
// node and the guard snapshot before a replicated FLUSHALL/FLUSHDB ask for. The
// server module implements it (node/server/backup_service.h).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "backup/retention.h"
#include "backup/snapshot_store.h"
#include "node/base/status.h"

namespace cairn::cmd {

class BackupControl {
 public:
  virtual ~BackupControl() = default;
  // BACKUP SNAPSHOT: starts a manual snapshot in a forked child; the name it
  // will have. Fails when another snapshot or child is running.
  virtual Result<std::string> Snapshot() = 0;
  // BACKUP LIST: the snapshot directory, oldest first.
  virtual Result<std::vector<backup::SnapshotMeta>> List() = 0;
  // BACKUP PRUNE [DRYRUN]: snapshot-keep applied; decisions newest first.
  virtual Result<std::vector<backup::RetentionDecision>> Prune(bool dry_run) = 0;
  // BACKUP PROMOTE [snapshot] [FORCE]: this backup replica becomes a writable
  // master, from live data or (first) from `snapshot`; FORCE loads a snapshot
  // that did not verify. Ok carries the reply line.
  virtual Result<std::string> Promote(const std::string& snapshot, bool force) = 0;
  // BACKUP RESTORE snapshot [FORCE]: a master replaces its dataset with a
  // snapshot (its replicas resync).
  virtual Result<std::string> Restore(const std::string& snapshot, bool force) = 0;

  // Client writes are refused: backup-mode holds and the node was not promoted.
  virtual bool WritesRefused() const = 0;
  // A FLUSHALL (db -1) or FLUSHDB (db) from the master is about to run.
  virtual void BeforeReplicatedFlush(int db) = 0;
  // INFO backup.
  virtual std::vector<std::pair<std::string, std::string>> InfoFields() = 0;
};

}  // namespace cairn::cmd

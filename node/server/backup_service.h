// BackupService: backup mode on a running node — the snapshot schedule, manual
// and guard snapshots, retention after each snapshot, the refusal of an empty
// or shrunken full sync, promotion and restore, INFO backup — behind
// cmd::BackupControl (BACKUP ...) and repl::SyncGuard (the replica's full sync).
//
// DESIGN
// - A snapshot is a forked child (as BGSAVE, one child at a time) that writes,
//   reads back and only then names the file (backup/snapshot_writer.h); the
//   parent learns the outcome when it reaps the child and prunes then. A failed
//   snapshot never prunes: the older snapshots are what is left.
// - A guard snapshot cannot wait for a busy child (the data is about to go):
//   then it is written in the loop, blocking, as SAVE would.
// - The schedule is backup/schedule.h's. A snapshot due while a child runs
//   starts when it ends.
// - Promotion lifts write protection, ends replication and rewrites the config
//   file (backup-mode no, no replicaof), so a restart cannot turn the promoted
//   node back into a replica of a master that came back empty.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "node/commands/backup.h"
#include "node/commands/server_state.h"
#include "node/config/config.h"
#include "node/replication/service.h"
#include "node/server/persistence_service.h"

namespace cairn::server {

class BackupService : public cmd::BackupControl, public repl::SyncGuard {
 public:
  BackupService(cmd::ServerState& state, config::Config& config, PersistenceService& persistence,
                repl::ReplicationService& replication);
  ~BackupService() override;

  // Checks the directives together, prepares the snapshot directory (removing
  // what an interrupted snapshot left) and plans the first scheduled snapshot.
  Status Init();
  // CONFIG SET of a backup-* or snapshot-* directive (or replica-read-only).
  Status ApplyConfig();
  // Every server cron tick: starts a due snapshot.
  void Cron();

  // cmd::BackupControl
  Result<std::string> Snapshot() override;
  Result<std::vector<backup::SnapshotMeta>> List() override;
  Result<std::vector<backup::RetentionDecision>> Prune(bool dry_run) override;
  Result<std::string> Promote(const std::string& snapshot, bool force) override;
  Result<std::string> Restore(const std::string& snapshot, bool force) override;
  bool WritesRefused() const override;
  void BeforeReplicatedFlush(int db) override;
  std::vector<std::pair<std::string, std::string>> InfoFields() override;

  // repl::SyncGuard
  void BeforeReplace(uint64_t held) override;
  void Synced(bool full) override;
  bool MayRefuse(uint64_t held) const override;
  bool Accept(uint64_t held, uint64_t incoming) override;
  int RetryDelaySeconds(int refusals) const override;

 private:
  struct Outcome {
    std::string name, kind, error;
    int64_t unix_seconds = 0;
    int64_t duration_ms = 0;
    uint64_t size = 0, keys = 0;
    bool ok = false;
  };

  std::string Dir() const;
  bool Active() const;  // a snapshot directory is in use (backup mode or a schedule)
  bool DirMissing() const;
  Status EnsureDir();
  // A snapshot of `kind` ("scheduled", "manual", "guard"): forked, or written in
  // the loop when `foreground` (a guard with a busy child). Fills *name.
  Status Take(const std::string& kind, bool foreground, std::string* name);
  backup::SnapshotMeta NewMeta(const std::string& kind);
  void Finished(Outcome o);
  void PruneAfterSnapshot();
  void RefreshListing();
  int64_t NextDue(int64_t now_s) const;
  // Loads `snapshot` in place of the dataset after checking its manifest ("latest":
  // the newest verified one; `snapshot` becomes its name).
  Status LoadSnapshot(std::string& snapshot, bool force);
  // A guard snapshot unless the newest snapshot already holds this data.
  void Guard(const char* why);

  cmd::ServerState& state_;
  config::Config& config_;
  PersistenceService& persistence_;
  repl::ReplicationService& replication_;

  bool promoted_ = false;
  int64_t next_due_s_ = -1;   // -1: nothing scheduled
  bool due_waiting_ = false;  // a scheduled snapshot waits for a busy child
  // The snapshot being written by a child.
  std::string running_name_;
  int64_t running_start_ms_ = 0;
  Outcome last_;
  // What the newest good snapshot holds (to skip a guard that would repeat it).
  std::string last_repl_id_;
  int64_t last_repl_offset_ = -1;
  std::string running_repl_id_;
  int64_t running_repl_offset_ = -1;
  // Counters (INFO backup).
  uint64_t taken_ = 0, failed_ = 0, guards_ = 0, refused_ = 0, pruned_ = 0;
  int64_t last_refused_s_ = 0;
  uint64_t last_refused_held_ = 0, last_refused_incoming_ = 0;
  std::string alert_;
  std::string data_master_;  // host:port the data came from (a switch keeps the old one
                             // until the new master's sync completes)
  // The directory as last listed.
  uint64_t disk_count_ = 0, disk_bytes_ = 0, disk_verified_ = 0;
  std::string protected_;  // the snapshot being restored: never pruned meanwhile
};

}  // namespace cairn::server

// PersistenceService: the node's RDB (and, with appendonly, AOF) life cycle —
// load at startup, SAVE, BGSAVE through a forked child, save points, DEBUG
// RELOAD, the final save at shutdown — behind cmd::PersistenceControl.
//
// DESIGN
// - One child at a time (as Redis): a BGSAVE asked for while another child runs
//   is refused or, with SCHEDULE, started by the cron when the child ends.
// - Files are written through persist::FileSink: temp file, fsync, rename,
//   fsync of the directory; a failure or a crash leaves the old file intact.
// - With appendonly, the AofManager appends every propagated write; the AOF
//   rewrite is the same one-child fork as BGSAVE.
// - Loading runs before the loop serves; every 1024 keys the loader calls back
//   and the service lets the loop answer clients (-LOADING, INFO loading:1).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "node/commands/persistence.h"
#include "node/commands/server_state.h"
#include "node/config/config.h"
#include "node/persistence/fork_child.h"
#include "node/persistence/rdb_reader.h"
#include "node/persistence/rdb_writer.h"
#include "node/replication/master.h"
#include "node/replication/service.h"
#include "node/server/aof_manager.h"

namespace cairn::server {

class PersistenceService : public cmd::PersistenceControl,
                           public repl::SnapshotSource,
                           public repl::DatasetLoader {
 public:
  PersistenceService(cmd::ServerState& state, config::Config& config);
  ~PersistenceService() override;

  // Loads the dataset at startup: with appendonly, the AOF (or, when there is
  // none yet, the RDB, from which the AOF is then created); otherwise the RDB
  // at dir/dbfilename when it exists. `serve` runs pending events and returns
  // false when loading must stop; `exec` runs one AOF command.
  Status LoadAtStartup(const std::function<bool()>& serve, const AofManager::Executor& exec);
  // Before each batch's replies leave: write (and per policy fsync) the AOF.
  void BeforeReplies() { aof_->Flush(); }
  // CONFIG SET appendonly yes|no.
  Status SetAppendOnly(bool on);
  // The cron's share: reaps a finished child, starts scheduled BGSAVEs and
  // BGSAVEs due by the save points.
  void Cron();
  // The save SHUTDOWN/SIGTERM do (when save points exist or `force_save`,
  // unless `nosave`). False when the save failed and the node must stay up
  // (unless `force`).
  bool PrepareForShutdown(bool force_save, bool nosave, bool force);

  // cmd::PersistenceControl
  Status Save() override;
  Result<std::string> BackgroundSave(bool schedule) override;
  Result<std::string> RewriteAof() override;
  Status DebugReload(bool save, bool flush) override;
  void AfterFlushAll() override;

  std::string RdbPath() const override;

  // --- for replication (node/replication/master.h, replica.h) ---
  // Fills the replication aux fields (repl-id, repl-offset, repl-stream-db)
  // every RDB this node writes carries; false when there is no history.
  std::function<bool(persist::RdbAuxInfo*)> repl_save_info;
  // Called when an RDB child ends: ok, and whether it wrote to a pipe
  // (diskless replication) rather than dir/dbfilename.
  std::function<void(bool ok, bool to_pipe)> on_rdb_child_done;
  bool ChildActive() const override { return child_ != nullptr; }
  // A BGSAVE to dir/dbfilename is running (replicas may wait for its end).
  bool DiskSaveInProgress() const override {
    return child_ && state_.persist.child == cmd::ChildKind::kRdb && !child_to_pipe_;
  }
  // Forks an RDB child for replication: to dir/dbfilename (pipe_fd < 0), or
  // to pipe_fd as "$EOF:<mark>\r\n<rdb><mark>" (diskless; the parent keeps
  // its own end and the child's copy is closed here).
  Status StartReplicationSave(int pipe_fd, int read_fd, const std::string& eof_mark,
                              bool lzf) override;
  void AbortReplicationSave() override {
    if (child_to_pipe_) KillChild();
  }
  // Replaces the dataset with an RDB received from a master: the file at
  // `path`, or `data` when path is empty. With `swap`, loads into fresh
  // databases and swaps them in only on success; otherwise empties first.
  Status LoadReplicationRdb(
      const std::string& path, std::string_view data, bool swap, persist::RdbLoadInfo* info,
      const std::function<bool(const persist::RdbLoadInfo&)>& accept = nullptr) override;

  // --- for backup mode (node/server/backup_service.h) ---
  // The options every RDB this node writes uses (aux fields included).
  persist::RdbWriteOptions WriteOptions(bool aof_base = false) const;
  // Forks a snapshot child running `body`; `target` is the file it creates
  // (its temp files are removed if the child is killed); `done` runs in the
  // parent when the child ends or is killed.
  Status StartSnapshotChild(const std::string& target,
                            const std::function<int(persist::ChildReport*)>& body,
                            std::function<void(const persist::ChildExit&)> done);
  // Replaces the dataset with the RDB at `path` (into fresh databases, swapped
  // in only on success; blocking). `verify_checksum` false loads a file whose
  // CRC does not match.
  Status ReplaceDataset(const std::string& path, bool verify_checksum, persist::RdbLoadInfo* info);
  // The aux fields of the RDB loaded at startup (repl-id, repl-offset ...).
  const std::map<std::string, std::string>& startup_aux() const { return startup_aux_; }
  // Lets the loop serve clients (-LOADING) while a long load runs.
  std::function<bool()> serve_while_loading;

 private:
  persist::RdbLoadOptions LoadOptions() const;
  Status LoadRdb(const std::string& path, const std::function<bool()>& serve);
  void LogLoaded(const persist::RdbLoadInfo& info);
  // The loading state, progress and logging around `load` (LoadRdb's core).
  Status LoadWithProgress(uint64_t total_bytes, const std::function<bool()>& serve,
                          const std::function<Status(persist::RdbLoadOptions&)>& load);
  // Writes the RDB in the foreground (SAVE, FLUSHALL, shutdown); a failure
  // is logged and returned but, as in Redis, does not mark the last bgsave.
  Status SaveInForeground();
  Status StartBackgroundSave();
  // Forks a child that writes the dataset as an RDB to target(its pid) and
  // reports its copy-on-write size; records the fork and the target.
  Status ForkSaver(cmd::ChildKind kind, const std::function<std::string(pid_t)>& target,
                   const persist::RdbWriteOptions& opts);
  // Removes what a failed or killed child left: its FileSink temp file and,
  // for an AOF rewrite, the unfinished output.
  void RemoveChildFiles(pid_t pid);
  Status StartAofRewrite();
  // When the AOF no longer describes the data in memory (a full sync or a restore
  // replaced it, or appendonly was off for a while): a new base from memory, so a
  // restart does not bring the old data back. Foreground, as SAVE.
  void RebaseAof(const char* why);
  Status WriteAofBase(const std::string& path);
  void ChildFinished(const persist::ChildExit& e);
  void KillChild();
  // A snapshot child ended (reaped or killed): the slot frees, its callback runs.
  void SnapshotChildEnded(const persist::ChildExit& e);

  cmd::ServerState& state_;
  config::Config& config_;
  std::unique_ptr<AofManager> aof_;
  std::unique_ptr<persist::ForkedChild> child_;
  std::string child_target_;    // the file the child writes (dump.rdb, or the rewrite's temp)
  bool child_to_pipe_ = false;  // a diskless replication child
  std::map<std::string, std::string> startup_aux_;
  int64_t dirty_before_bgsave_ = 0;
  int64_t lastbgsave_try_s_ = 0;
  std::function<void(const persist::ChildExit&)> snapshot_done_;
};

}  // namespace cairn::server

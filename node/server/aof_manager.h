// AofManager: the append-only file — Redis 7's multi-part layout (see
// node/persistence/aof_manifest.h) — as a propagation sink: every write is
// appended in RESP form to the current INCR file, written before the replies
// leave (end of each event batch) and fsynced per appendfsync.
//
// DESIGN
// - appendfsync always: write + fdatasync in the loop before replies go out.
//   everysec: a helper thread fdatasyncs at most once a second (it never logs
//   or takes a lock a forked child could need). no: the kernel decides.
// - A failed or short write truncates the file back to its last good size,
//   keeps the buffer, reports aof_last_write_status:err (writes get -MISCONF)
//   and is retried by the cron; nothing acknowledged is lost.
// - Rewrite (BGREWRITEAOF, auto-aof-rewrite-*): the parent opens a new INCR
//   file and records it in the manifest at once; the forked child writes an
//   RDB preamble to a temp file; on success the parent renames it into a new
//   BASE, writes a manifest of that base plus the new INCR, and deletes the
//   old files. A failure at any point leaves a manifest that loads.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "node/base/status.h"
#include "node/commands/propagate.h"
#include "node/commands/server_state.h"
#include "node/config/config.h"
#include "node/persistence/aof_manifest.h"
#include "node/persistence/rdb_reader.h"

namespace cairn::server {

class AofManager : public cmd::PropagationSink {
 public:
  // Runs one command of the file (argv[0] = name); returns an error for an
  // unknown command.
  using Executor = std::function<Status(cmd::ClientState&, const std::vector<std::string_view>&)>;

  AofManager(cmd::ServerState& state, config::Config& config);
  ~AofManager() override;

  std::string Dir() const;
  // True when the AOF directory has a manifest.
  bool Exists() const;
  // Loads the base (an RDB, read with `rdb_opts`, or commands) and every INCR file.
  Status Load(const Executor& exec, const std::function<bool()>& serve,
              persist::RdbLoadOptions rdb_opts);
  // Starts appending: creates the directory, a base written by `write_base`
  // (the current dataset as an RDB) when none exists, the INCR file, the
  // manifest; registers as a propagation sink.
  Status Start(const std::function<Status(const std::string& path)>& write_base);
  // Flushes, fsyncs, unregisters, closes (appendonly no, shutdown).
  void Stop();
  bool active() const { return fd_ >= 0; }

  void Feed(int db, const std::vector<std::string>& argv) override;
  // Writes the buffer (and fsyncs with appendfsync always). `force` also
  // fsyncs under everysec (shutdown).
  void Flush(bool force = false);
  void Cron();

  // Rewrite steps (the service forks between Begin and Finish).
  Status BeginRewrite();
  std::string RewriteTempPath(int pid) const;
  Status FinishRewrite(const std::string& temp_path);
  // Whether the auto-aof-rewrite-* thresholds ask for a rewrite now.
  bool RewriteDue() const;

 private:
  Status OpenIncr(const std::string& name);
  void CloseFd();
  // Runs the commands of one file (`data`, the mapped file at `path`).
  Status LoadCommands(std::string_view data, const std::string& path, bool last,
                      const Executor& exec, const std::function<bool()>& serve,
                      cmd::ClientState& client);
  void FsyncThread();
  void RequestFsync();
  // Stats the manifest's files for aof_current_size/aof_base_size; runs when the
  // set of files changes (writes only add to written_).
  void MeasureFiles();

  cmd::ServerState& state_;
  config::Config& config_;
  persist::AofManifest manifest_;
  int fd_ = -1;
  std::string incr_path_;
  int selected_db_ = -1;
  std::string buf_;
  uint64_t written_ = 0;            // bytes in the current INCR file
  uint64_t base_and_history_ = 0;   // bytes of the base and older INCR files
  uint64_t rewrite_base_size_ = 0;  // aof_current_size right after the last rewrite
  int64_t last_fsync_ms_ = 0;
  bool unsynced_ = false;  // written since the last fsync request
  int64_t last_error_log_ms_ = 0;

  // everysec fsync thread: the fd to sync (dup'ed, owned by the thread once
  // taken) and whether one is in progress.
  std::thread fsync_thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  int fsync_fd_ = -1;
  bool fsync_running_ = false;
  bool stop_thread_ = false;
  int fsync_errno_ = 0;
};

}  // namespace cairn::server

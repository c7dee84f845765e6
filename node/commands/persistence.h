// Persistence as the command layer sees it: the counters INFO's Persistence
// section reports, and PersistenceControl, the operations SAVE, BGSAVE,
// BGREWRITEAOF, DEBUG RELOAD and SHUTDOWN ask for. The server module implements
// the interface (node/server/persistence_service.h); commands never fork or
// touch files themselves.
#pragma once

#include <cstdint>
#include <string>

#include "node/base/status.h"

namespace cairn::cmd {

// What a forked child is doing (Redis allows one child at a time).
enum class ChildKind { kNone, kRdb, kAof, kSnapshot };  // kSnapshot: backup mode

struct PersistStats {
  ChildKind child = ChildKind::kNone;
  int64_t child_start_ms = 0;
  // RDB (names follow INFO's fields)
  bool last_bgsave_ok = true;
  int64_t rdb_last_bgsave_time_sec = -1;
  uint64_t rdb_saves = 0;
  uint64_t rdb_last_cow_size = 0;
  uint64_t rdb_last_load_keys_loaded = 0;
  uint64_t rdb_last_load_keys_expired = 0;
  bool bgsave_scheduled = false;
  // Loading (while `loading` is set in ServerState)
  int64_t loading_start_s = 0;
  uint64_t loading_total_bytes = 0;
  uint64_t loading_loaded_bytes = 0;
  uint64_t loading_rdb_used_mem = 0;
  // Forks
  uint64_t total_forks = 0;
  int64_t latest_fork_usec = 0;
  // AOF
  bool aof_enabled = false;
  bool aof_rewrite_scheduled = false;
  int64_t aof_last_rewrite_time_sec = -1;
  bool aof_last_bgrewrite_ok = true;
  uint64_t aof_rewrites = 0;
  uint64_t aof_rewrites_consecutive_failures = 0;
  int aof_last_write_errno = 0;  // 0: the last write succeeded
  uint64_t aof_last_cow_size = 0;
  uint64_t aof_current_size = 0;
  uint64_t aof_base_size = 0;
  uint64_t aof_buffer_length = 0;
  uint64_t aof_delayed_fsync = 0;
  bool aof_pending_fsync = false;
};

class PersistenceControl {
 public:
  virtual ~PersistenceControl() = default;
  // SAVE: writes the RDB now, in the foreground.
  virtual Status Save() = 0;
  // BGSAVE [SCHEDULE]. Ok carries the status reply ("Background saving
  // started"); errors carry Redis's message.
  virtual Result<std::string> BackgroundSave(bool schedule) = 0;
  // BGREWRITEAOF.
  virtual Result<std::string> RewriteAof() = 0;
  // DEBUG RELOAD: save (unless !save), flush (unless !flush), load the RDB.
  virtual Status DebugReload(bool save, bool flush) = 0;
  // FLUSHALL emptied every db: stop a BGSAVE child; with save points, save now.
  virtual void AfterFlushAll() = 0;
};

}  // namespace cairn::cmd
